import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const users = { model: 'users', field: 'email', rowId: 'row-1' };
const spec = { model: 'users', field: 'emailIdx', name: 'email', normalize: ['trim', 'lowercase'] as const, bits: 256 };

function setup(ttlMs = 60_000) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  return { keyring, keyStore, crypto: new FieldCrypto({ keyring, keyStore, cache: { ttlMs } }) };
}

describe('FieldCrypto synchronous warm paths', () => {
  it('cachedRowEncryptor returns undefined on a cold cache without calling the keyring or creating a key', async () => {
    const { crypto, keyStore } = setup();
    expect(crypto.cachedRowEncryptor('default')).toBeUndefined();
    expect(crypto.stats().keyringCalls).toBe(0);
    expect(await keyStore.list({ kind: 'scope', scope: 'default' })).toEqual([]);
  });

  it('cachedRowEncryptor gives a fresh DEK per row once the scope key is cached, and its envelopes decrypt', async () => {
    const { crypto, keyring, keyStore } = setup();
    (await crypto.rowEncryptor('default')).dispose();
    const calls = crypto.stats().keyringCalls;
    const first = crypto.cachedRowEncryptor('default')!;
    const second = crypto.cachedRowEncryptor('default')!;
    const a = first.encrypt('ada@example.com', users);
    const b = second.encrypt('ada@example.com', users);
    first.dispose();
    second.dispose();
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]); // wrapped DEKs differ
    expect(crypto.stats().keyringCalls).toBe(calls);
    // A reader with cold caches (no DEK registered by the writer) unwraps the same envelope.
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    await expect(reader.decrypt(a, users)).resolves.toBe('ada@example.com');
    await expect(reader.decrypt(b, users)).resolves.toBe('ada@example.com');
  });

  it('cachedRowEncryptor writes the same envelope layout as rowEncryptor', async () => {
    const { crypto } = setup();
    const viaAsync = (await crypto.rowEncryptor('t1')).encrypt('x', users);
    const viaSync = crypto.cachedRowEncryptor('t1')!.encrypt('x', users);
    expect(viaSync.split('$').slice(0, 4)).toEqual(viaAsync.split('$').slice(0, 4));
    expect(viaSync.length).toBe(viaAsync.length);
  });

  it('cachedRowEncryptor returns undefined for a destroyed scope, a non-string scope, and after clearCaches', async () => {
    const { crypto } = setup();
    (await crypto.rowEncryptor('gone')).dispose();
    (await crypto.rowEncryptor('kept')).dispose();
    await crypto.keys.destroyScope('gone');
    expect(crypto.cachedRowEncryptor('gone')).toBeUndefined();
    expect(crypto.cachedRowEncryptor(42 as never)).toBeUndefined();
    crypto.cachedRowEncryptor('kept')!.dispose();
    crypto.clearCaches();
    expect(crypto.cachedRowEncryptor('kept')).toBeUndefined();
  });

  it('cachedRowEncryptor returns undefined once the cache TTL has passed', async () => {
    const { crypto } = setup(30);
    (await crypto.rowEncryptor('default')).dispose();
    expect(crypto.cachedRowEncryptor('default')).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(crypto.cachedRowEncryptor('default')).toBeUndefined();
  });

  it('cachedBlindIndex returns undefined cold and the same value as blindIndex warm', async () => {
    const { crypto } = setup();
    expect(crypto.cachedBlindIndex(spec, 'ada@example.com')).toBeUndefined();
    expect(crypto.stats().keyringCalls).toBe(0);
    const expected = await crypto.blindIndex(spec, ' Ada@Example.com');
    expect(crypto.cachedBlindIndex(spec, 'ada@example.com')).toBe(expected);
    await crypto.keys.rotateIndexKey();
    // The root versions changed: the new current version's key is not derived yet.
    expect(crypto.cachedBlindIndex(spec, 'ada@example.com')).toBeUndefined();
    const rotated = await crypto.blindIndex(spec, 'ada@example.com');
    expect(crypto.blindIndexVersion(rotated)).toBe(2);
    expect(crypto.cachedBlindIndex(spec, 'ada@example.com')).toBe(rotated);
  });

  it('cachedBlindIndex refuses an invalid spec with the typed error blindIndex throws', async () => {
    const { crypto } = setup();
    const bad = { ...spec, bits: 0 };
    expect(() => crypto.cachedBlindIndex(bad, 'x')).toThrow(InvalidArgumentError);
    await expect(crypto.blindIndex(bad, 'x')).rejects.toThrow(InvalidArgumentError);
  });

  it('warm lookups arm no timer (the caches read the clock instead of memoizing it)', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('x', users);
    await crypto.blindIndex(spec, 'x');
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      for (let i = 0; i < 3; i++) {
        crypto.cachedRowEncryptor('default')!.dispose();
        crypto.cachedBlindIndex(spec, 'x');
        await crypto.decrypt(stored, users);
        await new Promise((resolve) => setImmediate(resolve)); // past lru-cache's old 1 ms memo, if it were on
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
