/**
 * Core's key hierarchy end to end on GcpKmsKeyring (official client, Cloud KMS fake): values
 * encrypted per tenant through FieldCrypto read back with one Decrypt per scope key, wrapped
 * key rows swapped between scopes are refused, a Cloud KMS rotation followed by `rotateScope`
 * moves new keys to the new primary version, disabling the old version fails closed for
 * exactly the keys it wrapped, and a warm cache rides out an outage.
 */
import { randomUUID } from 'node:crypto';
import { FieldCrypto, KeyringError, MemoryKeyStore, type FieldContext } from '@hushfield/core';
import { wrappedKeyVersion } from '@hushfield/kms-gcp';
import { fakeKeyring, KEY, KeyringPool } from './client';
import { startCloudKmsFake, type CloudKmsFake } from './server';

describe('FieldCrypto on GcpKmsKeyring', () => {
  let fake: CloudKmsFake;
  const pool = new KeyringPool();

  const keyring = (key = KEY) => {
    const ring = fakeKeyring(fake, { keyName: key, retry: { maxAttempts: 2, sleep: async () => undefined } });
    return pool.add(ring);
  };
  const crypto = (keyStore: MemoryKeyStore, key = KEY) =>
    new FieldCrypto({ keyring: keyring(key), keyStore, cache: { ttlMs: 60_000 } });

  async function write(writer: FieldCrypto, scope: string, count: number) {
    const encryptor = await writer.rowEncryptor(scope);
    const rows = Array.from({ length: count }, (_, i) => {
      const ctx: FieldContext = { model: 'patients', field: 'email', rowId: randomUUID() };
      const plaintext = `${scope}-${i}@example.com`;
      return { value: encryptor.encrypt(plaintext, ctx), ctx, plaintext };
    });
    encryptor.dispose();
    return rows;
  }

  beforeAll(async () => {
    fake = await startCloudKmsFake();
    fake.createKey(KEY);
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await pool.close();
    await fake.stop();
  });

  it('reads 200 values of two tenants with one Decrypt per scope key, none while cached', async () => {
    const keyStore = new MemoryKeyStore();
    const writer = crypto(keyStore);
    const rows = [...(await write(writer, 'tenant-a', 100)), ...(await write(writer, 'tenant-b', 100))];
    expect(fake.count('encrypt')).toBe(2);
    const stored = await keyStore.list({ kind: 'scope' });
    expect(stored.map((k) => [k.scope, k.keyringId])).toEqual([
      ['tenant-a', `gcp-kms:${KEY}`],
      ['tenant-b', `gcp-kms:${KEY}`],
    ]);

    fake.reset();
    const reader = crypto(keyStore);
    for (const row of rows) expect(await reader.decrypt(row.value, row.ctx)).toBe(row.plaintext);
    expect(fake.count('decrypt')).toBe(2);
    for (const row of rows) await reader.decrypt(row.value, row.ctx);
    expect(fake.count('decrypt')).toBe(2);
    expect(reader.stats().keyringCalls).toBe(2);
  });

  it('refuses scope keys whose wrapped rows were swapped between tenants', async () => {
    const keyStore = new MemoryKeyStore();
    const writer = crypto(keyStore);
    const [a] = await write(writer, 'tenant-a', 1);
    const [b] = await write(writer, 'tenant-b', 1);
    const [keyA, keyB] = await keyStore.list({ kind: 'scope' });
    await keyStore.replaceWrapped(keyA.keyId, keyA.version, keyA.wrappedKey!, keyB.wrappedKey!, keyA.keyringId);
    await keyStore.replaceWrapped(keyB.keyId, keyB.version, keyB.wrappedKey!, keyA.wrappedKey!, keyB.keyringId);
    const reader = crypto(keyStore);
    for (const row of [a, b]) {
      const error = await reader.decrypt(row.value, row.ctx).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeyringError);
      expect((error as KeyringError).message).toContain('INVALID_ARGUMENT');
      expect((error as KeyringError).message).not.toContain(row.plaintext);
    }
  });

  it('after a Cloud KMS rotation, rotateScope wraps under the new primary; disabling the old version fails only its keys', async () => {
    const key = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/hierarchy-rotation';
    fake.createKey(key);
    const keyStore = new MemoryKeyStore();
    const writer = crypto(keyStore, key);
    const [old] = await write(writer, 'tenant-a', 1);
    fake.addVersion(key, { primary: true });
    const rotated = await writer.keys.rotateScope('tenant-a');
    expect(rotated.version).toBe(2);
    const [fresh] = await write(writer, 'tenant-a', 1);
    const versions = (await keyStore.list({ kind: 'scope', scope: 'tenant-a' })).map((k) => [
      k.version,
      wrappedKeyVersion(Buffer.from(k.wrappedKey!, 'base64'))?.version,
    ]);
    expect(versions).toEqual([
      [1, 1],
      [2, 2],
    ]);

    fake.setVersionState(key, 1, 'DISABLED');
    const reader = crypto(keyStore, key);
    expect(await reader.decrypt(fresh.value, fresh.ctx)).toBe(fresh.plaintext);
    await expect(reader.decrypt(old.value, old.ctx)).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      retryable: false,
      message: expect.stringContaining('FAILED_PRECONDITION'),
    });
    fake.setVersionState(key, 1, 'ENABLED');
    expect(await reader.decrypt(old.value, old.ctx)).toBe(old.plaintext);
  });

  it('serves from a warm cache while Cloud KMS is down, and fails closed (retryable) with a cold one', async () => {
    const keyStore = new MemoryKeyStore();
    const [row] = await write(crypto(keyStore), 'tenant-c', 1);
    const warm = crypto(keyStore);
    expect(await warm.decrypt(row.value, row.ctx)).toBe(row.plaintext);
    fake.inject({ status: 'UNAVAILABLE' }, 100);
    expect(await warm.decrypt(row.value, row.ctx)).toBe(row.plaintext);
    await expect(crypto(keyStore).decrypt(row.value, row.ctx)).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      retryable: true,
    });
  });
});
