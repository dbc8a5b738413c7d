/**
 * Scratch MySQL/MariaDB databases and SQLite files for the CLI's dialect tests: a randomly named
 * database on the machine's MariaDB (dropped on close) or a temp file, migrated with the
 * provider's SQL under prisma/<provider>/migrations, and Prisma clients of the provider's
 * generated schema on it (each client its own connections, as separate processes would have).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A provider the dialect tests run on. */
export type ScratchProvider = 'mysql' | 'sqlite';

/** The MariaDB server the tests use (root, no password). */
export const MARIADB_SERVER = process.env.TEST_MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306';

/** A scratch database and a way to open Prisma clients on it. */
export interface ScratchDatabase {
  readonly provider: ScratchProvider;
  /** Connection string (`mariadb://...` or `file:...`). */
  readonly url: string;
  /** A new client of the provider's generated schema, with its own connection(s). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- either provider's PrismaClient
  client(): any;
  /** Raw SQL through the driver, bypassing Prisma: what the database stores. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

function migrations(provider: ScratchProvider): string[] {
  const dir = join(__dirname, '..', '..', 'prisma', provider, 'migrations');
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'));
}

/** Creates and migrates a scratch database of `provider`. */
export async function createScratchDatabase(provider: ScratchProvider): Promise<ScratchDatabase> {
  return provider === 'mysql' ? createMariaDb() : createSqlite();
}

async function createMariaDb(): Promise<ScratchDatabase> {
  const mariadb = await import('mariadb');
  const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
  const { PrismaClient } = await import('../../prisma/mysql/generated/client/client');
  const name = `hushfield_test_${randomBytes(6).toString('hex')}`;
  const server = new URL(MARIADB_SERVER);
  const admin = await mariadb.createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password),
    multipleStatements: true,
  });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  for (const sql of migrations('mysql')) await admin.query(sql);
  const url = `${MARIADB_SERVER}/${name}`;
  return {
    provider: 'mysql',
    url,
    client: () => new PrismaClient({ adapter: new PrismaMariaDb(url) }),
    query: async <T>(sql: string, params?: unknown[]) => (await admin.query(sql, params)) as T[],
    close: async () => {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

async function createSqlite(): Promise<ScratchDatabase> {
  const { default: Database } = await import('better-sqlite3');
  const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
  const { PrismaClient } = await import('../../prisma/sqlite/generated/client/client');
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-sqlite-'));
  const file = join(dir, 'test.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const sql of migrations('sqlite')) db.exec(sql);
  const url = `file:${file}`;
  return {
    provider: 'sqlite',
    url,
    client: () => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url, timeout: 30_000 }) }),
    query: async <T>(sql: string, params: unknown[] = []) => {
      const statement = db.prepare(sql);
      return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
    },
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
