-- CreateTable
CREATE TABLE "passports" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" TEXT NOT NULL,
    "number" TEXT NOT NULL,
    "number_idx" TEXT NOT NULL,
    CONSTRAINT "passports_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "passports_user_id_key" ON "passports"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "passports_number_idx_key" ON "passports"("number_idx");
