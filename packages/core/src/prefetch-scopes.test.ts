import { randomBytes } from 'node:crypto';
import { KeyDestroyedError, KeyStoreError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const ctx = { model: 'users', field: 'email' };

/** A key store with keys for `scopes`, and a cold reader/writer on it. */
async function withScopes(scopes: readonly string[]) {
  const keyring = new LocalKeyring(randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const creator = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
  for (const scope of scopes) (await creator.rowEncryptor(scope)).dispose();
  return { keyring, keyStore, crypto: new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } }) };
}

describe('FieldCrypto.prefetchScopes', () => {
  it('looks up the active keys of several scopes in one key-store call, and writes then need none', async () => {
    const scopes = ['t1', 't2', 't3', 't4'];
    const { keyStore, crypto } = await withScopes(scopes);
    const batches = jest.spyOn(keyStore, 'getActives');
    const single = jest.spyOn(keyStore, 'getActive');
    await crypto.prefetchScopes([...scopes, 't1', 42 as never, '']);
    expect(batches).toHaveBeenCalledTimes(1);
    expect(batches.mock.calls[0]).toEqual(['scope', scopes]);
    // No keyring call yet: a key is unwrapped on first use.
    expect(crypto.stats().keyringCalls).toBe(0);
    for (const scope of scopes) {
      const row = await crypto.rowEncryptor(scope);
      expect(await crypto.decrypt(row.encrypt(`v-${scope}`, ctx), ctx)).toBe(`v-${scope}`);
      row.dispose();
    }
    expect(single).not.toHaveBeenCalled();
    expect(crypto.stats().keyringCalls).toBe(scopes.length);
  });

  it('asks nothing for scopes already cached, or for one scope alone', async () => {
    const { keyStore, crypto } = await withScopes(['a', 'b']);
    const batches = jest.spyOn(keyStore, 'getActives');
    (await crypto.rowEncryptor('a')).dispose();
    await crypto.prefetchScopes(['a', 'b']);
    await crypto.prefetchScopes(['b']);
    expect(batches).not.toHaveBeenCalled();
  });

  it('leaves a scope without a key to be created on first use, and a failed lookup to each scope', async () => {
    const { keyStore, crypto } = await withScopes(['old']);
    jest.spyOn(keyStore, 'getActives').mockRejectedValueOnce(new Error('connection reset'));
    await crypto.prefetchScopes(['old', 'new']);
    const single = jest.spyOn(keyStore, 'getActive');
    for (const scope of ['old', 'new']) (await crypto.rowEncryptor(scope)).dispose();
    expect(single.mock.calls.map(([, scope]) => scope)).toEqual(['old', 'new']);
    expect((await keyStore.getActive('scope', 'new'))?.version).toBe(1);
  });

  it('caches no key a destroy overtook while the lookup ran', async () => {
    const { keyStore, crypto } = await withScopes(['x', 'y']);
    const getActives = keyStore.getActives.bind(keyStore);
    jest.spyOn(keyStore, 'getActives').mockImplementationOnce(async (kind, scopes) => {
      const found = await getActives(kind, scopes);
      await crypto.keys.destroyScope('x');
      return found;
    });
    await crypto.prefetchScopes(['x', 'y']);
    // Had the destroyed version been cached as active, this row would be sealed under it.
    await expect(crypto.rowEncryptor('x')).rejects.toBeInstanceOf(KeyDestroyedError);
    (await crypto.rowEncryptor('y')).dispose();
  });

  it('caches nothing a cache clear overtook while the lookup ran', async () => {
    const { keyStore, crypto } = await withScopes(['x', 'y']);
    const getActives = keyStore.getActives.bind(keyStore);
    jest.spyOn(keyStore, 'getActives').mockImplementationOnce(async (kind, scopes) => {
      const found = await getActives(kind, scopes);
      crypto.clearCaches();
      return found;
    });
    await crypto.prefetchScopes(['x', 'y']);
    const single = jest.spyOn(keyStore, 'getActive');
    (await crypto.rowEncryptor('x')).dispose();
    expect(single).toHaveBeenCalledTimes(1);
  });

  it('keeps the newer version when a rotation overtook the lookup', async () => {
    const { keyStore, crypto } = await withScopes(['x', 'y']);
    const getActives = keyStore.getActives.bind(keyStore);
    jest.spyOn(keyStore, 'getActives').mockImplementationOnce(async (kind, scopes) => {
      const found = await getActives(kind, scopes);
      await crypto.keys.rotateScope('x');
      return found;
    });
    await crypto.prefetchScopes(['x', 'y']);
    const row = await crypto.rowEncryptor('x');
    const envelope = row.encrypt('after the rotation', ctx);
    row.dispose();
    expect(crypto.describe(envelope).version).toBe(2);
  });

  it('ignores retired, index and malformed rows, and a store that answers garbage', async () => {
    const { keyStore, crypto } = await withScopes(['p', 'q']);
    const p = (await keyStore.getActive('scope', 'p'))!;
    const q = (await keyStore.getActive('scope', 'q'))!;
    jest
      .spyOn(keyStore, 'getActives')
      .mockResolvedValueOnce([{ ...p, state: 'retired' }, { ...q, kind: 'index' }, null as never]);
    await crypto.prefetchScopes(['p', 'q']);
    jest.spyOn(keyStore, 'getActives').mockResolvedValueOnce('rows' as never);
    await crypto.prefetchScopes(['p', 'q']);
    const single = jest.spyOn(keyStore, 'getActive');
    for (const scope of ['p', 'q']) (await crypto.rowEncryptor(scope)).dispose();
    expect(single.mock.calls.map(([, scope]) => scope)).toEqual(['p', 'q']);
  });

  it('uses only the rows it asked for, whatever else the store answers', async () => {
    const { keyStore, crypto } = await withScopes(['p', 'q', 'other']);
    const other = (await keyStore.getActive('scope', 'other'))!;
    const p = (await keyStore.getActive('scope', 'p'))!;
    // A case-insensitive collation, or a broken store, answering for scopes not asked about.
    jest.spyOn(keyStore, 'getActives').mockResolvedValueOnce([other, { ...p, scope: 'P' }]);
    await crypto.prefetchScopes(['p', 'q']);
    const single = jest.spyOn(keyStore, 'getActive');
    for (const scope of ['p', 'q']) (await crypto.rowEncryptor(scope)).dispose();
    expect(single.mock.calls.map(([, scope]) => scope)).toEqual(['p', 'q']);
  });
});

