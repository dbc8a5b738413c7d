-- CreateTable
CREATE TABLE "teams" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "teams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "team_notes" (
    "id" TEXT NOT NULL,
    "team_id" TEXT NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "team_notes_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "team_notes" ADD CONSTRAINT "team_notes_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE RESTRICT;
