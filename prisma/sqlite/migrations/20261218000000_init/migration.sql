-- The test schema on SQLite (prisma/sqlite/schema.prisma, derived from prisma/schema.prisma by
-- scripts/provider-schema.js): every table of prisma/migrations/ in one migration, less the
-- scalar-list columns SQLite does not have. SQLite compares text byte for byte, as blind-index
-- values need.

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tenantId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_idx" TEXT NOT NULL,
    "ssn" TEXT,
    "ssn_idx" TEXT,
    "notes" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "posts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "author_id" TEXT NOT NULL,
    CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "accounts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "provider" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "external_id_idx" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    CONSTRAINT "accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "customers" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "email_idx" TEXT,
    "phone" TEXT
);

-- CreateTable
CREATE TABLE "devices" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tenantId" TEXT NOT NULL,
    "serial" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "organizations" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "slug" TEXT NOT NULL,
    "legal_name" TEXT
);

-- CreateTable
CREATE TABLE "members" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "org_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_idx" TEXT NOT NULL,
    CONSTRAINT "members_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "member_id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "memo" TEXT NOT NULL,
    CONSTRAINT "invoices_member_id_org_id_fkey" FOREIGN KEY ("member_id", "org_id") REFERENCES "members" ("id", "org_id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "contacts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "org_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_idx" TEXT NOT NULL,
    "phone" TEXT,
    "phone_idx" TEXT,
    CONSTRAINT "contacts_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "documents" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tenant_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "meta" TEXT,
    "blob" BLOB,
    "note" TEXT
);

-- CreateTable
CREATE TABLE "people" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "city" TEXT,
    "city_idx" TEXT
);

-- CreateTable
CREATE TABLE "hushfield_keys" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "key_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "wrapped_key" TEXT,
    "keyring_id" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "hushfield_checkpoints" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "cursor" TEXT,
    "state" TEXT NOT NULL,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "detail" TEXT,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "hushfield_runs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "mode" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "detail" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
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
    "lease_until" DATETIME,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "detail" TEXT,
    "updated_at" DATETIME NOT NULL,

    PRIMARY KEY ("run_id", "model", "seq"),
    CONSTRAINT "hushfield_ranges_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "hushfield_runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "hushfield_audit_events" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "time" DATETIME NOT NULL,
    "operation" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "key_id" TEXT,
    "kind" TEXT,
    "scope" TEXT,
    "version" INTEGER,
    "keyring_id" TEXT,
    "latency_ms" REAL,
    "error_code" TEXT,
    "actor" TEXT,
    "detail" TEXT
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_idx_key" ON "users"("email_idx");

-- CreateIndex
CREATE INDEX "users_ssn_idx_idx" ON "users"("ssn_idx");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_provider_external_id_idx_key" ON "accounts"("provider", "external_id_idx");

-- CreateIndex
CREATE UNIQUE INDEX "customers_email_idx_key" ON "customers"("email_idx");

-- CreateIndex
CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "members_email_idx_key" ON "members"("email_idx");

-- CreateIndex
CREATE UNIQUE INDEX "members_id_org_id_key" ON "members"("id", "org_id");

-- CreateIndex
CREATE UNIQUE INDEX "contacts_org_id_email_idx_key" ON "contacts"("org_id", "email_idx");

-- CreateIndex
CREATE UNIQUE INDEX "hushfield_keys_kind_scope_version_key" ON "hushfield_keys"("kind", "scope", "version");

-- CreateIndex
CREATE UNIQUE INDEX "hushfield_keys_key_id_version_key" ON "hushfield_keys"("key_id", "version");

-- CreateIndex
CREATE INDEX "hushfield_ranges_run_id_state_idx" ON "hushfield_ranges"("run_id", "state");

-- CreateIndex
CREATE INDEX "hushfield_audit_events_scope_time_idx" ON "hushfield_audit_events"("scope", "time");

-- CreateIndex
CREATE INDEX "hushfield_audit_events_time_idx" ON "hushfield_audit_events"("time");