describe('an active-key lookup answered for another scope', () => {
  /** A key store whose scope column compares case-insensitively, as MySQL's default collations do. */
  function caseInsensitive(keyStore: MemoryKeyStore): void {
    const getActive = keyStore.getActive.bind(keyStore);
    jest
      .spyOn(keyStore, 'getActive')
      .mockImplementation(
        async (kind, scope) => (await getActive(kind, scope)) ?? getActive(kind, scope.toLowerCase()),
      );
  }

  it('refuses to seal under it: a typed error naming both scopes, and no value or key written', async () => {
    const { keyStore, crypto } = await withScopes(['acme']);
    caseInsensitive(keyStore);
    const write = crypto.rowEncryptor('Acme');
    await expect(write).rejects.toBeInstanceOf(KeyStoreError);
    await expect(crypto.rowEncryptor('Acme')).rejects.toThrow(/scope "acme" when asked for .* scope "Acme"/);
    expect((await keyStore.list({ kind: 'scope' })).map((key) => key.scope)).toEqual(['acme']);
    // The scope asked for exactly still writes and reads.
    const row = await crypto.rowEncryptor('acme');
    expect(await crypto.decrypt(row.encrypt('v', ctx), { ...ctx, scope: 'acme' })).toBe('v');
    row.dispose();
  });

  it("refuses to rotate or shred a scope on another scope's keys, and changes none", async () => {
    const { keyStore, crypto } = await withScopes(['acme']);
    caseInsensitive(keyStore);
    const list = keyStore.list.bind(keyStore);
    jest
      .spyOn(keyStore, 'list')
      .mockImplementation((filter) =>
        list(filter?.scope === undefined ? filter : { ...filter, scope: filter.scope.toLowerCase() }),
      );
    const before = await list({});
    await expect(crypto.keys.rotateScope('Acme')).rejects.toBeInstanceOf(KeyStoreError);
    await expect(crypto.keys.destroyScope('Acme')).rejects.toThrow(/listed keys of scope "acme" when asked .*"Acme"/);
    expect(await list({})).toEqual(before);
    expect((await crypto.keys.rotateScope('acme')).version).toBe(2);
  });

  it('refuses it where a caller asks whether a scope has a key', async () => {
    const { keyStore, crypto } = await withScopes(['acme']);
    caseInsensitive(keyStore);
    await expect(crypto.keys.existingScopeKey('Acme')).rejects.toBeInstanceOf(KeyStoreError);
    expect(await crypto.keys.existingScopeKey('acme')).toMatchObject({ scope: 'acme' });
  });

  it('refuses a key of another kind or state, as a broken store might answer', async () => {
    const { keyStore, crypto } = await withScopes(['p']);
    const p = (await keyStore.getActive('scope', 'p'))!;
    jest.spyOn(keyStore, 'getActive').mockResolvedValueOnce({ ...p, state: 'retired' });
    await expect(crypto.rowEncryptor('p')).rejects.toBeInstanceOf(KeyStoreError);
    jest.spyOn(keyStore, 'getActive').mockResolvedValueOnce({ ...p, kind: 'index' });
    await expect(crypto.rowEncryptor('p')).rejects.toBeInstanceOf(KeyStoreError);
    (await crypto.rowEncryptor('p')).dispose();
  });
});
