-- CreateTable
CREATE TABLE "gift_cards" (
    "label" TEXT,
    "code" TEXT NOT NULL,
    "pin" TEXT NOT NULL,
    "note" TEXT
);

-- CreateTable
CREATE TABLE "seat_holds" (
    "holder_idx" TEXT NOT NULL,
    "venue" TEXT NOT NULL,
    "seat" INTEGER NOT NULL,
    "holder" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "gift_cards_label_key" ON "gift_cards"("label");

-- CreateIndex
CREATE UNIQUE INDEX "gift_cards_code_key" ON "gift_cards"("code");

-- CreateIndex
CREATE UNIQUE INDEX "seat_holds_holder_idx_key" ON "seat_holds"("holder_idx");

-- CreateIndex
CREATE UNIQUE INDEX "seat_holds_venue_seat_key" ON "seat_holds"("venue", "seat");
