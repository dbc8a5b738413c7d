import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { inspect } from 'node:util';
import type { AuditEvent } from './audit';
import {
  ConfigError,
  DecryptionError,
  EnvelopeFormatError,
  HushfieldError,
  InvalidArgumentError,
  KeyDestroyedError,
  KeyStoreError,
} from './errors';
import { FieldCrypto } from './field-crypto';
import { KeyAdmin } from './key-admin';
import { KeyHierarchy } from './key-hierarchy';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const users = { model: 'users', field: 'email', rowId: 'row-1' };

/** What `call` throws, or `undefined`. */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

function setup(extra: Partial<ConstructorParameters<typeof FieldCrypto>[0]> = {}) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const events: AuditEvent[] = [];
  const crypto = new FieldCrypto({
    keyring,
    keyStore,
    cache: { ttlMs: 60_000 },
    audit: { emit: (event) => void events.push(event) },
    ...extra,
  });
  return { keyring, keyStore, crypto, events };
}

describe('FieldCrypto', () => {
  it('round-trips a value through an envelope', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    const stored = row.encrypt('ada@example.com', users);
    row.dispose();
    expect(crypto.isEnvelope(stored)).toBe(true);
    expect(stored).not.toContain('ada');
    await expect(crypto.decrypt(stored, users)).resolves.toBe('ada@example.com');
  });

  it('decryptMany returns a typed error in place for a malformed item', async () => {
    const { crypto } = setup();
    const results = await crypto.decryptMany([null as never, { value: 'x', ctx: { model: 'm' } as never }]);
    expect(results.map((r) => (r as HushfieldError).code)).toEqual([
      'HUSHFIELD_INVALID_ARGUMENT',
      'HUSHFIELD_INVALID_ARGUMENT',
    ]);
  });

  it('a key-store failure while reading a key is a KeyStoreError (transient), never a decryption failure', async () => {
    const keyring = new LocalKeyring(randomBytes(32));
    const keyStore = new MemoryKeyStore();
    const writer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const encryptor = await writer.rowEncryptor('tenant-1');
    const sealed = encryptor.encrypt('ada@example.com', users);
    encryptor.dispose();
    // A new process whose database fails under the key store's reads.
    class FailingStore extends MemoryKeyStore {
      override async getVersion(): Promise<never> {
        throw new Error('connection terminated unexpectedly');
      }
    }
    const failing = new FailingStore();
    for (const key of await keyStore.list({})) await failing.insert(key);
    const reader = new FieldCrypto({ keyring, keyStore: failing, cache: { ttlMs: 60_000 } });
    const [many] = await reader.decryptMany([{ value: sealed, ctx: users }]);
    expect(many).toBeInstanceOf(KeyStoreError);
    expect(many).toMatchObject({
      code: 'HUSHFIELD_KEY_STORE',
      model: 'users',
      field: 'email',
      rowId: 'row-1',
      version: 1,
    });
    expect((many as Error).message).not.toContain('ada@example.com');
    expect((many as Error & { cause?: unknown }).cause).toMatchObject({
      message: 'connection terminated unexpectedly',
    });
    await expect(reader.decrypt(sealed, users)).rejects.toBeInstanceOf(KeyStoreError);
  });

  it.each([null, undefined, 'keyring'])('refuses options %p that are not an object, naming FieldCrypto', (options) => {
    const make = () => new FieldCrypto(options as never);
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(/^FieldCrypto: options must be an object, got (null|undefined|string)$/);
  });

  it.each([null, 'yes', 5, { sample: 2 }, { sample: '0.1' }])(
    'refuses auditDecrypts %p with InvalidArgumentError, with or without an audit sink',
    (auditDecrypts) => {
      const keyring = new LocalKeyring(randomBytes(32));
      for (const audit of [undefined, { emit: () => undefined }]) {
        const options = { keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 1000 }, audit };
        expect(() => new FieldCrypto({ ...options, auditDecrypts: auditDecrypts as never })).toThrow(
          'options.auditDecrypts.sample must be a number greater than 0 and at most 1',
        );
      }
    },
  );

  it('refuses a null keyStore with InvalidArgumentError, not a TypeError', () => {
    const keyring = new LocalKeyring(randomBytes(32));
    const make = () => new FieldCrypto({ keyring, keyStore: null as never, cache: { ttlMs: 1000 } });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow('options.keyStore must be a KeyStore');
  });

  it('refuses to be configured without a cache TTL', () => {
    const keyring = new LocalKeyring(randomBytes(32));
    expect(() => new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: {} as never })).toThrow(ConfigError);
  });

  it('refuses null for an option with a default (it was taken as left out): null is no setting, false turns off', () => {
    const keyring = new LocalKeyring(randomBytes(32));
    const make = (options: object) => () =>
      new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 60_000 }, ...options });
    const refused: [object, typeof ConfigError | typeof InvalidArgumentError, string][] = [
      [{ cache: null }, ConfigError, 'cache must be an object'],
      [{ cache: { ttlMs: 60_000, maxEntries: null } }, ConfigError, 'cache.maxEntries must be a positive integer'],
      [{ cache: { ttlMs: 60_000, maxUses: null } }, ConfigError, 'cache.maxUses must be a positive integer'],
      [{ cache: { ttlMs: 60_000, indexVersionsTtlMs: null } }, ConfigError, 'cache.indexVersionsTtlMs must be'],
      [{ dekCache: null }, InvalidArgumentError, 'options.dekCache must be { maxEntries } or false'],
      [{ dekCache: { maxEntries: null } }, InvalidArgumentError, 'options.dekCache.maxEntries must be'],
      [{ dekCache: {} }, InvalidArgumentError, 'options.dekCache.maxEntries must be'],
      [{ dekPool: { perScope: null } }, InvalidArgumentError, 'options.dekPool.perScope must be'],
      [{ parallelDecrypt: null }, InvalidArgumentError, 'options.parallelDecrypt must be an object or false'],
      [{ parallelDecrypt: { minValues: null } }, InvalidArgumentError, 'options.parallelDecrypt.minValues must be'],
    ];
    for (const [options, type, message] of refused) {
      expect([options, thrownBy(make(options))]).toEqual([options, expect.any(type)]);
      expect(make(options)).toThrow(message);
    }
    for (const options of [
      { dekCache: false },
      { dekPool: false },
      { parallelDecrypt: false },
      { dekCache: undefined },
    ])
      expect(make(options)).not.toThrow();
  });

  it('refuses an audit sink without emit(), or an actor that is not a function, with InvalidArgumentError', async () => {
    const keyring = new LocalKeyring(randomBytes(32));
    const make = (options: object) => () =>
      new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 60_000 }, ...options });
    // A function given as the sink (a natural slip in JavaScript) lost every event, warning only.
    for (const audit of [(event: AuditEvent) => void event, {}, 'audit', null]) {
      expect(make({ audit })).toThrow(InvalidArgumentError);
      expect(make({ audit })).toThrow('options.audit must be an AuditSink (an object with emit(event))');
    }
    for (const actor of [{ user: 'ada' }, 'ada', null]) {
      expect(make({ audit: { emit: () => undefined }, actor })).toThrow('options.actor must be a function');
    }
    expect(
      () => new KeyHierarchy({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 1 }, audit: {} as never }),
    ).toThrow(InvalidArgumentError);
    const { crypto, events } = setup({ actor: () => ({ user: 'ada' }) });
    (await crypto.rowEncryptor('default')).dispose();
    expect(events.map((event) => event.actor)).toContainEqual({ user: 'ada' });
  });

  it('writes one wrapped DEK for all fields of a row and a fresh one per row', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    const a = row.encrypt('a', users);
    const b = row.encrypt('b', { ...users, field: 'phone' });
    const next = (await crypto.rowEncryptor('default')).encrypt('a', users);
    const dekOf = (s: string) => s.split('$')[4];
    expect(dekOf(a)).toBe(dekOf(b));
    expect(dekOf(next)).not.toBe(dekOf(a));
  });

  it('rejects a ciphertext moved to another row, field or model', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('secret', users);
    await expect(crypto.decrypt(stored, { ...users, rowId: 'row-2' })).rejects.toThrow(DecryptionError);
    await expect(crypto.decrypt(stored, { ...users, field: 'name' })).rejects.toThrow(DecryptionError);
    await expect(crypto.decrypt(stored, { ...users, model: 'admins' })).rejects.toThrow(DecryptionError);
    await expect(crypto.decrypt(stored, { model: 'users', field: 'email' })).rejects.toThrow(DecryptionError);
  });

  it('decryptMany returns values and typed errors in place, one keyring call per scope key', async () => {
    const { crypto, keyring, keyStore } = setup();
    const writer = await crypto.rowEncryptor('t1');
    const good = writer.encrypt('v', users);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const result = await reader.decryptMany([
      { value: good, ctx: users },
      { value: 'garbage', ctx: users },
      { value: good, ctx: { ...users, rowId: 'x' } },
    ]);
    expect(result[0]).toBe('v');
    expect(result[1]).toBeInstanceOf(EnvelopeFormatError);
    expect(result[2]).toBeInstanceOf(DecryptionError);
    expect(reader.stats().keyringCalls).toBe(1);
  });

  it('a destroyed scope cannot decrypt and says the scope was destroyed', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('tenant-9')).encrypt('x', users);
    await expect(crypto.decrypt(stored, users)).resolves.toBe('x');
    expect(await crypto.keys.destroyScope('tenant-9')).toBe(1);
    const error = await crypto.decrypt(stored, users).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyDestroyedError);
    expect((error as Error).message).toContain('scope "tenant-9" was destroyed');
  });

  it('prints no key material', async () => {
    const { crypto } = setup();
    await crypto.rowEncryptor('default');
    expect(inspect(crypto)).toMatch(/^FieldCrypto/);
    expect(JSON.parse(JSON.stringify(crypto))).toHaveProperty('keyringCalls');
  });

  it('computes versioned blind indexes', async () => {
    const { crypto, keyring, keyStore } = setup();
    const fresh = () => new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const spec = {
      model: 'users',
      field: 'emailIdx',
      name: 'email',
      normalize: ['trim', 'lowercase'] as const,
      bits: 256,
    };
    const a = await crypto.blindIndex(spec, ' Ada@Example.com');
    expect(a).toBe(await crypto.blindIndex(spec, 'ada@example.com'));
    expect(crypto.blindIndexVersion(a)).toBe(1);
    await crypto.keys.rotateIndexKey();
    const all = await crypto.blindIndexAll(spec, 'ada@example.com');
    expect(all.map((v) => crypto.blindIndexVersion(v))).toEqual([2, 1]);
    expect(all[1]).toBe(a);
    // Again with every key cached (computed in place, without a key-store read): the same values.
    const list = jest.spyOn(keyStore, 'list');
    expect(await crypto.blindIndexAll(spec, 'ada@example.com')).toEqual(all);
    expect(list).not.toHaveBeenCalled();
    // And as a reader with nothing cached computes them.
    expect(await fresh().blindIndexAll(spec, 'ada@example.com')).toEqual(all);
  });

  it('refuses a blind index of a lone surrogate before reading any key (it would hash as U+FFFD)', async () => {
    const { crypto, keyStore } = setup();
    const list = jest.spyOn(keyStore, 'list');
    const getActive = jest.spyOn(keyStore, 'getActive');
    const spec = { model: 'users', field: 'emailIdx', name: 'email', normalize: [] as const, bits: 256 };
    await expect(crypto.blindIndex(spec, 'a\ud800')).rejects.toMatchObject({
      code: 'HUSHFIELD_INVALID_ARGUMENT',
      argument: 'value',
    });
    await expect(crypto.blindIndexAll(spec, 'a\udc00')).rejects.toMatchObject({
      code: 'HUSHFIELD_INVALID_ARGUMENT',
      argument: 'value',
    });
    expect(list).not.toHaveBeenCalled();
    expect(getActive).not.toHaveBeenCalled();
  });
});

