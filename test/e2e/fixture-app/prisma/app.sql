-- The app's own table (what `prisma migrate` would create for the Patient model); the test
-- applies the README's SQL for the hushfield tables after it.
CREATE TABLE "patients" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "email_idx" TEXT NOT NULL,
    "notes" TEXT,

    CONSTRAINT "patients_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "patients_email_idx_key" ON "patients"("email_idx");
