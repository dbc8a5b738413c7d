-- CreateTable
CREATE TABLE "ticket_notes" (
    "id" INTEGER NOT NULL,
    "body" TEXT NOT NULL,

    CONSTRAINT "ticket_notes_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "ticket_notes" ADD CONSTRAINT "ticket_notes_id_fkey" FOREIGN KEY ("id") REFERENCES "tickets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
