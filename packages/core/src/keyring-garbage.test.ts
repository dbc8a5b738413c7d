import { randomBytes } from 'node:crypto';
import { HushfieldError } from './errors';
import { FieldCrypto } from './field-crypto';
import type { Keyring } from './keyring';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const ctx = { model: 'users', field: 'email', rowId: '1' };

function keyringWith(over: Partial<Keyring>): Keyring {
  const base = new LocalKeyring(randomBytes(32));
  return {
    id: base.id,
    wrapKey: (k, c) => base.wrapKey(k, c),
    unwrapKey: (w, c) => base.unwrapKey(w, c),
    ...over,
  } as Keyring;
}

async function write(crypto: FieldCrypto) {
  const row = await crypto.rowEncryptor('A');
  try {
    return row.encrypt('secret', ctx);
  } finally {
    row.dispose();
  }
}

describe('garbage from a keyring on key creation', () => {
  it.each([
    [
      'generateKey: 16-byte plaintext key',
      { generateKey: async () => ({ plaintextKey: randomBytes(16), wrappedKey: randomBytes(60) }) },
    ],
    [
      'generateKey: plaintext key not a buffer',
      { generateKey: async () => ({ plaintextKey: 'x'.repeat(32), wrappedKey: randomBytes(60) }) },
    ],
    ['generateKey: wrapped key missing', { generateKey: async () => ({ plaintextKey: randomBytes(32) }) }],
    [
      'generateKey: wrapped key empty',
      { generateKey: async () => ({ plaintextKey: randomBytes(32), wrappedKey: Buffer.alloc(0) }) },
    ],
    ['wrapKey returns undefined', { wrapKey: async () => undefined }],
    ['wrapKey returns empty buffer', { wrapKey: async () => Buffer.alloc(0) }],
    ['wrapKey returns a string', { wrapKey: async () => 'abc' }],
  ])('%s: a typed error, nothing stored', async (_name, over) => {
    const keyStore = new MemoryKeyStore();
    const crypto = new FieldCrypto({
      keyring: keyringWith(over as Partial<Keyring>),
      keyStore,
      cache: { ttlMs: 60_000 },
    });
    const result = await write(crypto).catch((error: unknown) => error);
    const stored = await keyStore.list({});
    expect({ error: result instanceof HushfieldError ? 'typed' : result, stored: stored.length }).toEqual({
      error: 'typed',
      stored: 0,
    });
  });
});

describe('garbage from a keyring on unwrap', () => {
  it.each([
    ['31 bytes', 31],
    ['33 bytes', 33],
    ['64 bytes', 64],
  ])('unwrapKey returning a key of %s: a typed error, and the returned key is zeroed', async (_name, length) => {
    const keyStore = new MemoryKeyStore();
    const writer = new FieldCrypto({ keyring: keyringWith({}), keyStore, cache: { ttlMs: 60_000 } });
    const stored = await write(writer);
    const returned: Buffer[] = [];
    const reader = new FieldCrypto({
      keyring: keyringWith({
        id: (await keyStore.list({}))[0].keyringId,
        unwrapKey: async () => {
          const key = randomBytes(length);
          returned.push(key);
          return key;
        },
      }),
      keyStore,
      cache: { ttlMs: 60_000 },
    });
    const result = await reader.decrypt(stored, ctx).catch((error: unknown) => error);
    expect(result).toBeInstanceOf(HushfieldError);
    expect(returned.length).toBeGreaterThan(0);
    expect(returned.map((key) => key.equals(Buffer.alloc(length)))).toEqual(returned.map(() => true));
  });
});
