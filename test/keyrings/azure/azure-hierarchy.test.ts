/**
 * The core key hierarchy on an Azure Key Vault root key (A256KW on a Managed HSM key, through
 * the official SDK and the loopback fake): Key Vault calls scale with scope keys, not values;
 * a warm cache absorbs an outage and a cold one fails closed; a Key Vault key rotation is
 * followed by `keys rotate`; a MultiKeyring with an Azure member falls back to its other copy.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  FieldCrypto,
  KeyAdmin,
  KeyHierarchy,
  KeyringError,
  LocalKeyring,
  MemoryKeyStore,
  type FieldContext,
  type Keyring,
  type KeyStore,
} from '@hushfield/core';
import { MultiKeyring } from '@hushfield/kms-aws';
import { AzureKeyVaultKeyring } from '@hushfield/kms-azure';
import { startAzureFake, type AzureFake } from './server';

const where = (): FieldContext => ({ model: 'users', field: 'email', rowId: randomUUID() });

describe('the key hierarchy on an Azure Key Vault keyring', () => {
  let fake: AzureFake;

  const azure = (maxAttempts = 2) =>
    new AzureKeyVaultKeyring(
      fake.keyringOptions({ keyName: 'root', retry: { maxAttempts, sleep: async () => undefined } }),
    );

  async function write(keyring: Keyring, keyStore: KeyStore, scope: string, count: number) {
    const writer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const encryptor = await writer.rowEncryptor(scope);
    const rows = Array.from({ length: count }, (_, i) => {
      const ctx = where();
      const plaintext = `${scope}-user-${i}@example.com`;
      return { value: encryptor.encrypt(plaintext, ctx), ctx, plaintext };
    });
    encryptor.dispose();
    return rows;
  }

  beforeAll(async () => {
    fake = await startAzureFake({ kind: 'managedhsm' });
    fake.createKey('root', 'oct-HSM');
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('reads 400 values of two scopes with one Key Vault unwrap per scope, and stores only wrapped keys', async () => {
    const keyStore = new MemoryKeyStore();
    const rows = [
      ...(await write(azure(), keyStore, 'tenant-a', 200)),
      ...(await write(azure(), keyStore, 'tenant-b', 200)),
    ];
    expect(fake.count('/wrapkey')).toBe(2);
    const stored = await keyStore.list();
    expect(stored.map((k) => k.keyringId)).toEqual(stored.map(() => azure().id));
    for (const key of stored) {
      const wrapped = Buffer.from(key.wrappedKey!, 'base64');
      expect(wrapped.subarray(0, 4).toString('latin1')).toBe('HFZ\x01');
      expect(wrapped.includes(Buffer.from(fake.versions('root')[0]))).toBe(true);
    }

    fake.reset();
    const reader = new FieldCrypto({ keyring: azure(), keyStore, cache: { ttlMs: 60_000 } });
    const values = await Promise.all(rows.map((row) => reader.decrypt(row.value, row.ctx)));
    expect(values).toEqual(rows.map((row) => row.plaintext));
    expect(fake.count('/unwrapkey')).toBe(2);
    expect(reader.stats().keyringCalls).toBe(2);

    // A value copied to another row does not decrypt there.
    const moved = rows.find((row) => row.plaintext.startsWith('tenant-a'))!;
    await expect(reader.decrypt(moved.value, where())).rejects.toMatchObject({ code: 'HUSHFIELD_DECRYPTION_FAILED' });
  });

  it('keeps serving from a warm cache while Key Vault is down, and fails closed when cold', async () => {
    const keyStore = new MemoryKeyStore();
    const rows = await write(azure(), keyStore, 'tenant-c', 3);
    const warm = new FieldCrypto({ keyring: azure(), keyStore, cache: { ttlMs: 60_000 } });
    expect(await warm.decrypt(rows[0].value, rows[0].ctx)).toBe(rows[0].plaintext);
    fake.inject({ status: 503 }, 1_000);
    expect(await warm.decrypt(rows[1].value, rows[1].ctx)).toBe(rows[1].plaintext);
    const cold = new FieldCrypto({ keyring: azure(), keyStore, cache: { ttlMs: 60_000 } });
    const error = await cold.decrypt(rows[2].value, rows[2].ctx).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toMatchObject({ retryable: true, azureCode: 'ServiceUnavailable' });
  });

  it('after a Key Vault key rotation, keys rotate wraps the new scope key under the new version', async () => {
    fake.createKey('rotating', 'oct-HSM');
    const keyring = new AzureKeyVaultKeyring(fake.keyringOptions({ keyName: 'rotating', retry: { maxAttempts: 1 } }));
    const keyStore = new MemoryKeyStore();
    const before = await write(keyring, keyStore, 'tenant-d', 2);
    const [v1] = fake.versions('rotating');
    const v2 = fake.rotateKey('rotating');
    const admin = new KeyAdmin(new KeyHierarchy({ keyring, keyStore, cache: { ttlMs: 60_000 } }));
    const rotated = await admin.rotateScope('tenant-d');
    expect(Buffer.from(rotated.wrappedKey!, 'base64').includes(Buffer.from(v2))).toBe(true);
    const after = await write(keyring, keyStore, 'tenant-d', 1);

    const reader = () => new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    expect(await reader().decrypt(before[0].value, before[0].ctx)).toBe(before[0].plaintext);
    expect(await reader().decrypt(after[0].value, after[0].ctx)).toBe(after[0].plaintext);
    // Disabling the old Key Vault version strands only data still under the old scope key.
    fake.setEnabled('rotating', v1, false);
    await expect(reader().decrypt(before[1].value, before[1].ctx)).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      azureCode: 'KeyDisabled',
    });
    expect(await reader().decrypt(after[0].value, after[0].ctx)).toBe(after[0].plaintext);
  });

  it('a MultiKeyring with an Azure member reads through Azure, and through its LocalKeyring copy while Azure is down', async () => {
    const recovery = new LocalKeyring(randomBytes(32));
    const multi = () => new MultiKeyring([azure(1), recovery]);
    expect(multi().id).toBe(`multi(${azure().id},${recovery.id})`);
    const keyStore = new MemoryKeyStore();
    const rows = await write(multi(), keyStore, 'tenant-e', 3);
    expect(fake.count('/wrapkey')).toBe(1);

    const reader = new FieldCrypto({ keyring: multi(), keyStore, cache: { ttlMs: 60_000 } });
    expect(await reader.decrypt(rows[0].value, rows[0].ctx)).toBe(rows[0].plaintext);
    expect(fake.count('/unwrapkey')).toBe(1);

    fake.inject({ status: 503 }, 1_000);
    const duringOutage = new FieldCrypto({ keyring: multi(), keyStore, cache: { ttlMs: 60_000 } });
    expect(await duringOutage.decrypt(rows[1].value, rows[1].ctx)).toBe(rows[1].plaintext);
    // Creating a key needs every member: no key is left without its Azure copy.
    await expect(write(multi(), keyStore, 'tenant-f', 1)).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      retryable: true,
    });
    fake.reset();
    // Recovery after losing the vault: the LocalKeyring member alone.
    const recovering = new FieldCrypto({ keyring: new MultiKeyring([recovery]), keyStore, cache: { ttlMs: 60_000 } });
    expect(await recovering.decrypt(rows[2].value, rows[2].ctx)).toBe(rows[2].plaintext);
  });
});
