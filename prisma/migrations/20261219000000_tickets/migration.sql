-- CreateTable
CREATE TABLE "tickets" (
    "id" SERIAL NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "detail" TEXT,

    CONSTRAINT "tickets_pkey" PRIMARY KEY ("id")
);
