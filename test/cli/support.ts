/**
 * Harness for CLI tests: a migrated test database, a local keyring, a config object as
 * `hushfield.config.ts` would export it, and `runCli()` running the command in-process with
 * captured streams (stdin a TTY or not, as the test says).
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { FieldCrypto, LocalKeyring } from '@hushfield/core';
import type { HushfieldSchema } from '@hushfield/prisma';
import { computedBlindIndex, PrismaKeyStore } from '@hushfield/prisma';
import { defineConfig, run } from '@hushfield/cli';
import type { HushfieldConfig, LoadedConfig } from '@hushfield/cli';
import { migrateModel } from '../../packages/cli/src/migrator';
import type { MigrateOptions } from '../../packages/cli/src/migrator';
import { createProgress } from '../../packages/cli/src/progress';
import { PrismaClient } from '../../prisma/generated/client/client';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import { createTestDatabase, testBackend } from '../support/database';
import type { TestDatabase } from '../support/database';

/** The generated metadata of the test schema. */
export const schema = hushfieldSchema as unknown as HushfieldSchema;

/** What a CLI invocation printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (when `--json` was given). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever a command printed
  readonly json: any;
}

/** One test file's world: database, keyring, config, and a way to run the CLI against them. */
export interface CliWorld {
  readonly db: TestDatabase;
  readonly rootKey: Buffer;
  readonly keyring: LocalKeyring;
  /** A base Prisma client for the test's own reads and writes. */
  readonly prisma: PrismaClient;
  config(overrides?: Partial<HushfieldConfig>): LoadedConfig;
  runCli(
    args: readonly string[],
    options?: { stdin?: string; stdinIsTTY?: boolean; config?: Partial<HushfieldConfig>; signal?: AbortSignal },
  ): Promise<CliResult>;
  /** A FieldCrypto on the same key store, like the application would have. */
  crypto(): FieldCrypto;
  close(): Promise<void>;
}

/** Creates the world for one test file (on `backend` when given, see `createTestDatabase`). */
export async function createCliWorld(backend?: TestDatabase['backend']): Promise<CliWorld> {
  const db = await createTestDatabase(backend);
  const rootKey = randomBytes(32);
  const keyring = new LocalKeyring(rootKey);
  const prisma = new PrismaClient({ adapter: db.adapter() });
  const config = (overrides: Partial<HushfieldConfig> = {}): LoadedConfig => ({
    path: '<test>',
    module: {},
    config: defineConfig({
      schema,
      keyring,
      // PGlite lives in this process: share the test's client (the CLI disconnects what it gets).
      prisma: () => (db.backend === 'pglite' ? sharedClient(prisma) : new PrismaClient({ adapter: db.adapter() })),
      ...overrides,
    }),
  });
  return {
    db,
    rootKey,
    keyring,
    prisma,
    config,
    runCli(args, options = {}) {
      return runCliWith(config(options.config), args, options);
    },
    crypto() {
      return new FieldCrypto({ keyring, keyStore: new PrismaKeyStore(prisma), cache: { ttlMs: 60_000 } });
    },
    async close() {
      // The database's own connection is closed even when the client's disconnect fails.
      try {
        await prisma.$disconnect();
      } finally {
        await db.close();
      }
    },
  };
}

/** Runs the CLI in-process with `loaded` as its configuration and captured streams. */
export async function runCliWith(
  loaded: LoadedConfig,
  args: readonly string[],
  options: { stdin?: string; stdinIsTTY?: boolean; signal?: AbortSignal } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (chunk: Buffer) => chunks.out.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.err.push(chunk));
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const code = await run(args, {
    io: { stdout, stderr, stdin, stdinIsTTY: options.stdinIsTTY ?? false, stderrIsTTY: false },
    config: loaded,
    signal: options.signal,
  });
  const out = Buffer.concat(chunks.out).toString('utf8');
  let json: unknown;
  try {
    json = args.includes('--json') ? JSON.parse(out) : undefined;
  } catch {
    json = undefined;
  }
  return { code, stdout: out, stderr: Buffer.concat(chunks.err).toString('utf8'), json };
}

