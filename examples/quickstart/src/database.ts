/**
 * The embedded PostgreSQL (PGlite) the clinic runs on: opened from `.data/`, migrated from the
 * SQL files in `prisma/migrations/`, and served to Prisma through its driver adapter.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { MIGRATIONS_DIR } from './paths';

/** An open database: PGlite for raw SQL, the names of migrations this open applied. */
export interface Database {
  readonly pglite: PGlite;
  readonly created: boolean;
  readonly applied: readonly string[];
}

/** Opens (creating if needed) the database in `dir` and applies pending migrations. */
export async function openDatabase(dir: string): Promise<Database> {
  const created = !existsSync(join(dir, 'PG_VERSION'));
  mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dir);
  const applied = await migrate(pglite);
  return { pglite, created, applied };
}

/** A Prisma driver adapter on the open database. */
export function adapterFor(pglite: PGlite): PrismaPGlite {
  return new PrismaPGlite(pglite);
}

/** Applies, in name order, each migration not yet recorded in `_quickstart_migrations`. */
async function migrate(db: PGlite): Promise<string[]> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS "_quickstart_migrations" ' +
      '("name" TEXT PRIMARY KEY, "applied_at" TIMESTAMPTZ NOT NULL DEFAULT now())',
  );
  const done = new Set(
    (await db.query<{ name: string }>('SELECT "name" FROM "_quickstart_migrations"')).rows.map((row) => row.name),
  );
  const pending = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !done.has(entry.name))
    .map((entry) => entry.name)
    .sort();
  for (const name of pending) {
    const sql = readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8');
    await db.transaction(async (tx) => {
      await tx.exec(sql);
      await tx.query('INSERT INTO "_quickstart_migrations" ("name") VALUES ($1)', [name]);
    });
  }
  return pending;
}
