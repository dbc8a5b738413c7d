-- The test schema on MySQL 8 / MariaDB 10.6+ (prisma/mysql/schema.prisma, derived from
-- prisma/schema.prisma by scripts/provider-schema.js): every table of prisma/migrations/ in one
-- migration, less the scalar-list columns neither database has.
-- Tables are utf8mb4 with a binary collation: blind-index values and envelopes are
-- case-sensitive base64url, and a case-insensitive collation would let two different index
-- values collide on a unique index and an equality lookup match a value it should not.

-- CreateTable
CREATE TABLE `users` (
    `id` VARCHAR(191) NOT NULL,
    `tenantId` TEXT NOT NULL,
    `name` TEXT NOT NULL,
    `email` TEXT NOT NULL,
    `email_idx` VARCHAR(191) NOT NULL,
    `ssn` TEXT NULL,
    `ssn_idx` VARCHAR(191) NULL,
    `notes` TEXT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    UNIQUE INDEX `users_email_idx_key`(`email_idx`),
    INDEX `users_ssn_idx_idx`(`ssn_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `posts` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `title` TEXT NOT NULL,
    `body` TEXT NOT NULL,
    `published` BOOLEAN NOT NULL DEFAULT false,
    `author_id` VARCHAR(191) NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `accounts` (
    `id` VARCHAR(191) NOT NULL,
    `provider` VARCHAR(191) NOT NULL,
    `external_id` TEXT NOT NULL,
    `external_id_idx` VARCHAR(191) NOT NULL,
    `user_id` VARCHAR(191) NOT NULL,

    UNIQUE INDEX `accounts_provider_external_id_idx_key`(`provider`, `external_id_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `customers` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `email` TEXT NOT NULL,
    `email_idx` VARCHAR(191) NULL,
    `phone` TEXT NULL,

    UNIQUE INDEX `customers_email_idx_key`(`email_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `devices` (
    `id` CHAR(36) NOT NULL,
    `tenantId` CHAR(36) NOT NULL,
    `serial` TEXT NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `organizations` (
    `id` VARCHAR(191) NOT NULL,
    `slug` VARCHAR(191) NOT NULL,
    `legal_name` TEXT NULL,

    UNIQUE INDEX `organizations_slug_key`(`slug`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `members` (
    `id` VARCHAR(191) NOT NULL,
    `org_id` VARCHAR(191) NOT NULL,
    `email` TEXT NOT NULL,
    `email_idx` VARCHAR(191) NOT NULL,

    UNIQUE INDEX `members_email_idx_key`(`email_idx`),
    UNIQUE INDEX `members_id_org_id_key`(`id`, `org_id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `invoices` (
    `id` VARCHAR(191) NOT NULL,
    `member_id` VARCHAR(191) NOT NULL,
    `org_id` VARCHAR(191) NOT NULL,
    `memo` TEXT NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `contacts` (
    `id` VARCHAR(191) NOT NULL,
    `org_id` VARCHAR(191) NOT NULL,
    `email` TEXT NOT NULL,
    `email_idx` VARCHAR(191) NOT NULL,
    `phone` TEXT NULL,
    `phone_idx` TEXT NULL,

    UNIQUE INDEX `contacts_org_id_email_idx_key`(`org_id`, `email_idx`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `documents` (
    `id` VARCHAR(191) NOT NULL,
    `tenant_id` TEXT NOT NULL,
    `title` TEXT NOT NULL,
    `body` JSON NOT NULL,
    `meta` JSON NULL,
    `blob` LONGBLOB NULL,
    `note` TEXT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `people` (
    `id` VARCHAR(191) NOT NULL,
    `tenant_id` TEXT NOT NULL,
    `name` TEXT NOT NULL,
    `city` TEXT NULL,
    `city_idx` TEXT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `hushfield_keys` (
    `id` VARCHAR(191) NOT NULL,
    `key_id` VARCHAR(191) NOT NULL,
    `kind` VARCHAR(191) NOT NULL,
    `scope` VARCHAR(191) NOT NULL,
    `version` INTEGER NOT NULL,
    `state` TEXT NOT NULL,
    `wrapped_key` TEXT NULL,
    `keyring_id` TEXT NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL,

    UNIQUE INDEX `hushfield_keys_kind_scope_version_key`(`kind`, `scope`, `version`),
    UNIQUE INDEX `hushfield_keys_key_id_version_key`(`key_id`, `version`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `hushfield_checkpoints` (
    `id` VARCHAR(191) NOT NULL,
    `cursor` TEXT NULL,
    `state` TEXT NOT NULL,
    `processed` INTEGER NOT NULL DEFAULT 0,
    `detail` MEDIUMTEXT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `hushfield_runs` (
    `id` VARCHAR(191) NOT NULL,
    `mode` TEXT NOT NULL,
    `state` TEXT NOT NULL,
    `detail` TEXT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `hushfield_ranges` (
    `run_id` VARCHAR(191) NOT NULL,
    `model` VARCHAR(191) NOT NULL,
    `seq` INTEGER NOT NULL,
    `lo` TEXT NULL,
    `hi` TEXT NULL,
    `rows` INTEGER NOT NULL DEFAULT 0,
    `cursor` TEXT NULL,
    `state` VARCHAR(191) NOT NULL,
    `owner` TEXT NULL,
    `lease_until` DATETIME(3) NULL,
    `processed` INTEGER NOT NULL DEFAULT 0,
    `detail` MEDIUMTEXT NULL,
    `updated_at` DATETIME(3) NOT NULL,

    INDEX `hushfield_ranges_run_id_state_idx`(`run_id`, `state`),
    PRIMARY KEY (`run_id`, `model`, `seq`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `hushfield_audit_events` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `time` DATETIME(3) NOT NULL,
    `operation` TEXT NOT NULL,
    `outcome` TEXT NOT NULL,
    `key_id` TEXT NULL,
    `kind` TEXT NULL,
    `scope` VARCHAR(191) NULL,
    `version` INTEGER NULL,
    `keyring_id` TEXT NULL,
    `latency_ms` DOUBLE NULL,
    `error_code` TEXT NULL,
    `actor` JSON NULL,
    `detail` JSON NULL,

    INDEX `hushfield_audit_events_scope_time_idx`(`scope`, `time`),
    INDEX `hushfield_audit_events_time_idx`(`time`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- AddForeignKey
ALTER TABLE `posts` ADD CONSTRAINT `posts_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `accounts` ADD CONSTRAINT `accounts_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `members` ADD CONSTRAINT `members_org_id_fkey` FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `invoices` ADD CONSTRAINT `invoices_member_id_org_id_fkey` FOREIGN KEY (`member_id`, `org_id`) REFERENCES `members`(`id`, `org_id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `contacts` ADD CONSTRAINT `contacts_org_id_fkey` FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `hushfield_ranges` ADD CONSTRAINT `hushfield_ranges_run_id_fkey` FOREIGN KEY (`run_id`) REFERENCES `hushfield_runs`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
