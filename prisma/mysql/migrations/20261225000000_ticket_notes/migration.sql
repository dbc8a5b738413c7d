-- CreateTable
CREATE TABLE `ticket_notes` (
    `id` INTEGER NOT NULL,
    `body` TEXT NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- AddForeignKey
ALTER TABLE `ticket_notes` ADD CONSTRAINT `ticket_notes_id_fkey` FOREIGN KEY (`id`) REFERENCES `tickets`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
