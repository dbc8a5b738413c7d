/**
 * End to end: the Prisma extension on the test database (PostgreSQL with TEST_DATABASE_URL,
 * else PGlite) with AwsKmsKeyring talking to the KMS emulator through the real AWS SDK.
 * Asserts on what the database stores and on the KMS calls the emulator saw.
 */
import { randomUUID } from 'node:crypto';
import { isEnvelope, type AuditEvent } from '@hushfield/core';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import { fieldEncryption } from '@hushfield/prisma';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import type { PrismaClient } from '../../prisma/generated/client/client';
import { createPrisma, createTestDatabase, type TestDatabase } from '../support/database';
import { kmsAdmin, startKmsEmulator, type CreatedKey, type KmsEmulator } from './emulator';

interface KeyRow {
  key_id: string;
  kind: string;
  scope: string;
  version: number;
  state: string;
  wrapped_key: string;
  keyring_id: string;
}

describe('Prisma extension with AwsKmsKeyring against the KMS emulator', () => {
  let emulator: KmsEmulator;
  let kmsKey: CreatedKey;
  let db: TestDatabase;
  let events: AuditEvent[];
  const bases: PrismaClient[] = [];
  const keyrings: AwsKmsKeyring[] = [];

  /** A fresh extended client (cold key cache) over the same database and KMS key. */
  function client() {
    const keyring = new AwsKmsKeyring({
      keyId: kmsKey.arn,
      clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials },
      retry: { maxAttempts: 2, sleep: async () => undefined },
      audit: { emit: (event) => void events.push(event) },
    });
    keyrings.push(keyring);
    const { prisma: base, queries } = createPrisma(db);
    bases.push(base);
    return {
      prisma: base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, cache: { ttlMs: 60_000 } })),
      queries,
    };
  }

  const unwrapsByScope = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const event of events) {
      if (event.operation === 'keyring.unwrap')
        counts[`${event.kind}:${event.scope}`] = (counts[`${event.kind}:${event.scope}`] ?? 0) + 1;
    }
    return counts;
  };

  beforeAll(async () => {
    emulator = await startKmsEmulator();
    kmsKey = await kmsAdmin(emulator).createKey({ description: 'hushfield e2e root key' });
    db = await createTestDatabase();
  }, 120_000);
  beforeEach(() => {
    events = [];
    emulator.calls.reset();
  });
  afterAll(async () => {
    for (const base of bases) await base.$disconnect();
    for (const keyring of keyrings) keyring.destroy();
    await db?.close();
    await emulator?.stop();
  });

  const people = [
    ...Array.from({ length: 5 }, (_, i) => ({
      tenantId: 'acme',
      name: `A${i}`,
      email: `a${i}@acme.example`,
      ssn: `100-00-000${i}`,
    })),
    ...Array.from({ length: 3 }, (_, i) => ({
      tenantId: 'globex',
      name: `G${i}`,
      email: `g${i}@globex.example`,
      ssn: `200-00-000${i}`,
    })),
  ];

  it('creates users whose keys KMS wrapped, storing only envelopes and KMS blobs', async () => {
    const { prisma, queries } = client();
    for (const person of people) {
      const created = await prisma.user.create({ data: { id: randomUUID(), ...person } });
      expect(created.email).toBe(person.email);
    }
    const keys = await db.query<KeyRow>(
      'SELECT key_id, kind, scope, version, state, wrapped_key, keyring_id FROM hushfield_keys ORDER BY kind, scope',
    );
    expect(keys.map((k) => `${k.kind}:${k.scope}`)).toEqual(['index:default', 'scope:acme', 'scope:globex']);
    for (const key of keys) {
      expect(key.keyring_id).toBe(`aws-kms:${kmsKey.arn}`);
      const wrapped = Buffer.from(key.wrapped_key, 'base64');
      expect(wrapped.subarray(0, 3).toString('ascii')).toBe('HFK');
      expect(wrapped.toString('latin1')).toContain(kmsKey.arn);
    }
    // One KMS call per key created, none per row.
    expect(emulator.calls.get('GenerateDataKey') + emulator.calls.get('Encrypt')).toBe(3);
    expect(emulator.calls.get('Decrypt')).toBe(0);

    const rows = await db.query<{ email: string; ssn: string; email_idx: string }>(
      'SELECT email, ssn, email_idx FROM users',
    );
    expect(rows).toHaveLength(people.length);
    for (const row of rows) {
      expect(isEnvelope(row.email)).toBe(true);
      expect(isEnvelope(row.ssn)).toBe(true);
    }
    const stored = JSON.stringify(rows) + JSON.stringify(keys);
    const logged = queries.map((q) => `${q.query} ${q.params}`).join('\n');
    for (const person of people) {
      expect(stored).not.toContain(person.email);
      expect(stored).not.toContain(person.ssn);
      expect(logged).not.toContain(person.email);
    }
  });

  it('reads every user back from a cold client with at most one KMS Decrypt per scope', async () => {
    const { prisma } = client();
    const users = await prisma.user.findMany({ orderBy: { name: 'asc' } });
    expect(users.map((u) => u.email).sort()).toEqual(people.map((p) => p.email).sort());
    const found = await prisma.user.findUnique({ where: { emailIdx: 'G1@GLOBEX.example ' } });
    expect(found?.ssn).toBe('200-00-0001');
    await prisma.user.findMany({ where: { tenantId: 'acme' } });
    await Promise.all(people.map((p) => prisma.user.findFirst({ where: { email: p.email } })));

    const perScope = unwrapsByScope();
    expect(perScope).toEqual({ 'scope:acme': 1, 'scope:globex': 1, 'index:default': 1 });
    expect(emulator.calls.get('Decrypt')).toBe(3);
    expect(prisma.$hushfield.stats().keyringCalls).toBe(3);
  });

  it('fails closed with a typed keyring error when the KMS key is disabled and the cache is cold', async () => {
    const { prisma: warm } = client();
    await warm.user.findMany({ where: { tenantId: 'acme' } });
    await kmsAdmin(emulator).disableKey(kmsKey.keyId);
    try {
      const warmRead = await warm.user.findMany({ where: { tenantId: 'acme' } });
      expect(warmRead).toHaveLength(5);
      const { prisma: cold } = client();
      const error = await cold.user.findMany({ where: { tenantId: 'globex' } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'HUSHFIELD_KEYRING', operation: 'unwrap', retryable: false });
      expect((error as Error).message).toContain('DisabledException');
      for (const person of people) expect((error as Error).message).not.toContain(person.email);
    } finally {
      await kmsAdmin(emulator).enableKey(kmsKey.keyId);
    }
  });
});