describe('FieldCrypto round trips (property)', () => {
  it('round-trips arbitrary Unicode strings in any field and row', async () => {
    const { crypto } = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { nil: undefined }),
        async (plaintext, field, rowId) => {
          const ctx = { model: 'm', field, rowId };
          const row = await crypto.rowEncryptor('default');
          const stored = row.encrypt(plaintext, ctx);
          row.dispose();
          expect(await crypto.decrypt(stored, ctx)).toBe(plaintext);
          expect((await crypto.decryptMany([{ value: stored, ctx }]))[0]).toBe(plaintext);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips the empty string and a 1 MiB string', async () => {
    const { crypto } = setup();
    const big = 'ab€😀cdefghi'.repeat((1024 * 1024) / 16);
    expect(Buffer.byteLength(big)).toBe(1024 * 1024);
    const row = await crypto.rowEncryptor('default');
    for (const plaintext of ['', big]) {
      const stored = row.encrypt(plaintext, users);
      expect(await crypto.decrypt(stored, users)).toBe(plaintext);
    }
  });

  it('refuses a lone surrogate instead of silently corrupting it', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    expect(() => row.encrypt('a\ud800b', users)).toThrow('plaintext must be well-formed UTF-16');
  });

  it('refuses to encrypt after dispose, and zeroes the DEK', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    row.dispose();
    expect(() => row.encrypt('x', users)).toThrow('rowEncryptor was disposed');
  });

  it('names the bad context property', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    expect(() => row.encrypt('x', { model: '', field: 'f' })).toThrow('ctx.model must be');
    await expect(crypto.decrypt(row.encrypt('x', users), { model: 'm' } as never)).rejects.toThrow('ctx.field must be');
  });
});

