/**
 * MultiKeyring across keyring kinds: a Vault Transit primary with an AWS KMS key (the KMS
 * emulator) or a LocalKeyring as the recovery copy. Every scope key is wrapped under both;
 * while Vault is sealed, reads fall back to the other copy; a recovery keyring alone reads the
 * data after Vault is lost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  FieldCrypto,
  LocalKeyring,
  MemoryKeyStore,
  type FieldContext,
  type Keyring,
  type KeyStore,
} from '@hushfield/core';
import { AwsKmsKeyring, MultiKeyring } from '@hushfield/kms-aws';
import { VaultTransitKeyring } from '@hushfield/kms-vault';
import { kmsAdmin, startKmsEmulator, type KmsEmulator } from '../../kms/emulator';
import { startVaultServer, type VaultServer } from '../vault/server';

describe('MultiKeyring with a Vault Transit primary', () => {
  let vault: VaultServer;
  let kms: KmsEmulator;
  let aws: AwsKmsKeyring;
  const ctx = (): FieldContext => ({ model: 'users', field: 'email', rowId: randomUUID() });

  const vaultKeyring = () =>
    new VaultTransitKeyring({
      address: vault.address,
      keyName: 'hushfield',
      auth: { token: vault.createToken(['transit/encrypt/hushfield', 'transit/decrypt/hushfield']) },
      retry: { maxAttempts: 2, sleep: async () => undefined },
    });

  async function write(keyring: Keyring, keyStore: KeyStore, scope: string, count: number) {
    const writer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const encryptor = await writer.rowEncryptor(scope);
    const rows = Array.from({ length: count }, (_, i) => {
      const context = ctx();
      const plaintext = `user-${i}@example.com`;
      return { value: encryptor.encrypt(plaintext, context), ctx: context, plaintext };
    });
    encryptor.dispose();
    return rows;
  }

  beforeAll(async () => {
    vault = await startVaultServer();
    vault.createKey('hushfield', { derived: true });
    kms = await startKmsEmulator();
    const key = await kmsAdmin(kms).createKey();
    aws = new AwsKmsKeyring({
      keyId: key.arn,
      clientConfig: { endpoint: kms.endpoint, region: kms.region, credentials: kms.credentials },
      retry: { maxAttempts: 1 },
    });
  });
  beforeEach(() => vault.reset());
  afterAll(async () => {
    aws.destroy();
    await kms.stop();
    await vault.stop();
  });

  it('wraps under Vault and AWS KMS, reads through Vault, and falls back to AWS while Vault is sealed', async () => {
    const keyring = new MultiKeyring([vaultKeyring(), aws]);
    expect(keyring.id).toBe(`multi(vault-transit:transit/hushfield,${aws.id})`);
    const keyStore = new MemoryKeyStore();
    const rows = await write(keyring, keyStore, 'tenant-a', 3);
    expect(vault.count('encrypt/hushfield')).toBeGreaterThanOrEqual(1);

    const reader = new FieldCrypto({
      keyring: new MultiKeyring([vaultKeyring(), aws]),
      keyStore,
      cache: { ttlMs: 60_000 },
    });
    expect(await reader.decrypt(rows[0].value, rows[0].ctx)).toBe(rows[0].plaintext);
    const kmsDecryptsBefore = kms.calls.get('Decrypt');
    expect(kmsDecryptsBefore).toBe(0); // Vault answered first

    const vaultDecryptsBefore = vault.count('decrypt/hushfield');
    vault.sealed = true;
    const duringOutage = new FieldCrypto({
      keyring: new MultiKeyring([vaultKeyring(), aws]),
      keyStore,
      cache: { ttlMs: 60_000 },
    });
    expect(await duringOutage.decrypt(rows[1].value, rows[1].ctx)).toBe(rows[1].plaintext);
    expect(kms.calls.get('Decrypt')).toBe(1);
    expect(vault.count('decrypt/hushfield') - vaultDecryptsBefore).toBe(2); // one attempt and one retry, then the fallback

    // Recovery after losing Vault for good: the AWS member alone, in a MultiKeyring naming only it.
    const recovery = new FieldCrypto({ keyring: new MultiKeyring([aws]), keyStore, cache: { ttlMs: 60_000 } });
    expect(await recovery.decrypt(rows[2].value, rows[2].ctx)).toBe(rows[2].plaintext);
  });

  it('refuses to create a key while Vault is sealed, rather than leave a key without its Vault copy', async () => {
    const keyring = new MultiKeyring([vaultKeyring(), new LocalKeyring(randomBytes(32))]);
    vault.sealed = true;
    await expect(write(keyring, new MemoryKeyStore(), 'tenant-b', 1)).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      retryable: true,
    });
  });

  it('recovers with a LocalKeyring copy when the Vault member fails for good (key version retired)', async () => {
    const local = new LocalKeyring(randomBytes(32));
    const keyStore = new MemoryKeyStore();
    vault.createKey('retiring', { derived: true });
    const retiring = new VaultTransitKeyring({
      address: vault.address,
      keyName: 'retiring',
      auth: { token: vault.rootToken },
      retry: { maxAttempts: 1 },
    });
    const rows = await write(new MultiKeyring([retiring, local]), keyStore, 'tenant-c', 2);
    vault.rotateKey('retiring');
    vault.configureKey('retiring', { minDecryptionVersion: 2 });
    const reader = new FieldCrypto({
      keyring: new MultiKeyring([retiring, local]),
      keyStore,
      cache: { ttlMs: 60_000 },
    });
    expect(await reader.decrypt(rows[0].value, rows[0].ctx)).toBe(rows[0].plaintext);
    expect(vault.count('decrypt/retiring')).toBe(1);
  });
});
