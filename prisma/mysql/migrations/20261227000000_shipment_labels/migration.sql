-- CreateTable
CREATE TABLE `shipments` (
    `id` BIGINT NOT NULL,
    `ref` TEXT NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `shipment_labels` (
    `id` BIGINT NOT NULL,
    `address` TEXT NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- AddForeignKey
ALTER TABLE `shipment_labels` ADD CONSTRAINT `shipment_labels_id_fkey` FOREIGN KEY (`id`) REFERENCES `shipments`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
