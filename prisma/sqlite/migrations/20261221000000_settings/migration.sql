-- CreateTable
CREATE TABLE "settings" (
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT,

    PRIMARY KEY ("org_id", "name"),
    CONSTRAINT "settings_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