/**
 * Inserts `count` rows into `table` on any provider: `row(i)` gives the values (for `columns`)
 * of row `i`, from 1. Sent as multi-row INSERTs of bounded parameter count (SQLite allows 32,766).
 */
export async function insertRows(
  db: TestDatabase,
  table: string,
  columns: readonly string[],
  count: number,
  row: (i: number) => readonly unknown[],
): Promise<void> {
  const perStatement = Math.max(1, Math.min(5_000, Math.floor(30_000 / columns.length)));
  for (let first = 1; first <= count; first += perStatement) {
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (let i = first; i < first + perStatement && i <= count; i++) {
      const values = row(i);
      tuples.push(`(${values.map((value) => `$${params.push(value)}`).join(', ')})`);
    }
    await db.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}

/** `SELECT count(*)` of `from` (a table and its conditions) as a number, on any provider. */
export async function countRows(db: TestDatabase, from: string, params?: unknown[]): Promise<number> {
  const [row] = await db.query<{ n: number | bigint | string }>(`SELECT count(*) AS n FROM ${from}`, params);
  return Number(row.n);
}

/** The test schema's `email_idx` blind index on the email of `model` (its table name), for recomputing a value. */
export function emailIndexSpec(model: 'customers' | 'users') {
  return { model, field: 'email', name: 'email_idx', normalize: ['lowercase', 'trim'] as const, bits: 256 };
}

/** A view of `client` whose `$disconnect` does nothing (the test keeps using it). */
function sharedClient(client: PrismaClient): PrismaClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === '$disconnect') return async () => undefined;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** What {@link migrateQuietly} is given: the run's model, writer and batch size, and what else differs. */
export type QuietMigration = Pick<MigrateOptions, 'model' | 'writer' | 'batchSize'> &
  Partial<Omit<MigrateOptions, 'client' | 'crypto' | 'keyStore'>>;

/**
 * One `migrateModel` run on the world's client and key store, as `reencrypt` (one batch at a
 * time, resumed from a checkpoint when given one) runs it, with no progress or log output.
 */
export function migrateQuietly(world: CliWorld, options: QuietMigration) {
  return migrateModel({
    client: world.prisma,
    crypto: world.crypto(),
    keyStore: new PrismaKeyStore(world.prisma),
    mode: 'reencrypt',
    concurrency: 1,
    dryRun: false,
    resume: 'auto',
    progress: createProgress(new PassThrough(), { tty: false, quiet: true }),
    log: () => undefined,
    ...options,
  });
}

/** An application client: the base client extended with hushfield, on its own FieldCrypto. */
export function appClient(world: CliWorld) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when first needed
  const { fieldEncryption } = require('@hushfield/prisma') as typeof import('@hushfield/prisma');
  return world.prisma.$extends(fieldEncryption({ schema, keyring: world.keyring, cache: { ttlMs: 60_000 } }));
}

/**
 * Whether CLI child processes can reach the test database: a server (PostgreSQL, MariaDB) or
 * SQLite's file, not PGlite, which lives in this process. When they cannot, prints that `what`
 * is skipped and why; call it at load, since Jest runs no hook of a file whose tests are all skipped.
 */
export function childProcessesReachDatabase(what: string): boolean {
  if (testBackend() !== 'pglite') return true;
  process.stdout.write(
    `${what}: skipping: it needs a database server (TEST_DATABASE_URL, or a container) that child processes can reach; PGlite lives in this process\n`,
  );
  return false;
}

/**
 * An organization for each of `slugs` with `count` contacts, created through `app` (their indexes
 * computed): contact `i` of `slug` has email `c<i>@<slug>.test` and phone `555 010<i>`. Returns
 * the organizations' ids, in order.
 */
export async function createContacts(
  app: ReturnType<typeof appClient>,
  slugs: readonly string[],
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const slug of slugs) {
    const org = await app.organization.create({ data: { slug } });
    ids.push(org.id);
    for (let i = 0; i < count; i++) {
      await app.contact.create({
        data: { orgId: org.id, email: `c${i}@${slug}.test`, emailIdx: computedBlindIndex, phone: `555 010${i}` },
      });
    }
  }
  return ids;
}
