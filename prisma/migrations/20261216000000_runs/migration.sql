-- CreateTable
CREATE TABLE "hushfield_runs" (
    "id" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "detail" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "hushfield_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hushfield_ranges" (
    "run_id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "lo" TEXT,
    "hi" TEXT,
    "rows" INTEGER NOT NULL DEFAULT 0,
    "cursor" TEXT,
    "state" TEXT NOT NULL,
    "owner" TEXT,
    "lease_until" TIMESTAMP(3),
    "processed" INTEGER NOT NULL DEFAULT 0,
    "detail" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "hushfield_ranges_pkey" PRIMARY KEY ("run_id","model","seq")
);

-- CreateIndex
CREATE INDEX "hushfield_ranges_run_id_state_idx" ON "hushfield_ranges"("run_id", "state");

-- AddForeignKey
ALTER TABLE "hushfield_ranges" ADD CONSTRAINT "hushfield_ranges_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "hushfield_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
