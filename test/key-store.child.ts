/**
 * One competitor in the concurrent-first-use race of `key-store-processes.test.ts`: connects to
 * `DATABASE_URL` (PostgreSQL, MySQL/MariaDB or a SQLite file, as `HUSHFIELD_TEST_PROVIDER`
 * says), prints `ready`, waits for `go` on stdin, then asks the key hierarchy for the
 * active key of `SCOPE` (creating version 1 if nobody has) and prints `{keyId, version}`.
 * Run with `node --import tsx` and `TSX_TSCONFIG_PATH` mapping `@hushfield/*` to the sources.
 */
import { KeyHierarchy, LocalKeyring } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import { connectChild } from './support/child-client';

async function main(): Promise<void> {
  const { DATABASE_URL, SCOPE, ROOT_KEY } = process.env;
  if (!DATABASE_URL || !SCOPE || !ROOT_KEY) throw new Error('DATABASE_URL, SCOPE and ROOT_KEY are required');
  const { prisma } = await connectChild(DATABASE_URL);
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
