/**
 * A fresh, migrated database for one test file, on whichever backend `global-setup.ts` chose:
 * a new database on the PostgreSQL server (dropped on close), or a new in-memory PGlite.
 * Migrations are the SQL files in `prisma/migrations/`, applied in order through the driver.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { PrismaClient } from '../../prisma/generated/client/client';

/** Where the migrations live. */
export const MIGRATIONS_DIR = join(__dirname, '..', '..', 'prisma', 'migrations');

/** A database for one test file. */
export interface TestDatabase {
  readonly backend: 'postgres' | 'container' | 'pglite';
  /** Connection string (absent on PGlite, which lives in this process). */
  readonly url?: string;
  /** A Prisma driver adapter factory for this database. */
  adapter(): SqlDriverAdapterFactory;
  /** Raw SQL, bypassing Prisma and hushfield: what the database really stores. */
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

function backend(): TestDatabase['backend'] {
  const chosen = process.env.HUSHFIELD_TEST_BACKEND;
  if (chosen === 'pglite' || chosen === 'container' || chosen === 'postgres') return chosen;
  return process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
}

/**
 * Creates and migrates a database for the calling test file, on `kind` when given (a file that
 * runs on every backend), else on the backend `global-setup.ts` chose.
 */
export async function createTestDatabase(kind: TestDatabase['backend'] = backend()): Promise<TestDatabase> {
  if (kind === 'pglite') return createPglite();
  return createPostgres(kind, process.env.TEST_DATABASE_URL as string);
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

async function createPostgres(kind: 'postgres' | 'container', serverUrl: string): Promise<TestDatabase> {
  const database = await createEmptyDatabase(serverUrl);
  const connectionString = database.url;
  const client = new Client({ connectionString });
  await client.connect();
  for (const sql of migrationSql()) await client.query(sql);
  return {
    backend: kind,
    url: connectionString,
    adapter: () => new PrismaPg({ connectionString }),
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    close: async () => {
      await client.end();
      await database.drop();
    },
  };
}

async function createPglite(): Promise<TestDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const db = new PGlite();
  for (const sql of migrationSql()) await db.exec(sql);
  return {
    backend: 'pglite',
    adapter: () => new PrismaPGlite(db) as unknown as SqlDriverAdapterFactory,
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    close: async () => {
      await db.close();
    },
  };
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
