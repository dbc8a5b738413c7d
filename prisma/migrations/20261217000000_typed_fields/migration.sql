-- CreateTable
CREATE TABLE "documents" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "meta" JSONB,
    "blob" BYTEA,
    "tags" TEXT[],
    "note" TEXT,

    CONSTRAINT "documents_pkey" PRIMARY KEY ("id")
);