describe('FieldCrypto caches', () => {
  it('N concurrent cold decrypts of one scope make one keyring unwrap', async () => {
    const { keyring, keyStore, crypto } = setup();
    const row = await crypto.rowEncryptor('t');
    const values = Array.from({ length: 25 }, (_, i) => row.encrypt(`v${i}`, users));
    const unwrap = jest.spyOn(keyring, 'unwrapKey');
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const results = await Promise.all(values.map((value) => reader.decrypt(value, users)));
    expect(results).toEqual(values.map((_, i) => `v${i}`));
    expect(unwrap).toHaveBeenCalledTimes(1);
    expect(reader.stats()).toMatchObject({ keyringCalls: 1, misses: 25, hits: 0 });
  });

  it('decryptMany of 3 fields × many rows costs one keyring call and one DEK unwrap per row; warm reads skip both', async () => {
    const { keyring, keyStore, crypto } = setup();
    const items = [];
    for (let r = 0; r < 200; r++) {
      const row = await crypto.rowEncryptor('default');
      for (const field of ['a', 'b', 'c']) {
        const ctx = { model: 'users', field, rowId: `r${r}` };
        items.push({ value: row.encrypt(`${field}${r}`, ctx), ctx });
      }
      row.dispose();
    }
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const cold = await reader.decryptMany(items);
    expect(cold).toEqual(items.map((item) => `${item.ctx.field}${item.ctx.rowId!.slice(1)}`));
    // The DEK cache is consulted once per row: the row's three fields share its DEK.
    expect(reader.stats()).toMatchObject({ keyringCalls: 1, dekMisses: 200, dekHits: 0 });
    // The cold read handed the DEKs it unwrapped to the cache: they must still be intact.
    expect(await reader.decryptMany(items)).toEqual(cold);
    expect(reader.stats()).toMatchObject({ keyringCalls: 1, dekMisses: 200, dekHits: 200 });
  });

  it('decryptMany decrypts every value when the DEK cache is smaller than the batch and fields of a row are far apart', async () => {
    const { keyring, keyStore, crypto } = setup();
    const rows = [];
    for (let r = 0; r < 20; r++) rows.push(await crypto.rowEncryptor(r % 2 === 0 ? 'default' : 'other'));
    const items = [];
    for (const field of ['a', 'b']) {
      for (let r = 0; r < rows.length; r++) {
        const ctx = { model: 'users', field, rowId: `r${r}` };
        items.push({ value: rows[r].encrypt(`${field}${r}`, ctx), ctx });
      }
    }
    for (const row of rows) row.dispose();
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, dekCache: { maxEntries: 2 } });
    const expected = items.map((item) => `${item.ctx.field}${item.ctx.rowId.slice(1)}`);
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(await reader.decryptMany(items)).toEqual(expected);
  });

  it('reading back a row it just wrote skips the DEK unwrap', async () => {
    const { crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    const stored = row.encrypt('x', users);
    row.dispose();
    await expect(crypto.decrypt(stored, users)).resolves.toBe('x');
    expect(crypto.stats()).toMatchObject({ dekHits: 1, dekMisses: 0 });
  });

  it('calls the keyring again once the cache TTL has passed', async () => {
    const { keyring, keyStore, crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('x', users);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 40 } });
    await reader.decrypt(stored, users);
    await reader.decrypt(stored, users);
    expect(reader.stats()).toMatchObject({ keyringCalls: 1, dekHits: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reader.stats().entries).toBe(0);
    await reader.decrypt(stored, users);
    expect(reader.stats()).toMatchObject({ keyringCalls: 2, dekHits: 1 });
  });

  it('caches a DEK no longer than its scope key, so a shred elsewhere stops decryption within the TTL', async () => {
    const { keyring, keyStore, crypto: other } = setup();
    const ctx = (rowId: string) => ({ ...users, rowId });
    const write = async (rowId: string, crypto: FieldCrypto) =>
      (await crypto.rowEncryptor('tenant')).encrypt(rowId, ctx(rowId));
    const first = await write('r1', other);
    const second = await write('r2', other);
    const ttlMs = 400;
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs } });
    const start = performance.now();
    await reader.decrypt(first, ctx('r1')); // caches the scope key until start + ttlMs
    await new Promise((resolve) => setTimeout(resolve, 250));
    await reader.decrypt(second, ctx('r2')); // a DEK unwrapped late in the scope key's life
    const written = await write('r3', reader); // and one registered by a write
    await other.keys.destroyScope('tenant'); // in another process: nothing evicted here
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + ttlMs + 50 - performance.now())));
    await expect(reader.decrypt(second, ctx('r2'))).rejects.toBeInstanceOf(KeyDestroyedError);
    await expect(reader.decrypt(written, ctx('r3'))).rejects.toBeInstanceOf(KeyDestroyedError);
    const many = await reader.decryptMany([{ value: second, ctx: ctx('r2') }]);
    expect(many[0]).toBeInstanceOf(KeyDestroyedError);
  });

  it('clearCaches drops every cached key and DEK', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('x', users);
    await crypto.decrypt(stored, users);
    crypto.clearCaches();
    expect(crypto.stats().entries).toBe(0);
    await expect(crypto.decrypt(stored, users)).resolves.toBe('x');
    expect(crypto.stats()).toMatchObject({ keyringCalls: 2, dekMisses: 1 });
  });

  it('works without a DEK cache, still unwrapping each row once per batch', async () => {
    const { keyring, keyStore, crypto } = setup();
    const row = await crypto.rowEncryptor('default');
    const items = ['a', 'b'].map((field) => ({
      value: row.encrypt(field, { ...users, field }),
      ctx: { ...users, field },
    }));
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, dekCache: false });
    expect(await reader.decryptMany(items)).toEqual(['a', 'b']);
    expect(reader.stats()).toMatchObject({ dekHits: 0, dekMisses: 0 });
  });

  it('destroying a scope drops its cached DEKs too', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('u1')).encrypt('x', users);
    const other = (await crypto.rowEncryptor('u2')).encrypt('y', users);
    await crypto.decryptMany([
      { value: stored, ctx: users },
      { value: other, ctx: users },
    ]);
    await crypto.keys.destroyScope('u1');
    const [gone, kept] = await crypto.decryptMany([
      { value: stored, ctx: users },
      { value: other, ctx: users },
    ]);
    expect(gone).toBeInstanceOf(KeyDestroyedError);
    expect(kept).toBe('y');
  });

  it('returns keyring failures in place from decryptMany', async () => {
    const { keyring, keyStore, crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('x', users);
    jest.spyOn(keyring, 'unwrapKey').mockRejectedValue(new Error('ETIMEDOUT'));
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const [result] = await reader.decryptMany([{ value: stored, ctx: users }]);
    expect(result).toMatchObject({ code: 'HUSHFIELD_KEYRING', operation: 'unwrap' });
  });
});

