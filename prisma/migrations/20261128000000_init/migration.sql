-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_idx" TEXT NOT NULL,
    "ssn" TEXT,
    "ssn_idx" TEXT,
    "notes" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "posts" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "author_id" TEXT NOT NULL,

    CONSTRAINT "posts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "accounts" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "external_id_idx" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "email_idx" TEXT,
    "phone" TEXT,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hushfield_keys" (
    "id" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "wrapped_key" TEXT,
    "keyring_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "hushfield_keys_pkey" PRIMARY KEY ("id")
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
CREATE UNIQUE INDEX "hushfield_keys_kind_scope_version_key" ON "hushfield_keys"("kind", "scope", "version");

-- CreateIndex
CREATE UNIQUE INDEX "hushfield_keys_key_id_version_key" ON "hushfield_keys"("key_id", "version");

-- AddForeignKey
ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "hushfield_checkpoints" (
    "id" TEXT NOT NULL,
    "cursor" TEXT,
    "state" TEXT NOT NULL,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "detail" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "hushfield_checkpoints_pkey" PRIMARY KEY ("id")
);
