-- CreateTable
CREATE TABLE "receipts" (
    "id" SERIAL NOT NULL,
    "public_id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "payee" TEXT NOT NULL,
    "payee_idx" TEXT NOT NULL,
    "memo" TEXT,

    CONSTRAINT "receipts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vouchers" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "secret" TEXT NOT NULL,

    CONSTRAINT "vouchers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "receipts_public_id_key" ON "receipts"("public_id");

-- CreateIndex
CREATE INDEX "receipts_payee_idx_idx" ON "receipts"("payee_idx");

-- CreateIndex
CREATE UNIQUE INDEX "vouchers_code_key" ON "vouchers"("code");

-- AddForeignKey
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