describe('FieldCrypto secrecy', () => {
  it('crypto.keys offers the key lifecycle and no method that returns key material', () => {
    const crypto = new FieldCrypto({
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 60_000 },
    });
    expect(crypto.keys).toBeInstanceOf(KeyAdmin);
    const methods = Object.getOwnPropertyNames(KeyAdmin.prototype)
      .filter((name) => name !== 'constructor')
      .sort();
    expect(methods).toEqual([
      'activeScopeKey',
      'clearCache',
      'createScope',
      'destroyScope',
      'existingScopeKey',
      'indexRootVersions',
      'list',
      'promoteIndexKey',
      'promoteScope',
      'publishIndexKey',
      'publishScope',
      'rewrap',
      'rotateIndexKey',
      'rotateScope',
      'toJSON',
    ]);
    expect((crypto.keys as unknown as Record<string, unknown>).scopeKeyMaterial).toBeUndefined();
  });

  it('prints no key bytes under inspect or JSON.stringify, warm caches included', async () => {
    const root = randomBytes(32);
    const keyring = new LocalKeyring(root);
    const keyStore = new MemoryKeyStore();
    const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const row = await crypto.rowEncryptor('default');
    const stored = row.encrypt('secret-plaintext', users);
    await crypto.decrypt(stored, users);
    const scopeKey = await new KeyHierarchy({ keyring, keyStore, cache: { ttlMs: 60_000 } }).scopeKeyMaterial(
      stored.split('$')[2],
      1,
    );
    const printed = [
      inspect(crypto, { depth: 20, showHidden: true }),
      JSON.stringify(crypto),
      inspect(row, { depth: 20 }),
      JSON.stringify(row),
      inspect(crypto.keys, { depth: 20, showHidden: true }),
    ].join('\n');
    for (const secret of [root, scopeKey]) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const)
        expect(printed).not.toContain(secret.toString(encoding));
    }
    expect(printed).not.toContain('secret-plaintext');
    expect(printed).not.toMatch(/<Buffer/);
  });

  it('error messages carry neither plaintext nor key material', async () => {
    const { crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('secret-plaintext', users);
    const error = (await crypto.decrypt(stored, { ...users, rowId: 'other' }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error.message).toContain('users.email, row other');
    expect(`${error.message}${inspect(error)}`).not.toContain('secret-plaintext');
    expect(`${error.message}`).not.toContain(stored.split('$')[4]);
  });

  it('emits value.decrypt events only when asked, without plaintext', async () => {
    const { keyring, keyStore, crypto } = setup();
    const stored = (await crypto.rowEncryptor('default')).encrypt('secret-plaintext', users);
    const events: AuditEvent[] = [];
    const reader = new FieldCrypto({
      keyring,
      keyStore,
      cache: { ttlMs: 60_000 },
      auditDecrypts: true,
      audit: { emit: (e) => void events.push(e) },
    });
    await reader.decrypt(stored, users);
    await reader.decrypt(stored, { ...users, rowId: 'x' }).catch(() => undefined);
    const decrypts = events.filter((e) => e.operation === 'value.decrypt');
    expect(decrypts.map((e) => e.outcome)).toEqual(['success', 'failure']);
    expect(decrypts[0].detail).toEqual({ model: 'users', field: 'email', rowId: 'row-1' });
    expect(JSON.stringify(events)).not.toContain('secret-plaintext');
    expect(events.filter((e) => e.operation === 'value.decrypt')).toHaveLength(2);
    const quiet: AuditEvent[] = [];
    await new FieldCrypto({
      keyring,
      keyStore,
      cache: { ttlMs: 60_000 },
      audit: { emit: (e) => void quiet.push(e) },
    }).decrypt(stored, users);
    expect(quiet.map((e) => e.operation)).toEqual(['keyring.unwrap']);
  });
});
