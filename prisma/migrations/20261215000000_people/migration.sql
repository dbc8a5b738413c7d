-- CreateTable
CREATE TABLE "people" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "name_match" INTEGER[],
    "city" TEXT,
    "city_match" INTEGER[],
    "city_idx" TEXT,

    CONSTRAINT "people_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "people_name_match_idx" ON "people" USING GIN ("name_match");

-- CreateIndex
CREATE INDEX "people_city_match_idx" ON "people" USING GIN ("city_match");
