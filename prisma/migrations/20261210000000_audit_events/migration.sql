-- CreateTable
CREATE TABLE "hushfield_audit_events" (
    "id" BIGSERIAL NOT NULL,
    "time" TIMESTAMP(3) NOT NULL,
    "operation" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "key_id" TEXT,
    "kind" TEXT,
    "scope" TEXT,
    "version" INTEGER,
    "keyring_id" TEXT,
    "latency_ms" DOUBLE PRECISION,
    "error_code" TEXT,
    "actor" JSONB,
    "detail" JSONB,

    CONSTRAINT "hushfield_audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "hushfield_audit_events_scope_time_idx" ON "hushfield_audit_events"("scope", "time");

-- CreateIndex
CREATE INDEX "hushfield_audit_events_time_idx" ON "hushfield_audit_events"("time");
