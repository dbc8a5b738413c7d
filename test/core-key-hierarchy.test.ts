/**
 * The key hierarchy of @hushfield/core over the real Prisma-backed key store: first use from
 * several clients at once, rotation, crypto-shredding, rewrap, and a key row swapped in the
 * table, each checked against what `hushfield_keys` really holds.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, KeyDestroyedError, KeyringError, LocalKeyring, type Keyring } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createPrisma, createTestDatabase, type TestDatabase } from './support/database';

interface KeyRow {
  key_id: string;
  scope: string;
  version: number;
  state: string;
  wrapped_key: string | null;
  keyring_id: string;
}

let db: TestDatabase;
const clients: ReturnType<typeof createPrisma>['prisma'][] = [];
const keyring = new LocalKeyring(randomBytes(32));
const ctx = { model: 'users', field: 'email', rowId: 'row-1' };

/** A FieldCrypto on its own Prisma client (a separate "process" with cold caches). */
function process_(ring: Keyring = keyring): FieldCrypto {
  const { prisma } = createPrisma(db);
  clients.push(prisma);
  return new FieldCrypto({ keyring: ring, keyStore: new PrismaKeyStore(prisma), cache: { ttlMs: 60_000 } });
}

const keyRows = (scope: string) =>
  db.query<KeyRow>(
    'SELECT key_id, scope, version, state, wrapped_key, keyring_id FROM hushfield_keys WHERE scope = $1 ORDER BY version',
    [scope],
  );

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.$disconnect()));
  await db.close();
});

describe('core key hierarchy on PrismaKeyStore', () => {
  it('creates exactly one key when several clients use a new scope at once, and each decrypts the others', async () => {
    const crypto = [process_(), process_(), process_()];
    const rows = await Promise.all(
      crypto.flatMap((c) => [c.rowEncryptor('tenant-race'), c.rowEncryptor('tenant-race')]),
    );
    expect(new Set(rows.map((row) => row.keyId)).size).toBe(1);
    const stored = await keyRows('tenant-race');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ version: 1, state: 'active', keyring_id: keyring.id });
    const values = rows.map((row, i) => row.encrypt(`v${i}`, ctx));
    const reader = process_();
    expect(await reader.decryptMany(values.map((value) => ({ value, ctx })))).toEqual(values.map((_, i) => `v${i}`));
    expect(reader.stats().keyringCalls).toBe(1);
  });

  it('rotates: new writes use version 2, version 1 values still decrypt, rows say retired/active', async () => {
    const crypto = process_();
    const old = (await crypto.rowEncryptor('tenant-rot')).encrypt('old', ctx);
    await crypto.keys.rotateScope('tenant-rot');
    const fresh = (await crypto.rowEncryptor('tenant-rot')).encrypt('new', ctx);
    expect(crypto.describe(old).version).toBe(1);
    expect(crypto.describe(fresh).version).toBe(2);
    expect((await keyRows('tenant-rot')).map((r) => [r.version, r.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    const reader = process_();
    expect(
      await reader.decryptMany([
        { value: old, ctx },
        { value: fresh, ctx },
      ]),
    ).toEqual(['old', 'new']);
  });

  it('crypto-shreds: the rows lose their wrapped keys and every client gets KeyDestroyedError', async () => {
    const crypto = process_();
    const value = (await crypto.rowEncryptor('user-shred')).encrypt('erase me', ctx);
    await crypto.keys.rotateScope('user-shred');
    expect(await crypto.keys.destroyScope('user-shred')).toBe(2);
    expect((await keyRows('user-shred')).every((r) => r.state === 'destroyed' && r.wrapped_key === null)).toBe(true);
    for (const reader of [crypto, process_()]) {
      await expect(reader.decrypt(value, ctx)).rejects.toThrow(KeyDestroyedError);
      await expect(reader.decrypt(value, ctx)).rejects.toThrow('scope "user-shred" was destroyed');
    }
  });

  it('rewraps every live key under a new root key without touching data', async () => {
    const crypto = process_();
    const value = (await crypto.rowEncryptor('tenant-rewrap')).encrypt('kept', ctx);
    const before = (await keyRows('tenant-rewrap'))[0].wrapped_key;
    const next = new LocalKeyring(randomBytes(32));
    const { rewrapped } = await crypto.keys.rewrap(next);
    expect(rewrapped).toBeGreaterThanOrEqual(1);
    const [row] = await keyRows('tenant-rewrap');
    expect(row.keyring_id).toBe(next.id);
    expect(row.wrapped_key).not.toBe(before);
    await expect(process_(next).decrypt(value, ctx)).resolves.toBe('kept');
    await expect(process_(keyring).decrypt(value, ctx)).rejects.toThrow(KeyringError);
  });

  it("refuses at unwrap a wrapped key copied into another scope's row", async () => {
    const ring = new LocalKeyring(randomBytes(32));
    const crypto = process_(ring);
    const a = (await crypto.rowEncryptor('swap-a')).encrypt('secret a', ctx);
    await crypto.rowEncryptor('swap-b');
    await db.query(
      "UPDATE hushfield_keys SET wrapped_key = (SELECT wrapped_key FROM hushfield_keys WHERE scope = 'swap-b') WHERE scope = 'swap-a'",
    );
    const error = await process_(ring)
      .decrypt(a, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringError);
    expect(String((error as Error).message)).not.toContain('secret a');
  });
});
