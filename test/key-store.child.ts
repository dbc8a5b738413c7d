/**
 * One competitor in the concurrent-first-use race of `key-store-processes.test.ts`: connects to
 * `DATABASE_URL` (PostgreSQL, MySQL/MariaDB or a SQLite file, as `HUSHFIELD_TEST_PROVIDER`
 * says), prints `ready`, waits for `go` on stdin, then asks the key hierarchy for the
 * active key of `SCOPE` (creating version 1 if nobody has) and prints `{keyId, version}`.
 * Run with `node --import tsx` and `TSX_TSCONFIG_PATH` mapping `@hushfield/*` to the sources.
 */
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { KeyHierarchy, LocalKeyring } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import type { PrismaClient as PostgresClient } from '../prisma/generated/client/client';
import { testProvider } from './support/provider';

/** The provider's generated client on `url`, outside Jest (so without its module map). */
async function connect(url: string): Promise<PostgresClient> {
  const provider = testProvider();
  let adapter: SqlDriverAdapterFactory;
  if (provider === 'mysql') {
    const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
    const parsed = new URL(url);
    adapter = new PrismaMariaDb({
      host: parsed.hostname,
      port: Number(parsed.port || 3306),
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database: parsed.pathname.slice(1),
    });
  } else if (provider === 'sqlite' && process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql') {
    // The Jest project `libsql`: the child races through the same driver as its parent.
    const { PrismaLibSql } = await import('@prisma/adapter-libsql');
    adapter = new PrismaLibSql({ url, timeout: 10_000 }) as unknown as SqlDriverAdapterFactory;
  } else if (provider === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    adapter = new PrismaBetterSqlite3({ url, timeout: 10_000 });
  } else {
    const { PrismaPg } = await import('@prisma/adapter-pg');
    adapter = new PrismaPg({ connectionString: url });
  }
  const module =
    provider === 'postgresql' ? '../prisma/generated/client/client' : `../prisma/${provider}/generated/client/client`;
  const { PrismaClient } = (await import(module)) as { PrismaClient: typeof PostgresClient };
  return new PrismaClient({ adapter });
}

async function main(): Promise<void> {
  const { DATABASE_URL, SCOPE, ROOT_KEY } = process.env;
  if (!DATABASE_URL || !SCOPE || !ROOT_KEY) throw new Error('DATABASE_URL, SCOPE and ROOT_KEY are required');
  const prisma = await connect(DATABASE_URL);
  try {
    await prisma.$connect();
    await prisma.hushfieldKey.count();
    const keys = new KeyHierarchy({
      keyring: new LocalKeyring(Buffer.from(ROOT_KEY, 'base64')),
      keyStore: new PrismaKeyStore(prisma),
      cache: { ttlMs: 60_000 },
    });
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
    const active = await keys.activeScopeKey(SCOPE);
    process.stdout.write(`${JSON.stringify({ keyId: active.keyId, version: active.version })}\n`);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exit(1);
});
