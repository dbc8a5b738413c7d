import { KeyConflictError, InvalidArgumentError } from './errors';
import { MemoryKeyStore } from './memory-key-store';

const key = (version: number, extra: object = {}) => ({
  keyId: 'k1',
  kind: 'scope' as const,
  scope: 's',
  version,
  wrappedKey: `w${version}`,
  keyringId: 'r',
  ...extra,
});

describe('MemoryKeyStore', () => {
  it('inserts, reads the active version, and lists in order', async () => {
    const store = new MemoryKeyStore();
    await store.insert(key(1));
    await store.insert({ ...key(1), keyId: 'i1', kind: 'index', scope: 'default' });
    expect(await store.getActive('scope', 's')).toMatchObject({ version: 1, state: 'active' });
    expect(await store.getVersion('k1', 1)).toMatchObject({ wrappedKey: 'w1' });
    expect(await store.getVersion('k1', 2)).toBeNull();
    expect((await store.list()).map((k) => k.kind)).toEqual(['index', 'scope']);
    const found = await store.getVersions([
      { keyId: 'i1', version: 1 },
      { keyId: 'k1', version: 2 },
      { keyId: 'k1', version: 1 },
    ]);
    expect(found.map((k) => k.keyId)).toEqual(['i1', 'k1']);
  });

  it('adds a pending version after the active one, and promotes it atomically: one wins of two', async () => {
    const store = new MemoryKeyStore();
    await store.insert(key(1));
    await expect(store.addPending(key(3))).rejects.toBeInstanceOf(KeyConflictError);
    expect(await store.addPending(key(2))).toMatchObject({ version: 2, state: 'pending' });
    await expect(store.addPending(key(2))).rejects.toBeInstanceOf(KeyConflictError);
    await expect(store.rotate(key(2))).rejects.toBeInstanceOf(KeyConflictError);
    expect((await store.getActive('scope', 's'))?.version).toBe(1);
    await expect(store.promote('scope', 's', 3)).rejects.toBeInstanceOf(KeyConflictError);
    const results = await Promise.allSettled([store.promote('scope', 's', 2), store.promote('scope', 's', 2)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await store.list()).map((k) => `${k.version}:${k.state}`)).toEqual(['1:retired', '2:active']);
  });

  it('rejects a second key for the same version, even when inserted concurrently', async () => {
    const store = new MemoryKeyStore();
    const results = await Promise.allSettled([store.insert(key(1)), store.insert({ ...key(1), keyId: 'k2' })]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(
      KeyConflictError,
    );
    expect(await store.list()).toHaveLength(1);
  });

  it('rotates atomically: one concurrent rotation wins, the other conflicts', async () => {
    const store = new MemoryKeyStore();
    await store.insert(key(1));
    const results = await Promise.allSettled([store.rotate(key(2)), store.rotate({ ...key(2), wrappedKey: 'other' })]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((await store.list()).map((k) => [k.version, k.state])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    await expect(store.rotate(key(4))).rejects.toThrow(KeyConflictError);
  });

  it('destroys every version and erases the wrapped keys', async () => {
    const store = new MemoryKeyStore();
    await store.insert(key(1));
    await store.rotate(key(2));
    expect(await store.destroy('scope', 's')).toBe(2);
    expect(await store.destroy('scope', 's')).toBe(0);
    expect((await store.list()).every((k) => k.state === 'destroyed' && k.wrappedKey === null)).toBe(true);
    expect(await store.getActive('scope', 's')).toBeNull();
  });

  it('replaces wrapped keys by compare-and-swap only', async () => {
    const store = new MemoryKeyStore();
    await store.insert(key(1));
    expect(await store.replaceWrapped('k1', 1, 'stale', 'new', 'r2')).toBe(false);
    expect(await store.replaceWrapped('k1', 1, 'w1', 'new', 'r2')).toBe(true);
    expect(await store.getVersion('k1', 1)).toMatchObject({ wrappedKey: 'new', keyringId: 'r2' });
  });

  it('refuses malformed keys, naming the property', async () => {
    await expect(new MemoryKeyStore().insert(key(0))).rejects.toThrow(InvalidArgumentError);
    await expect(new MemoryKeyStore().insert(key(1, { scope: '' }))).rejects.toThrow('key.scope');
  });

  it('returns frozen records that callers cannot edit', async () => {
    const store = new MemoryKeyStore();
    const stored = await store.insert(key(1));
    expect(Object.isFrozen(stored)).toBe(true);
  });
});
