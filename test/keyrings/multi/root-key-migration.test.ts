/**
 * Moving to another root key, as the README's "Key rotation" says: `keys rewrap --to-keyring
 * <new>` (core's `KeyHierarchy.rewrap`), with every process pointed at a `MultiKeyring` holding
 * the old and the new keyring while it deploys. Such a process reads keys wrapped by either
 * member alone (the key store names which), before the rewrap and after it; a process still on
 * the old keyring alone fails with a KeyringError naming both.
 */
import { randomBytes } from 'node:crypto';
import {
  FieldCrypto,
  KeyringError,
  LocalKeyring,
  MemoryKeyStore,
  type FieldContext,
  type Keyring,
} from '@hushfield/core';
import { MultiKeyring } from '@hushfield/kms-aws';

const ctx: FieldContext = { model: 'users', field: 'email', rowId: 'row-1', scope: 'acme' };
const index = { model: 'users', field: 'email', name: 'emailIdx', normalize: [], bits: 256 };

describe('moving to another root key with a MultiKeyring while processes deploy', () => {
  const oldKeyring = new LocalKeyring(randomBytes(32), { id: 'old' });
  const newKeyring = new LocalKeyring(randomBytes(32), { id: 'new' });
  const keyStore = new MemoryKeyStore();
  const processOn = (keyring: Keyring) => new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
  let envelope: string;
  let indexValue: string;

  beforeAll(async () => {
    const app = processOn(oldKeyring);
    const row = await app.rowEncryptor('acme');
    envelope = row.encrypt('ada@example.com', ctx);
    row.dispose();
    indexValue = await app.blindIndex(index, 'ada@example.com');
  });

  it('reads keys the old keyring wrapped, before the rewrap', async () => {
    const deploying = processOn(new MultiKeyring([oldKeyring, newKeyring]));
    expect(await deploying.decrypt(envelope, ctx)).toBe('ada@example.com');
    expect(await deploying.blindIndex(index, 'ada@example.com')).toBe(indexValue);
  });

  it('reads keys the new keyring wrapped, after the rewrap; the old keyring alone fails naming both', async () => {
    const cli = processOn(oldKeyring);
    expect(await cli.keys.rewrap(newKeyring)).toEqual({ rewrapped: 2, skipped: 0 });

    const deploying = processOn(new MultiKeyring([oldKeyring, newKeyring]));
    expect(await deploying.decrypt(envelope, ctx)).toBe('ada@example.com');
    expect(await deploying.blindIndex(index, 'ada@example.com')).toBe(indexValue);
    expect(await processOn(newKeyring).decrypt(envelope, ctx)).toBe('ada@example.com');

    const stale = await processOn(oldKeyring)
      .decrypt(envelope, ctx)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(stale).toBeInstanceOf(KeyringError);
    expect(stale).toMatchObject({ wrappedBy: 'new', keyringId: 'old' });
  });

  it('a key created meanwhile under both is moved by one more rewrap from the MultiKeyring, then the new keyring alone reads it', async () => {
    const deploying = processOn(new MultiKeyring([newKeyring, oldKeyring]));
    const beta: FieldContext = { ...ctx, scope: 'beta' };
    const row = await deploying.rowEncryptor('beta');
    const betaEnvelope = row.encrypt('bob@example.com', beta);
    row.dispose();
    await expect(processOn(newKeyring).decrypt(betaEnvelope, beta)).rejects.toThrow(KeyringError);
    expect(await processOn(new MultiKeyring([newKeyring, oldKeyring])).keys.rewrap(newKeyring)).toEqual({
      rewrapped: 1,
      skipped: 2,
    });
    expect(await processOn(newKeyring).decrypt(betaEnvelope, beta)).toBe('bob@example.com');
    expect(await processOn(newKeyring).decrypt(envelope, ctx)).toBe('ada@example.com');
  });
});
