-- CreateTable
CREATE TABLE "receipts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "public_id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "payee" TEXT NOT NULL,
    "payee_idx" TEXT NOT NULL,
    "memo" TEXT,
    CONSTRAINT "receipts_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "vouchers" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "code" TEXT NOT NULL,
    "secret" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "receipts_public_id_key" ON "receipts"("public_id");

-- CreateIndex
CREATE INDEX "receipts_payee_idx_idx" ON "receipts"("payee_idx");

-- CreateIndex
CREATE UNIQUE INDEX "vouchers_code_key" ON "vouchers"("code");
