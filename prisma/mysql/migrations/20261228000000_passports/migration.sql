-- CreateTable
CREATE TABLE `passports` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `user_id` VARCHAR(191) NOT NULL,
    `number` TEXT NOT NULL,
    `number_idx` VARCHAR(191) NOT NULL,

    UNIQUE INDEX `passports_user_id_key`(`user_id`),
    UNIQUE INDEX `passports_number_idx_key`(`number_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- AddForeignKey
ALTER TABLE `passports` ADD CONSTRAINT `passports_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
