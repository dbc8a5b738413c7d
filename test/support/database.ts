/**
 * A fresh, migrated database for one test file, on the provider the Jest project runs
 * (`HUSHFIELD_TEST_PROVIDER`, see `provider.ts`) and the backend `global-setup.ts` chose:
 * - PostgreSQL: a new database on the server (dropped on close), or a new in-memory PGlite;
 * - MySQL/MariaDB: a new database on the server `TEST_MYSQL_URL` points at (dropped on close);
 * - SQLite: a new file in the temporary directory (deleted on close).
 * Migrations are the provider's SQL files (`prisma/migrations/`, `prisma/mysql/migrations/`,
 * `prisma/sqlite/migrations/`), applied in order through the driver.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { PrismaClient } from '../../prisma/generated/client/client';
import { migrationsDir, testProvider, type TestProvider } from './provider';

/** Where the PostgreSQL migrations live. */
export const MIGRATIONS_DIR = migrationsDir('postgresql');

/** A database for one test file. */
export interface TestDatabase {
  readonly backend: 'postgres' | 'container' | 'pglite' | 'mariadb' | 'sqlite';
  /** The Prisma provider of the database's schema. */
  readonly provider: TestProvider;
  /** Connection string (absent on PGlite, which lives in this process). */
  readonly url?: string;
  /**
   * A Prisma driver adapter factory for this database; `connections` caps its pool on a server
   * (PGlite and SQLite have one connection a client anyway).
   */
  adapter(options?: { connections?: number }): SqlDriverAdapterFactory;
  /**
   * Raw SQL, bypassing Prisma and hushfield: what the database really stores. Written as for
   * PostgreSQL (`$1` placeholders, double-quoted identifiers); on MySQL and SQLite the
   * placeholders are rewritten and identifiers quoted that way are accepted (ANSI_QUOTES).
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Drops the database (or closes PGlite). */
  close(): Promise<void>;
}

/** The migration SQL files in order. */
export function migrationSql(dir: string = MIGRATIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'));
}

/** The backend this test process creates its databases on (`global-setup.ts` chose it for PostgreSQL). */
export function testBackend(): TestDatabase['backend'] {
  const provider = testProvider();
  if (provider === 'mysql') return 'mariadb';
  if (provider === 'sqlite') return 'sqlite';
  const chosen = process.env.HUSHFIELD_TEST_BACKEND;
  if (chosen === 'pglite' || chosen === 'container' || chosen === 'postgres') return chosen;
  return process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
}

/**
 * Creates and migrates a database for the calling test file, on `kind` when given (a file that
 * runs on every backend), else on the backend `global-setup.ts` chose. A migration that fails
 * leaves nothing open: the connection is closed and the database dropped before the error is
 * thrown (a `beforeAll` failing so has no `TestDatabase` for its `afterAll` to close, and an
 * open connection would keep Jest from exiting).
 * @param migrations - the SQL to apply instead of the provider's migrations (harness tests)
 */
export async function createTestDatabase(
  kind: TestDatabase['backend'] = testBackend(),
  migrations?: readonly string[],
): Promise<TestDatabase> {
  if (kind === 'pglite') return createPglite(migrations);
  if (kind === 'mariadb') return createMariadb(mysqlServerUrl(), migrations);
  if (kind === 'sqlite') return createSqlite(migrations);
  return createPostgres(kind, process.env.TEST_DATABASE_URL as string, migrations);
}

