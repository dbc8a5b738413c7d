/**
 * MultiKeyring with a Google Cloud KMS member: every scope key is wrapped under Cloud KMS (the
 * official client against the fake) and under a LocalKeyring recovery copy. Reads go through
 * Cloud KMS first and fall back while it is unavailable or its key version is disabled; a key
 * is never created without its Cloud KMS copy.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore, type FieldContext, type Keyring } from '@hushfield/core';
import { MultiKeyring } from '@hushfield/kms-aws';
import { fakeKeyring, KEY, KeyringPool } from './client';
import { startCloudKmsFake, type CloudKmsFake } from './server';

describe('MultiKeyring with a Google Cloud KMS primary', () => {
  let fake: CloudKmsFake;
  const pool = new KeyringPool();
  const recovery = new LocalKeyring(randomBytes(32));

  const gcp = (keyName = KEY) => {
    const ring = fakeKeyring(fake, { keyName, retry: { maxAttempts: 2, sleep: async () => undefined } });
    return pool.add(ring);
  };
  const reader = (keyring: Keyring, keyStore: MemoryKeyStore) =>
    new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });

  async function write(keyring: Keyring, keyStore: MemoryKeyStore, scope: string) {
    const encryptor = await reader(keyring, keyStore).rowEncryptor(scope);
    const ctx: FieldContext = { model: 'users', field: 'email', rowId: randomUUID() };
    const value = encryptor.encrypt(`${scope}@example.com`, ctx);
    encryptor.dispose();
    return { value, ctx, plaintext: `${scope}@example.com` };
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

  it('wraps under both, reads through Cloud KMS, and falls back to the recovery copy while Cloud KMS is unavailable', async () => {
    const keyring = new MultiKeyring([gcp(), recovery]);
    expect(keyring.id).toBe(`multi(gcp-kms:${KEY},${recovery.id})`);
    const keyStore = new MemoryKeyStore();
    const row = await write(keyring, keyStore, 'tenant-a');
    expect(fake.count('encrypt')).toBe(1);

    expect(await reader(new MultiKeyring([gcp(), recovery]), keyStore).decrypt(row.value, row.ctx)).toBe(row.plaintext);
    expect(fake.count('decrypt')).toBe(1);

    fake.inject({ status: 'UNAVAILABLE' }, 10);
    const during = reader(new MultiKeyring([gcp(), recovery]), keyStore);
    expect(await during.decrypt(row.value, row.ctx)).toBe(row.plaintext);
    expect(fake.count('decrypt')).toBe(3); // one attempt and one retry, then the recovery copy
  });

  it('falls back when the Cloud KMS key version that wrapped the key is disabled', async () => {
    const key = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/multi-disabled';
    fake.createKey(key);
    const keyStore = new MemoryKeyStore();
    const row = await write(new MultiKeyring([gcp(key), recovery]), keyStore, 'tenant-b');
    fake.setVersionState(key, 1, 'DISABLED');
    expect(await reader(new MultiKeyring([gcp(key), recovery]), keyStore).decrypt(row.value, row.ctx)).toBe(
      row.plaintext,
    );
    expect(fake.count('decrypt')).toBe(1); // FAILED_PRECONDITION is final: no retry
  });

  it('refuses to create a key while Cloud KMS is unavailable, rather than leave a key without its Cloud KMS copy', async () => {
    fake.inject({ status: 'UNAVAILABLE' }, 10);
    await expect(write(new MultiKeyring([gcp(), recovery]), new MemoryKeyStore(), 'tenant-c')).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      retryable: true,
    });
  });
});
