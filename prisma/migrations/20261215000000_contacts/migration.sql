-- CreateTable
CREATE TABLE "contacts" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "name_match" INTEGER[],
    "city" TEXT,
    "city_match" INTEGER[],
    "city_idx" TEXT,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "contacts_name_match_idx" ON "contacts" USING GIN ("name_match");

-- CreateIndex
CREATE INDEX "contacts_city_match_idx" ON "contacts" USING GIN ("city_match");