/** Runs `migrate`; when it throws, runs `close` (whose own failure is dropped) and rethrows. */
async function migratedOrClosed(migrate: () => Promise<void>, close: () => Promise<void>): Promise<void> {
  try {
    await migrate();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** An empty, randomly named database on a PostgreSQL server. */
export interface EmptyDatabase {
  readonly name: string;
  /** Connection string of the new database (the server's, with its name). */
  readonly url: string;
  /** Drops it, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty database on the server `serverUrl` points at (no migrations applied). */
export async function createEmptyDatabase(serverUrl: string): Promise<EmptyDatabase> {
  const name = `hushfield_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const drop = new Client({ connectionString: serverUrl });
      await drop.connect();
      try {
        await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await drop.end();
      }
    },
  };
}

async function createPostgres(
  kind: 'postgres' | 'container',
  serverUrl: string,
  migrations: readonly string[] = migrationSql(),
): Promise<TestDatabase> {
  const database = await createEmptyDatabase(serverUrl);
  const connectionString = database.url;
  const client = new Client({ connectionString });
  await migratedOrClosed(
    async () => {
      await client.connect();
      for (const sql of migrations) await client.query(sql);
    },
    async () => {
      await client.end().catch(() => undefined);
      await database.drop();
    },
  );
  return {
    backend: kind,
    provider: 'postgresql',
    url: connectionString,
    adapter: ({ connections } = {}) => new PrismaPg({ connectionString, max: connections }),
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    close: async () => {
      try {
        await client.end();
      } finally {
        await database.drop();
      }
    },
  };
}

async function createPglite(migrations: readonly string[] = migrationSql()): Promise<TestDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const db = new PGlite();
  await migratedOrClosed(
    async () => {
      for (const sql of migrations) await db.exec(sql);
    },
    () => db.close(),
  );
  return {
    backend: 'pglite',
    provider: 'postgresql',
    adapter: () => new PrismaPGlite(db) as unknown as SqlDriverAdapterFactory,
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    close: async () => {
      await db.close();
    },
  };
}

/** The MySQL/MariaDB server the tests use (`TEST_MYSQL_URL`, else the local service). */
export function mysqlServerUrl(): string {
  return process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
}

/** Rewrites PostgreSQL's `$n` placeholders to `?`, with the parameters in the order they appear. */
function positional(sql: string, params: readonly unknown[] = []): { sql: string; params: unknown[] } {
  const ordered: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return { sql: text, params: ordered };
}

async function createMariadb(
  serverUrl: string,
  migrations: readonly string[] = migrationSql(migrationsDir('mysql')),
): Promise<TestDatabase> {
  const mariadb = await import('mariadb');
  const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
  const server = new URL(serverUrl);
  const name = `hushfield_test_${randomBytes(6).toString('hex')}`;
  const options = {
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password),
  };
  const admin = await mariadb.createConnection(options);
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const drop = async () => {
    const again = await mariadb.createConnection(options);
    try {
      await again.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await again.end();
    }
  };
  const connection = await mariadb
    .createConnection({ ...options, database: name, multipleStatements: true })
    .catch(async (error: unknown) => {
      await drop().catch(() => undefined);
      throw error;
    });
  await migratedOrClosed(
    async () => {
      for (const sql of migrations) await connection.query(sql);
      await connection.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES')");
    },
    async () => {
      await connection.end().catch(() => undefined);
      await drop();
    },
  );
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    backend: 'mariadb',
    provider: 'mysql',
    url: url.toString(),
    // A few connections a client: test files make many clients, and the server allows 151 in all.
    adapter: ({ connections = 4 } = {}) =>
      new PrismaMariaDb({ ...options, database: name, connectionLimit: connections }),
    query: async <T>(sql: string, params?: unknown[]) => {
      const rewritten = positional(sql, params);
      const result: unknown = await connection.query(rewritten.sql, rewritten.params);
      return (Array.isArray(result) ? [...result] : []) as T[];
    },
    close: async () => {
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}

async function createSqlite(
  migrations: readonly string[] = migrationSql(migrationsDir('sqlite')),
): Promise<TestDatabase> {
  const { default: Database } = await import('better-sqlite3');
  const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
  // The Jest project `libsql` runs the sqlite suites through @prisma/adapter-libsql (Turso's
  // driver) instead; the test's own SQL still goes through better-sqlite3, on the same file.
  // libSQL waits for a locked file without returning to the event loop, so a client in this
  // process holding the lock cannot release it meanwhile: such a wait always lasts the whole
  // busy timeout, kept short here (the key-store races take 9 s with 2 s, 32 s with 10 s).
  const libsql = process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql';
  const { PrismaLibSql } = libsql ? await import('@prisma/adapter-libsql') : { PrismaLibSql: undefined };
  const file = join(tmpdir(), `hushfield_test_${randomBytes(6).toString('hex')}.db`);
  const db = new Database(file);
  await migratedOrClosed(
    async () => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 10000');
      for (const sql of migrations) db.exec(sql);
    },
    async () => {
      db.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    },
  );
  return {
    backend: 'sqlite',
    provider: 'sqlite',
    url: `file:${file}`,
    adapter: libsql
      ? () => new PrismaLibSql!({ url: `file:${file}`, timeout: 2_000 }) as unknown as SqlDriverAdapterFactory
      : () => new PrismaBetterSqlite3({ url: `file:${file}`, timeout: 10_000 }),
    query: async <T>(sql: string, params: unknown[] = []) => {
      const rewritten = positional(sql, params);
      const statement = db.prepare(rewritten.sql);
      const values = rewritten.params.map((value) => (typeof value === 'boolean' ? Number(value) : value));
      if (statement.reader) return statement.all(...values) as T[];
      statement.run(...values);
      return [];
    },
    close: async () => {
      db.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    },
  };
}

/**
 * A driver adapter on the MySQL/MariaDB database `db` whose sessions have no strict `sql_mode`,
 * as some servers are configured: there the database cuts an over-long value to fit instead of
 * refusing it.
 * @param sqlMode - the sessions' `sql_mode` (none by default); a test that compares the two
 *   behaviours passes a strict one (`STRICT_TRANS_TABLES`) for its other case
 */
export function nonStrictMysqlAdapter(db: TestDatabase, sqlMode = ''): SqlDriverAdapterFactory {
  if (!/^[A-Z_,]*$/.test(sqlMode)) throw new Error(`not a sql_mode: ${sqlMode}`);
  return mysqlSessionAdapter(db, `SET SESSION sql_mode = '${sqlMode}'`, 2);
}

/**
 * A MariaDB adapter on `db` (a MySQL test database) whose sessions run at the isolation level
 * `level` (`SERIALIZABLE`, `READ COMMITTED`, ...), for the tests of what a session's level changes.
 */
export function isolatedMysqlAdapter(db: TestDatabase, level: string): SqlDriverAdapterFactory {
  if (!/^[A-Z ]+$/.test(level)) throw new Error(`not an isolation level: ${level}`);
  return mysqlSessionAdapter(db, `SET SESSION TRANSACTION ISOLATION LEVEL ${level}`, 4);
}

/** A MariaDB adapter on `db` whose every session first runs `initSql`. */
function mysqlSessionAdapter(db: TestDatabase, initSql: string, connectionLimit: number): SqlDriverAdapterFactory {
  if (db.provider !== 'mysql' || db.url === undefined) throw new Error('a session setting of MySQL/MariaDB');
  const url = new URL(db.url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on MySQL
  const { PrismaMariaDb } = require('@prisma/adapter-mariadb') as typeof import('@prisma/adapter-mariadb');
  return new PrismaMariaDb({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    connectionLimit,
    initSql,
  } as ConstructorParameters<typeof PrismaMariaDb>[0]);
}

/** A query Prisma sent, as its query log reports it. */
export interface LoggedQuery {
  readonly query: string;
  readonly params: string;
}

/** A plain (unextended) Prisma client on `db` that records every query and its parameters. */
export function createPrisma(db: TestDatabase): { prisma: PrismaClient; queries: LoggedQuery[] } {
  const queries: LoggedQuery[] = [];
  const prisma = new PrismaClient({ adapter: db.adapter(), log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => {
    queries.push({ query: event.query, params: event.params });
  });
  return { prisma, queries };
}
