/**
 * Tampering: no edit of a stored envelope, of where it lives, or of the key store yields a
 * plaintext; each is refused with a typed error.
 */
import { randomBytes } from 'node:crypto';
import {
  DecryptionError,
  EnvelopeFormatError,
  HushfieldError,
  KeyDestroyedError,
  KeyNotFoundError,
  KeyringError,
} from './errors';
import { FieldCrypto } from './field-crypto';
import { wrapContext } from './keyring-calls';
import type { KeyStore, NewStoredKey, StoredKey } from './key-store';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import { createRowEncryptor } from './row-encryptor';

const ctx = { model: 'users', field: 'email', rowId: 'row-1' };

function setup(keyStore: KeyStore = new MemoryKeyStore()) {
  const keyring = new LocalKeyring(randomBytes(32));
  return { keyring, keyStore, crypto: new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } }) };
}

function expectRefused(result: string | HushfieldError, label: string): void {
  if (typeof result === 'string') throw new Error(`${label} decrypted to a value`);
  expect([EnvelopeFormatError, DecryptionError, KeyNotFoundError].some((type) => result instanceof type)).toBe(true);
}

describe('tampering', () => {
  it('rejects every single-bit flip of an envelope', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('ada@example.com', ctx);
    const variants: { value: string; label: string }[] = [];
    for (let i = 0; i < stored.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = String.fromCharCode(stored.charCodeAt(i) ^ (1 << bit));
        variants.push({ value: stored.slice(0, i) + flipped + stored.slice(i + 1), label: `char ${i} bit ${bit}` });
      }
    }
    const results = await crypto.decryptMany(variants.map((v) => ({ value: v.value, ctx })));
    results.forEach((result, i) => expectRefused(result, variants[i].label));
    expect(variants).toHaveLength(stored.length * 8);
    // The untouched value still decrypts, so the refusals above are the flips' doing.
    await expect(crypto.decrypt(stored, ctx)).resolves.toBe('ada@example.com');
  });

  it('rejects every truncation and every extension of an envelope', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('ada@example.com', ctx);
    const variants: string[] = [];
    for (let length = 0; length < stored.length; length++) variants.push(stored.slice(0, length));
    for (const tail of ['A', 'AA', 'AAA', 'AAAA', '$', '=', ' ', '\n', '\u0000']) variants.push(stored + tail);
    const results = await crypto.decryptMany(variants.map((value) => ({ value, ctx })));
    results.forEach((result, i) => expectRefused(result, JSON.stringify(variants[i])));
  });

  it('rejects edits anywhere in a large envelope (assembled in one buffer when written)', async () => {
    const { crypto } = setup();
    const plaintext = 'x'.repeat(1024 * 1024);
    const stored = (await crypto.rowEncryptor('default')).encrypt(plaintext, ctx);
    const sealedStart = stored.lastIndexOf('$') + 1;
    const variants: string[] = [];
    for (const at of [sealedStart, sealedStart + 16, (sealedStart + stored.length) >> 1, stored.length - 1]) {
      for (const char of ['A', 'B', '+', '/', '=', ' ', '\u00e9', '\u0141']) {
        if (stored[at] !== char) variants.push(stored.slice(0, at) + char + stored.slice(at + 1));
      }
    }
    variants.push(stored.slice(0, -1), `${stored}A`, `${stored}AA`);
    const results = await crypto.decryptMany(variants.map((value) => ({ value, ctx })));
    results.forEach((result, i) => expectRefused(result, `variant ${i}`));
    await expect(crypto.decrypt(stored, ctx)).resolves.toBe(plaintext);
  });

  it.each([
    ['another row', { ...ctx, rowId: 'row-2' }],
    ['no row id', { model: ctx.model, field: ctx.field }],
    ['an empty row id', { ...ctx, rowId: '' }],
    ['another field', { ...ctx, field: 'phone' }],
    ['another model', { ...ctx, model: 'admins' }],
  ])('rejects a ciphertext moved to %s', async (_label, moved) => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('ada@example.com', ctx);
    await expect(crypto.decrypt(stored, moved)).rejects.toThrow(DecryptionError);
  });

  it("rejects a value whose wrapped DEK was swapped with another row's", async () => {
    const { crypto } = setup();
    const a = (await crypto.rowEncryptor('default')).encrypt('ada@example.com', ctx);
    const b = (await crypto.rowEncryptor('default')).encrypt('bob@example.com', ctx);
    const field = (text: string, n: number) => text.split('$')[n];
    const swapped = a.replace(field(a, 4), field(b, 4));
    expect(swapped).not.toBe(a);
    await expect(crypto.decrypt(b, ctx)).resolves.toBe('bob@example.com'); // b's DEK is now cached
    await expect(crypto.decrypt(swapped, ctx)).rejects.toThrow(DecryptionError);
  });

  it("rejects a value relabelled with another scope's key id", async () => {
    const { crypto } = setup();
    const a = (await crypto.rowEncryptor('tenant-a')).encrypt('ada@example.com', ctx);
    const b = (await crypto.rowEncryptor('tenant-b')).encrypt('bob@example.com', ctx);
    const relabelled = a.replace(a.split('$')[2], b.split('$')[2]);
    await expect(crypto.decrypt(relabelled, ctx)).rejects.toThrow(DecryptionError);
  });

  it('fails at unwrap when wrapped scope keys are swapped between scopes in the key store', async () => {
    const inner = new MemoryKeyStore();
    const { crypto, keyring } = setup(inner);
    const a = (await crypto.rowEncryptor('tenant-a')).encrypt('ada@example.com', ctx);
    await crypto.rowEncryptor('tenant-b');
    const [keyA] = await inner.list({ scope: 'tenant-a' });
    const [keyB] = await inner.list({ scope: 'tenant-b' });
    // An attacker with write access to the key table copies tenant-b's wrapped key into tenant-a's row.
    const swapped = new SwappingStore(inner, keyA.keyId, keyB.wrappedKey!);
    const reader = new FieldCrypto({ keyring, keyStore: swapped, cache: { ttlMs: 60_000 } });
    const error = await reader.decrypt(a, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringError);
    expect((error as KeyringError).operation).toBe('unwrap');
  });

  it('never uses the blind-index root key as a scope key, cached or not', async () => {
    const { crypto, keyring, keyStore } = setup();
    // Computing a blind index caches the index root key, under its key id and version.
    const spec = { model: 'users', field: 'email', name: 'email_idx', normalize: [], bits: 256 };
    await crypto.blindIndex(spec, 'ada@example.com');
    const [root] = await keyStore.list({ kind: 'index' });
    // An envelope naming the index root key, its DEK wrapped under that key (as if it were a scope key).
    const key = await keyring.unwrapKey(Buffer.from(root.wrappedKey!, 'base64'), wrapContext(root));
    const row = createRowEncryptor({ keyId: root.keyId, scope: 'default', version: root.version, key });
    const forged = row.encrypt('ada@example.com', ctx);
    row.dispose();
    key.fill(0);
    const fresh = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    for (const reader of [crypto, fresh]) {
      for (const read of [ctx, { ...ctx, scope: 'default' }]) {
        await expect(reader.decrypt(forged, read)).rejects.toThrow(KeyNotFoundError);
        const [many] = await reader.decryptMany([{ value: forged, ctx: read }]);
        expect(many).toBeInstanceOf(KeyNotFoundError);
      }
    }
  });

  it('a destroyed scope cannot decrypt, in this process or a fresh one', async () => {
    const { crypto, keyring, keyStore } = setup();
    const stored = (await crypto.rowEncryptor('user-9')).encrypt('ada@example.com', ctx);
    await expect(crypto.decrypt(stored, ctx)).resolves.toBe('ada@example.com');
    await crypto.keys.destroyScope('user-9');
    const fresh = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    for (const reader of [crypto, fresh]) {
      const error = await reader.decrypt(stored, ctx).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyDestroyedError);
      expect(error).toMatchObject({ scope: 'user-9', model: 'users', field: 'email', rowId: 'row-1' });
      expect((error as Error).message).toMatch(/scope "user-9" was destroyed/);
      const [many] = await reader.decryptMany([{ value: stored, ctx }]);
      expect(many).toBeInstanceOf(KeyDestroyedError);
    }
    expect((await keyStore.list({ scope: 'user-9' }))[0]).toMatchObject({ state: 'destroyed', wrappedKey: null });
  });

  it("refuses a tampered wrapped DEK while the row's DEK is cached", async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('ada@example.com', ctx);
    // Read once more so the DEK cache holds the row's DEK under the untampered text.
    await expect(crypto.decrypt(stored, ctx)).resolves.toBe('ada@example.com');
    const parts = stored.split('$');
    const wrapped = parts[4];
    const withWrapped = (text: string) => [...parts.slice(0, 4), text, parts[5]].join('$');
    // Standard base64's '+' where base64url has '-' or '_': the right length, not base64url.
    const nonCanonical = withWrapped(`${wrapped.slice(0, -1)}+`);
    // A canonical edit of the wrapped DEK's first character: a different, well-formed wrapped DEK.
    const flipped = withWrapped((wrapped[0] === 'A' ? 'B' : 'A') + wrapped.slice(1));
    const results = await crypto.decryptMany([
      { value: stored, ctx },
      { value: nonCanonical, ctx },
      { value: flipped, ctx },
    ]);
    expect(results[0]).toBe('ada@example.com');
    expect(results[1]).toBeInstanceOf(EnvelopeFormatError);
    expect(results[2]).toBeInstanceOf(DecryptionError);
    // The untampered value was a DEK-cache hit, so the hit path is the one exercised.
    expect(crypto.stats().dekHits).toBeGreaterThanOrEqual(2);
  });
});

/** A key store that serves another scope's wrapped key for one key id. */
class SwappingStore implements KeyStore {
  constructor(
    private readonly inner: KeyStore,
    private readonly keyId: string,
    private readonly wrappedKey: string,
  ) {}
  getActive(kind: StoredKey['kind'], scope: string) {
    return this.inner.getActive(kind, scope);
  }
  async getVersion(keyId: string, version: number) {
    const key = await this.inner.getVersion(keyId, version);
    return key !== null && keyId === this.keyId ? { ...key, wrappedKey: this.wrappedKey } : key;
  }
  list(filter?: Parameters<KeyStore['list']>[0]) {
    return this.inner.list(filter);
  }
  insert(key: NewStoredKey) {
    return this.inner.insert(key);
  }
  rotate(key: NewStoredKey) {
    return this.inner.rotate(key);
  }
  destroy(kind: StoredKey['kind'], scope: string) {
    return this.inner.destroy(kind, scope);
  }
  replaceWrapped(...args: Parameters<KeyStore['replaceWrapped']>) {
    return this.inner.replaceWrapped(...args);
  }
}
