-- CreateTable
CREATE TABLE `billings` (
    `id` VARCHAR(191) NOT NULL,
    `org_id` VARCHAR(191) NOT NULL,
    `iban` TEXT NULL,

    UNIQUE INDEX `billings_org_id_key`(`org_id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `folders` (
    `id` VARCHAR(191) NOT NULL,
    `tenant_id` TEXT NOT NULL,
    `parent_id` VARCHAR(191) NULL,
    `name` TEXT NOT NULL,
    `name_idx` VARCHAR(191) NOT NULL,

    INDEX `folders_name_idx_idx`(`name_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `labels` (
    `id` VARCHAR(191) NOT NULL,
    `tenant_id` TEXT NOT NULL,
    `text` TEXT NOT NULL,
    `text_idx` VARCHAR(191) NOT NULL,

    INDEX `labels_text_idx_idx`(`text_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `_FolderToLabel` (
    `A` VARCHAR(191) NOT NULL,
    `B` VARCHAR(191) NOT NULL,

    UNIQUE INDEX `_FolderToLabel_AB_unique`(`A`, `B`),
    INDEX `_FolderToLabel_B_index`(`B`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- AddForeignKey
ALTER TABLE `billings` ADD CONSTRAINT `billings_org_id_fkey` FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `folders` ADD CONSTRAINT `folders_parent_id_fkey` FOREIGN KEY (`parent_id`) REFERENCES `folders`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `_FolderToLabel` ADD CONSTRAINT `_FolderToLabel_A_fkey` FOREIGN KEY (`A`) REFERENCES `folders`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `_FolderToLabel` ADD CONSTRAINT `_FolderToLabel_B_fkey` FOREIGN KEY (`B`) REFERENCES `labels`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
