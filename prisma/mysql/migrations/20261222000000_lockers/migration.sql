-- CreateTable
CREATE TABLE `lockers` (
    `id` VARCHAR(191) NOT NULL,
    `site_code` CHAR(8) NOT NULL,
    `owner` TEXT NOT NULL,
    `owner_idx` VARCHAR(191) NOT NULL,
    `note` VARCHAR(300) NULL,

    INDEX `lockers_owner_idx_idx`(`owner_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
