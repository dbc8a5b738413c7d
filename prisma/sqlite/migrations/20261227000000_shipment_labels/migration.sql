-- CreateTable
CREATE TABLE "shipments" (
    "id" BIGINT NOT NULL PRIMARY KEY,
    "ref" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "shipment_labels" (
    "id" BIGINT NOT NULL PRIMARY KEY,
    "address" TEXT NOT NULL,
    CONSTRAINT "shipment_labels_id_fkey" FOREIGN KEY ("id") REFERENCES "shipments" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
