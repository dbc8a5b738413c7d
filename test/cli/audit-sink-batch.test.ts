/**
 * `PrismaAuditSink` against the real database of the provider under test: an event the audit
 * table refuses loses only itself, never the other events written in the same batch.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring } from '@hushfield/core';
import { PrismaAuditSink, PrismaKeyStore } from '@hushfield/prisma';
import type { PrismaClient } from '../../prisma/generated/client/client';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db).prisma;
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.close();
});

test('an event the audit table refuses is dropped alone: the rest of its batch is written', async () => {
  const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  const sink = new PrismaAuditSink(prisma, { batchSize: 100, name: 'prisma-test' });
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new PrismaKeyStore(prisma),
    cache: { ttlMs: 60_000 },
    audit: sink,
  });
  // A scope as long as hushfield allows (1,024 bytes) is longer than MySQL's default VARCHAR(191)
  // (there the key store refuses it too: its keyring call and failed key.create are audited).
  const long = `tenant-${'x'.repeat(1_000)}`;
  (await crypto.rowEncryptor('tenant-a')).dispose();
  await crypto.rowEncryptor(long).then(
    (row) => row.dispose(),
    () => undefined,
  );
  (await crypto.rowEncryptor('tenant-b')).dispose();
  await sink.close();
  const rows = await prisma.hushfieldAuditEvent.findMany({ orderBy: { id: 'asc' } });
  const written = rows.map((row) => `${row.operation}:${row.scope === long ? 'long' : row.scope}`);
  // Every event but (on MySQL) the two naming the long scope, which are dropped and counted.
  expect(written.filter((event) => !event.endsWith(':long'))).toEqual([
    'keyring.generate:tenant-a',
    'key.create:tenant-a',
    'keyring.generate:tenant-b',
    'key.create:tenant-b',
  ]);
  expect(sink.written).toBe(rows.length);
  expect(sink.written + sink.dropped).toBe(6);
  warning.mockRestore();
});
