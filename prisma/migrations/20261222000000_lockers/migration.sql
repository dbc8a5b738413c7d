-- CreateTable
CREATE TABLE "lockers" (
    "id" TEXT NOT NULL,
    "site_code" CHAR(8) NOT NULL,
    "owner" TEXT NOT NULL,
    "owner_idx" TEXT NOT NULL,
    "note" VARCHAR(300),

    CONSTRAINT "lockers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "lockers_owner_idx_idx" ON "lockers"("owner_idx");
