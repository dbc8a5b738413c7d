-- CreateTable
CREATE TABLE "lockers" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "site_code" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "owner_idx" TEXT NOT NULL,
    "note" TEXT
);

-- CreateIndex
CREATE INDEX "lockers_owner_idx_idx" ON "lockers"("owner_idx");
