-- CreateTable
CREATE TABLE `gift_cards` (
    `label` VARCHAR(191) NULL,
    `code` VARCHAR(191) NOT NULL,
    `pin` TEXT NOT NULL,
    `note` TEXT NULL,

    UNIQUE INDEX `gift_cards_label_key`(`label`),
    UNIQUE INDEX `gift_cards_code_key`(`code`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
CREATE TABLE `seat_holds` (
    `holder_idx` VARCHAR(191) NOT NULL,
    `venue` VARCHAR(191) NOT NULL,
    `seat` INTEGER NOT NULL,
    `holder` TEXT NOT NULL,

    UNIQUE INDEX `seat_holds_holder_idx_key`(`holder_idx`),
    UNIQUE INDEX `seat_holds_venue_seat_key`(`venue`, `seat`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
