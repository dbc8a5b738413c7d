import { randomBytes } from 'node:crypto';
import {
  DecryptionError,
  EnvelopeFormatError,
  HushfieldError,
  InvalidArgumentError,
  KeyNotFoundError,
  KeyStoreError,
} from './errors';
import { keyPrefixLength, parseEnvelope } from './envelope';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import type { DecryptItem } from './field-crypto';

/** `rows` rows of fields a, b, c, row r written under scope `scopes[r % scopes.length]`. */
async function written(rows: number, scopes: string[]) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const writer = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
  const items: DecryptItem[] = [];
  for (let r = 0; r < rows; r++) {
    const row = await writer.rowEncryptor(scopes[r % scopes.length]);
    for (const field of ['a', 'b', 'c']) {
      const ctx = { model: 'users', field, rowId: `r${r}` };
      items.push({ value: row.encrypt(`${field}${r}`, ctx), ctx });
    }
    row.dispose();
  }
  const expected = items.map((item) => `${item.ctx.field}${item.ctx.rowId!.slice(1)}`);
  return { keyring, keyStore, items, expected };
}

describe('FieldCrypto.decryptMany', () => {
  it('with scope keys cached and no DEK cache, takes one key-cache hit per scope key per call, however many rows', async () => {
    const { keyring, keyStore, items, expected } = await written(30, ['s1', 's2']);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000, maxUses: 3 }, dekCache: false });
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(reader.stats()).toMatchObject({ keyringCalls: 2, hits: 0 });
    // A key lent for every row would reach maxUses (3) within one call and be fetched again.
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(reader.stats()).toMatchObject({ keyringCalls: 2, hits: 2 });
  });

  it('decrypts rows under a cached scope key at once and resolves the others once each, rows interleaved', async () => {
    const { keyring, keyStore, items, expected } = await written(12, ['warm', 'cold1', 'cold2']);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    expect(await reader.decryptMany(items.slice(0, 3))).toEqual(expected.slice(0, 3));
    expect(reader.stats()).toMatchObject({ keyringCalls: 1 });
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(reader.stats()).toMatchObject({ keyringCalls: 3, dekMisses: 12, dekHits: 1 });
  });

  it('looks up the scope keys a cold read needs in one key-store call, not one a scope', async () => {
    const scopes = ['s1', 's2', 's3', 's4', 's5'];
    const { keyring, keyStore, items, expected } = await written(20, scopes);
    const batches = jest.spyOn(keyStore, 'getVersions');
    const single = jest.spyOn(keyStore, 'getVersion');
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(batches).toHaveBeenCalledTimes(1);
    expect(batches.mock.calls[0][0]).toHaveLength(scopes.length);
    expect(single).not.toHaveBeenCalled();
    expect(reader.stats()).toMatchObject({ keyringCalls: scopes.length });
  });

  it('with a key store that cannot look up several keys at once, asks for each', async () => {
    const { keyring, keyStore, items, expected } = await written(6, ['a', 'b', 'c']);
    const single = jest.spyOn(keyStore, 'getVersion');
    const reader = new FieldCrypto({
      keyring,
      // The same store without its optional `getVersions`.
      keyStore: new Proxy(keyStore, {
        get: (target, name: keyof MemoryKeyStore) =>
          name === 'getVersions' ? undefined : (target[name] as () => unknown).bind(target),
      }),
      cache: { ttlMs: 60_000 },
    });
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(single).toHaveBeenCalledTimes(3);
  });

  it('asks on its own for a key the batch left out, before calling it not found', async () => {
    const { keyring, keyStore, items, expected } = await written(6, ['a', 'b', 'c']);
    const getVersions = keyStore.getVersions.bind(keyStore);
    // A store that drops a row under load (as a batch read may hand back unprocessed keys).
    jest.spyOn(keyStore, 'getVersions').mockImplementation(async (refs) => (await getVersions(refs)).slice(1));
    const single = jest.spyOn(keyStore, 'getVersion');
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    expect(await reader.decryptMany(items)).toEqual(expected);
    expect(single).toHaveBeenCalledTimes(1);
  });

  it('falls back key by key when the batch throws at once or answers garbage', async () => {
    for (const broken of [
      () => {
        throw new Error('not connected');
      },
      async () => [null, 'row'] as never,
      async () => 'rows' as never,
    ]) {
      const { keyring, keyStore, items, expected } = await written(4, ['a', 'b']);
      const batches = jest.spyOn(keyStore, 'getVersions').mockImplementation(broken);
      const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
      expect(await reader.decryptMany(items)).toEqual(expected);
      expect(batches).toHaveBeenCalledTimes(1);
    }
  });

  it('keeps both causes when the batch and the key on its own fail', async () => {
    const { keyring, keyStore, items } = await written(2, ['a', 'b']);
    const first = new Error('current transaction is aborted');
    const then = new Error('connection reset');
    jest.spyOn(keyStore, 'getVersions').mockRejectedValue(first);
    jest.spyOn(keyStore, 'getVersion').mockRejectedValue(then);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const [result] = await reader.decryptMany(items);
    expect(result).toBeInstanceOf(KeyStoreError);
    expect(((result as Error).cause as AggregateError).errors).toEqual([first, then]);
  });

  it('does not use a row whose key id differs from the one asked for, if only in case', async () => {
    const { keyring, keyStore, items } = await written(1, ['only']);
    const stored = (await keyStore.getActive('scope', 'only'))!;
    const swapped = stored.keyId.replace(/[a-zA-Z]/, (c) =>
      c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
    );
    expect(swapped).not.toBe(stored.keyId);
    jest.spyOn(keyStore, 'getVersion').mockResolvedValue({ ...stored, keyId: swapped });
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const results = await reader.decryptMany(items);
    for (const result of results) expect(result).toBeInstanceOf(KeyNotFoundError);
  });

  it('does not use a key-store row the batch returned for another key version', async () => {
    const { keyring, keyStore, items, expected } = await written(4, ['one', 'two']);
    const one = (await keyStore.getActive('scope', 'one'))!;
    const two = (await keyStore.getActive('scope', 'two'))!;
    // A store answering with scope one's row under scope two's key id and version.
    jest.spyOn(keyStore, 'getVersions').mockResolvedValue([one, { ...one, keyId: two.keyId }]);
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const results = await reader.decryptMany(items);
    results.forEach((result, i) => {
      if (Math.floor(i / 3) % 2 === 0) expect(result).toBe(expected[i]);
      else expect(result).toBeInstanceOf(HushfieldError);
    });
  });

  it('returns a key store failure in place for its scope only, a failed batch lookup asked again key by key', async () => {
    const { keyring, keyStore, items, expected } = await written(6, ['ok', 'broken']);
    const broken = (await keyStore.getActive('scope', 'broken'))!.keyId;
    const getVersion = keyStore.getVersion.bind(keyStore);
    const batches = jest.spyOn(keyStore, 'getVersions').mockRejectedValue(new Error('connection reset'));
    jest
      .spyOn(keyStore, 'getVersion')
      .mockImplementation((keyId, version) =>
        keyId === broken ? Promise.reject(new Error('connection reset')) : getVersion(keyId, version),
      );
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const results = await reader.decryptMany(items);
    results.forEach((result, i) => {
      if (Math.floor(i / 3) % 2 === 0) expect(result).toBe(expected[i]);
      else expect(result).toBeInstanceOf(HushfieldError);
    });
    expect(batches).toHaveBeenCalledTimes(1);
  });

  it('checks every value of a row left for the second pass: malformed items and a tampered value fail in place', async () => {
    const { keyring, keyStore, items, expected } = await written(2, ['default']);
    const tampered = items[4].value.slice(0, -2) + (items[4].value.endsWith('AA') ? 'QA' : 'AA');
    const batch: DecryptItem[] = [
      items[0],
      null as never,
      { value: items[2].value, ctx: { model: 'users' } as never },
      items[3],
      { value: tampered, ctx: items[4].ctx },
      { value: items[5].value, ctx: items[0].ctx },
    ];
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const results = await reader.decryptMany(batch);
    expect(results[0]).toBe(expected[0]);
    expect(results[1]).toBeInstanceOf(InvalidArgumentError);
    expect(results[2]).toBeInstanceOf(InvalidArgumentError);
    expect(results[3]).toBe(expected[3]);
    expect(results[4]).toBeInstanceOf(DecryptionError);
    // Moved to another row's context: its associated data no longer matches.
    expect(results[5]).toBeInstanceOf(DecryptionError);
  });

  it("a cold read names a malformed value's error in place, whatever key its prefix names", async () => {
    const { keyring, keyStore, items, expected } = await written(3, ['default']);
    const prefix = items[0].value.slice(0, keyPrefixLength(items[0].value));
    const batch: DecryptItem[] = [
      items[0],
      { value: 'hfe$1$unknownKey$7$garbage', ctx: items[1].ctx },
      items[2],
      { value: `${prefix}not-base64!$x`, ctx: items[3].ctx },
      items[4],
    ];
    const reader = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const results = await reader.decryptMany(batch);
    expect([results[0], results[2], results[4]]).toEqual([expected[0], expected[2], expected[4]]);
    expect(results[1]).toBeInstanceOf(EnvelopeFormatError);
    expect(results[3]).toBeInstanceOf(EnvelopeFormatError);
    expect(reader.stats()).toMatchObject({ keyringCalls: 1 });
  });
});

describe('keyPrefixLength', () => {
  it('measures `hfe$1$<keyId>$<version>$` and refuses what parseEnvelope refuses in it', async () => {
    const { items } = await written(1, ['default']);
    const value = items[0].value;
    const { keyId, version } = parseEnvelope(value);
    expect(value.slice(0, keyPrefixLength(value))).toBe(`hfe$1$${keyId}$${version}$`);
    for (const bad of [
      '',
      'hfe$',
      'hfe$2$k$1$',
      'hfe$1$$1$',
      'hfe$1$k.y$1$',
      'hfe$1$k$01$',
      'hfe$1$k$x$',
      'hfe$1$k$2147483648$',
      'hfe$1$k$1',
      `hfe$1$${'k'.repeat(65)}$1$`,
      'hfe$1$k$$',
    ]) {
      expect(keyPrefixLength(bad)).toBe(0);
    }
    expect(keyPrefixLength('hfe$1$k_-9$2147483647$')).toBe('hfe$1$k_-9$2147483647$'.length);
  });
});
