-- CreateTable
CREATE TABLE "shipments" (
    "id" BIGINT NOT NULL,
    "ref" TEXT NOT NULL,

    CONSTRAINT "shipments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shipment_labels" (
    "id" BIGINT NOT NULL,
    "address" TEXT NOT NULL,

    CONSTRAINT "shipment_labels_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "shipment_labels" ADD CONSTRAINT "shipment_labels_id_fkey" FOREIGN KEY ("id") REFERENCES "shipments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
