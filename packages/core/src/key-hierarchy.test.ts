import { inspect } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { AuditEvent } from './audit';
import {
  ConfigError,
  InvalidArgumentError,
  KeyConflictError,
  KeyDestroyedError,
  KeyNotFoundError,
  KeyringError,
} from './errors';
import { KeyHierarchy } from './key-hierarchy';
import type { EncryptionContext, Keyring } from './keyring';
import type { KeyKind } from './key-store';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

/** A keyring that counts calls and can be made to fail, around a LocalKeyring. */
class CountingKeyring implements Keyring {
  calls = { wrap: 0, unwrap: 0 };
  down = false;
  readonly inner: LocalKeyring;
  constructor(
    key = randomBytes(32),
    readonly id = 'counting:1',
  ) {
    this.inner = new LocalKeyring(key, { id });
  }
  async wrapKey(key: Buffer, context: EncryptionContext) {
    this.calls.wrap++;
    if (this.down) throw new Error('ECONNREFUSED');
    return this.inner.wrapKey(key, context);
  }
  async unwrapKey(wrapped: Buffer, context: EncryptionContext) {
    this.calls.unwrap++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (this.down) throw new Error('ECONNREFUSED');
    return this.inner.unwrapKey(wrapped, context);
  }
}

function setup(keyring: Keyring = new CountingKeyring(), keyStore = new MemoryKeyStore()) {
  const events: AuditEvent[] = [];
  const keys = new KeyHierarchy({
    keyring,
    keyStore,
    cache: { ttlMs: 60_000 },
    audit: { emit: (e) => void events.push(e) },
    actor: () => ({ user: 'alice', request: 'r-1' }),
  });
  return { keys, keyStore, keyring, events };
}

describe('KeyHierarchy', () => {
  it('refuses a keyring without a string id or an unwrapKey, here and in rewrap, with InvalidArgumentError', async () => {
    const local = new LocalKeyring(randomBytes(32));
    const wrapKey = (key: Buffer, context: EncryptionContext) => local.wrapKey(key, context);
    const unwrapKey = (wrapped: Buffer, context: EncryptionContext) => local.unwrapKey(wrapped, context);
    // Taken before: keys were stored naming no keyring, or written by a keyring that cannot read them.
    const bad = [
      { wrapKey, unwrapKey },
      { id: '', wrapKey, unwrapKey },
      { id: 7, wrapKey, unwrapKey },
      { id: 'x', wrapKey },
    ];
    for (const keyring of bad) {
      expect(() => setup(keyring as never)).toThrow(InvalidArgumentError);
      expect(() => setup(keyring as never)).toThrow('options.keyring must be a Keyring');
    }
    const { keys } = setup(local);
    for (const keyring of bad)
      await expect(keys.rewrap(keyring as never)).rejects.toThrow('newKeyring must be a Keyring');
  });

  it('creates a scope key on first use, wrapped with a context naming key id, scope and version', async () => {
    const { keys, keyStore, keyring } = setup();
    const active = await keys.activeScopeKey('tenant-1');
    expect(active).toMatchObject({ scope: 'tenant-1', version: 1 });
    const [stored] = await keyStore.list();
    expect(stored).toMatchObject({
      keyId: active.keyId,
      kind: 'scope',
      scope: 'tenant-1',
      version: 1,
      state: 'active',
      keyringId: keyring.id,
    });
    const context = { purpose: 'hushfield/scope-key', keyId: active.keyId, scope: 'tenant-1', version: '1' };
    await expect(keyring.unwrapKey(Buffer.from(stored.wrappedKey!, 'base64'), context)).resolves.toHaveLength(32);
    await expect(
      keyring.unwrapKey(Buffer.from(stored.wrappedKey!, 'base64'), { ...context, scope: 'tenant-2' }),
    ).rejects.toThrow(KeyringError);
  });

  it('yields exactly one key when many processes use a new scope at once', async () => {
    const keyStore = new MemoryKeyStore();
    const keyring = new CountingKeyring();
    const processes = Array.from({ length: 5 }, () => setup(keyring, keyStore).keys);
    const results = await Promise.all(
      processes.flatMap((keys) => [keys.activeScopeKey('new'), keys.activeScopeKey('new')]),
    );
    expect(new Set(results.map((r) => r.keyId)).size).toBe(1);
    expect(await keyStore.list({ scope: 'new' })).toHaveLength(1);
  });

  it('first use waits for a competing creation it lost to but cannot see yet, then uses that key', async () => {
    // As on SQLite with a rollback journal: the insert fails busy while the competitor has
    // written but not committed, so an immediate re-read still finds no active key.
    const keyring = new CountingKeyring();
    let competitor: Promise<unknown> | undefined;
    class RacingStore extends MemoryKeyStore {
      raced = false;
      override async insert(key: Parameters<MemoryKeyStore['insert']>[0]) {
        if (this.raced) return super.insert(key);
        this.raced = true;
        competitor = new Promise((resolve) => setTimeout(resolve, 30)).then(() =>
          setup(keyring, this).keys.activeScopeKey('busy'),
        );
        throw new KeyConflictError('database is locked (SQLITE_BUSY)');
      }
    }
    const keyStore = new RacingStore();
    const { keys } = setup(keyring, keyStore);
    const mine = await keys.activeScopeKey('busy');
    expect(mine).toEqual(await competitor);
    expect(await keyStore.list({ scope: 'busy' })).toHaveLength(1);
  });

  it('first use gives up with the conflict when the key never appears', async () => {
    class AlwaysBusyStore extends MemoryKeyStore {
      inserts = 0;
      override async insert(): Promise<never> {
        this.inserts++;
        throw new KeyConflictError('database is locked (SQLITE_BUSY)');
      }
    }
    const keyStore = new AlwaysBusyStore();
    const { keys } = setup(new CountingKeyring(), keyStore);
    await expect(keys.activeScopeKey('never')).rejects.toThrow('database is locked (SQLITE_BUSY)');
    expect(keyStore.inserts).toBe(5);
  });

  it('createScope refuses a scope that exists', async () => {
    const { keys } = setup();
    await keys.createScope('s');
    await expect(keys.createScope('s')).rejects.toThrow(KeyConflictError);
  });

  it('rotates to a new active version and old versions keep unwrapping', async () => {
    const { keys, keyStore } = setup();
    const v1 = await keys.activeScopeKey('s');
    const v1Key = await keys.scopeKeyMaterial(v1.keyId, 1);
    const v2 = await keys.rotateScope('s');
    expect(v2).toMatchObject({ keyId: v1.keyId, version: 2, state: 'active' });
    expect(await keys.activeScopeKey('s')).toEqual({ keyId: v1.keyId, scope: 's', version: 2 });
    expect((await keyStore.getVersion(v1.keyId, 1))?.state).toBe('retired');
    const fresh = setup(new CountingKeyring(), keyStore);
    await expect(fresh.keys.scopeKeyMaterial(v1.keyId, 1)).rejects.toThrow(KeyringError); // other root key
    expect(await keys.scopeKeyMaterial(v1.keyId, 1)).toEqual(v1Key);
    expect(await keys.scopeKeyMaterial(v1.keyId, 2)).not.toEqual(v1Key);
  });

  it('rotating an unknown scope is KeyNotFoundError', async () => {
    const { keys } = setup();
    await expect(keys.rotateScope('nope')).rejects.toThrow(KeyNotFoundError);
  });

  it('destroy crypto-shreds every version, evicts the cache, and refuses writes and reads', async () => {
    const { keys, keyStore } = setup();
    const { keyId } = await keys.activeScopeKey('s');
    await keys.rotateScope('s');
    await keys.scopeKeyMaterial(keyId, 1);
    expect(keys.counters().entries).toBe(2);
    expect(await keys.destroyScope('s')).toBe(2);
    expect(keys.counters().entries).toBe(0);
    expect((await keyStore.list({ scope: 's' })).every((k) => k.state === 'destroyed' && k.wrappedKey === null)).toBe(
      true,
    );
    await expect(keys.scopeKeyMaterial(keyId, 1)).rejects.toThrow(KeyDestroyedError);
    await expect(keys.scopeKeyMaterial(keyId, 1)).rejects.toThrow('scope "s" was destroyed');
    await expect(keys.activeScopeKey('s')).rejects.toThrow(KeyDestroyedError);
    await expect(keys.rotateScope('s')).rejects.toThrow(KeyDestroyedError);
    const recreated = await keys.createScope('s');
    expect(recreated).toMatchObject({ keyId, version: 3, state: 'active' });
  });

  it('calls the keyring at most once per key version per TTL', async () => {
    const keyring = new CountingKeyring();
    const keyStore = new MemoryKeyStore();
    const { keyId } = await setup(keyring, keyStore).keys.activeScopeKey('s');
    const { keys } = setup(keyring, keyStore);
    keyring.calls.unwrap = 0;
    await Promise.all(Array.from({ length: 20 }, () => keys.scopeKeyMaterial(keyId, 1)));
    await keys.scopeKeyMaterial(keyId, 1);
    expect(keyring.calls.unwrap).toBe(1);
    expect(keys.counters()).toMatchObject({ keyringCalls: 1, loads: 1, hits: 1 });
  });

  it('keeps serving from a warm cache during a keyring outage, and reports the outage typed', async () => {
    const keyring = new CountingKeyring();
    const { keys } = setup(keyring);
    const { keyId } = await keys.activeScopeKey('warm');
    keyring.down = true;
    await expect(keys.scopeKeyMaterial(keyId, 1)).resolves.toHaveLength(32);
    await expect(keys.activeScopeKey('cold')).rejects.toThrow(KeyringError);
  });

  it('rewraps every live key under a new keyring with compare-and-swap', async () => {
    const oldRing = new CountingKeyring(randomBytes(32), 'old');
    const newRing = new CountingKeyring(randomBytes(32), 'new');
    const { keys, keyStore } = setup(oldRing);
    const a = await keys.activeScopeKey('a');
    await keys.rotateScope('a');
    await keys.activeScopeKey('b');
    await keys.activeScopeKey('c');
    await keys.destroyScope('c');
    await keys.rotateIndexKey();
    const before = await keys.scopeKeyMaterial(a.keyId, 1);
    expect(await keys.rewrap(newRing)).toEqual({ rewrapped: 4, skipped: 0 });
    const live = (await keyStore.list()).filter((k) => k.state !== 'destroyed');
    expect(live.every((k) => k.keyringId === 'new')).toBe(true);
    const reader = setup(newRing, keyStore).keys;
    expect(await reader.scopeKeyMaterial(a.keyId, 1)).toEqual(before);
    expect(await keys.rewrap(newRing)).toEqual({ rewrapped: 0, skipped: 4 });
  });

  it('after a rewrap, the old keyring fails naming the keyring that wrapped the key and the one asked, not tampering', async () => {
    const oldRing = new CountingKeyring(randomBytes(32), 'old');
    const newRing = new CountingKeyring(randomBytes(32), 'new');
    const { keys, keyStore } = setup(oldRing);
    const { keyId } = await keys.activeScopeKey('a');
    await keys.rewrap(newRing);
    const stale = setup(oldRing, keyStore).keys;
    const error = await stale.scopeKeyMaterial(keyId, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toMatchObject({ keyringId: 'old', wrappedBy: 'new', operation: 'unwrap', retryable: false });
    expect((error as Error).message).toContain(
      `scope key ${keyId} v1 (scope a) is wrapped by keyring new, but keyring old was asked`,
    );
    expect((error as Error).message).not.toContain('tampered');
    // a transient failure (throttling, outage) of the keyring asked is reported as itself
    const throttled: Keyring = {
      id: 'old',
      wrapKey: async () => Buffer.alloc(0),
      unwrapKey: async () => {
        throw new KeyringError('throttled', { keyringId: 'old', operation: 'unwrap', retryable: true });
      },
    };
    const down = await setup(throttled, keyStore)
      .keys.scopeKeyMaterial(keyId, 1)
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ message: 'throttled', retryable: true });
    expect((down as { wrappedBy?: string }).wrappedBy).toBeUndefined();
  });

  it('rewrap skips a key whose stored value changed under it', async () => {
    const { keys, keyStore } = setup(new CountingKeyring(randomBytes(32), 'old'));
    await keys.activeScopeKey('a');
    const original = keyStore.replaceWrapped.bind(keyStore);
    keyStore.replaceWrapped = async (keyId, version, _expected, wrapped, ringId) =>
      original(keyId, version, 'something else', wrapped, ringId);
    expect(await keys.rewrap(new CountingKeyring(randomBytes(32), 'new'))).toEqual({ rewrapped: 0, skipped: 1 });
  });

  it('audits a rewrap that lost to a concurrent destroy as not done, never as a success', async () => {
    const keyStore = new MemoryKeyStore();
    const old = new LocalKeyring(randomBytes(32));
    const writer = new KeyHierarchy({ keyring: old, keyStore, cache: { ttlMs: 60_000 } });
    await writer.activeScopeKey('a');
    let shred: (() => Promise<unknown>) | undefined = () => writer.destroyScope('a');
    // The old keyring, which lets an operator shred 'a' while the rewrap holds its unwrapped key.
    const racing: Keyring = {
      id: old.id,
      wrapKey: (key, context) => old.wrapKey(key, context),
      async unwrapKey(wrapped, context) {
        const key = await old.unwrapKey(wrapped, context);
        const run = shred;
        shred = undefined;
        await run?.();
        return key;
      },
    };
    const { keys, events } = setup(racing, keyStore);
    expect(await keys.rewrap(new LocalKeyring(randomBytes(32)))).toEqual({ rewrapped: 0, skipped: 1 });
    const rewraps = events.filter((event) => event.operation === 'key.rewrap');
    expect(rewraps).toHaveLength(1);
    expect(rewraps[0]).toMatchObject({
      scope: 'a',
      version: 1,
      outcome: 'failure',
      errorCode: 'HUSHFIELD_KEY_CONFLICT',
    });
  });

  it('audits create, rotate, unwrap and destroy with outcome, latency and actor, never key material', async () => {
    const { keys, events } = setup();
    const { keyId } = await keys.activeScopeKey('s');
    await keys.rotateScope('s');
    await keys.destroyScope('s');
    const ops = events.map((e) => e.operation);
    expect(ops).toEqual(['keyring.wrap', 'key.create', 'keyring.wrap', 'key.rotate', 'key.destroy']);
    for (const event of events) {
      expect(event).toMatchObject({ outcome: 'success', scope: 's', actor: { user: 'alice', request: 'r-1' } });
      expect(event.time).toBeInstanceOf(Date);
      expect(typeof event.latencyMs).toBe('number');
    }
    expect(events[0]).toMatchObject({ keyId, kind: 'scope', version: 1, keyringId: 'counting:1' });
    expect(events[4]).toMatchObject({ keyId, kind: 'scope', detail: { versions: 2 } });
  });

  it('names every key id a destroyed scope held, should its versions carry more than one', async () => {
    const keyStore = new MemoryKeyStore();
    const { keys, events } = setup(new CountingKeyring(), keyStore);
    const first = await keys.activeScopeKey('s');
    const stored = (await keyStore.list({ kind: 'scope', scope: 's' }))[0];
    const { kind, scope, keyringId } = stored;
    await keyStore.rotate({
      kind,
      scope,
      keyringId,
      wrappedKey: stored.wrappedKey ?? '',
      keyId: 'other-id',
      version: 2,
    });
    await keys.destroyScope('s');
    const destroy = events.find((event) => event.operation === 'key.destroy');
    expect(destroy?.detail).toEqual({ versions: 2, keyIds: `${first.keyId},other-id` });
  });

  it('names in its key.destroy event the key id of a version rotated in between the listing and the destroy', async () => {
    // The store's destroy runs after another writer added version 2 under another key id.
    class RacedStore extends MemoryKeyStore {
      override async destroy(kind: KeyKind, scope: string): Promise<number> {
        const stored = (await this.list({ kind: 'scope', scope }))[0];
        const { keyringId, wrappedKey } = stored;
        await this.rotate({ kind, scope, keyringId, wrappedKey: wrappedKey ?? '', keyId: 'rotated-id', version: 2 });
        return super.destroy(kind, scope);
      }
    }
    const keyStore = new RacedStore();
    const { keys, events } = setup(new CountingKeyring(), keyStore);
    const first = await keys.activeScopeKey('s');
    expect(await keys.destroyScope('s')).toBe(2);
    const destroy = events.find((event) => event.operation === 'key.destroy');
    expect(destroy).toMatchObject({ outcome: 'success', keyId: first.keyId });
    expect(destroy?.detail).toEqual({ versions: 2, keyIds: `${first.keyId},rotated-id` });
  });

  it('counts in a key.destroy event the versions the key store destroyed, not those it listed first', async () => {
    const { keys, events } = setup();
    await keys.activeScopeKey('s');
    await keys.rotateScope('s');
    expect(await keys.destroyScope('s')).toBe(2);
    // Shredded again: nothing left to destroy.
    expect(await keys.destroyScope('s')).toBe(0);
    const destroys = events.filter((event) => event.operation === 'key.destroy');
    expect(destroys.map((event) => event.detail?.versions)).toEqual([2, 0]);
  });

  it('audits unwraps and failed keyring calls with the error code', async () => {
    const keyring = new CountingKeyring();
    const keyStore = new MemoryKeyStore();
    const { keyId } = await setup(keyring, keyStore).keys.activeScopeKey('s');
    const { keys, events } = setup(keyring, keyStore);
    await keys.scopeKeyMaterial(keyId, 1);
    keyring.down = true;
    await keys.rotateScope('s').catch(() => undefined);
    expect(events[0]).toMatchObject({ operation: 'keyring.unwrap', outcome: 'success', keyId, version: 1 });
    expect(events[1]).toMatchObject({ operation: 'keyring.wrap', outcome: 'failure', errorCode: 'HUSHFIELD_KEYRING' });
  });

  it('no audit event carries key material', async () => {
    const rootKey = randomBytes(32);
    const { keys, events, keyStore } = setup(new CountingKeyring(rootKey));
    const { keyId } = await keys.activeScopeKey('s');
    const material = await keys.scopeKeyMaterial(keyId, 1);
    await keys.rotateScope('s');
    await keys.destroyScope('s');
    const [stored] = await keyStore.list();
    const text = JSON.stringify(events);
    for (const secret of [rootKey, material]) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const)
        expect(text).not.toContain(secret.toString(encoding));
    }
    expect(stored.wrappedKey).toBeNull();
  });

  it('a failing audit sink never fails the operation', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const keys = new KeyHierarchy({
      keyring: new CountingKeyring(),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 1000 },
      audit: {
        emit: () => {
          throw new Error('sink down');
        },
      },
    });
    await expect(keys.activeScopeKey('s')).resolves.toMatchObject({ version: 1 });
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it('creates the index root key on first use and rotates it', async () => {
    const { keys } = setup();
    const [v1] = await keys.indexRootVersions();
    expect(v1).toMatchObject({ kind: 'index', scope: 'default', version: 1 });
    await keys.rotateIndexKey();
    expect((await keys.indexRootVersions()).map((k) => k.version)).toEqual([2, 1]);
  });

  it('publishes an index root version as pending: listed among the live versions after the active one, written only once promoted', async () => {
    const { keys, keyStore, events } = setup();
    const [v1] = await keys.indexRootVersions();
    const pending = await keys.publishIndexKey();
    expect(pending).toMatchObject({ kind: 'index', version: 2, state: 'pending' });
    expect(await keys.publishIndexKey()).toEqual(pending); // an interrupted rotation resumes it
    // Matched (listed), but the active version stays first: the one written.
    expect((await keys.indexRootVersions()).map((k) => `${k.version}:${k.state}`)).toEqual(['1:active', '2:pending']);
    expect((await keyStore.getActive('index', 'default'))?.version).toBe(v1.version);
    await expect(keys.rotateIndexKey()).rejects.toBeInstanceOf(KeyConflictError);

    const promoted = await keys.promoteIndexKey();
    expect(promoted).toMatchObject({ version: 2, state: 'active' });
    expect((await keys.indexRootVersions()).map((k) => `${k.version}:${k.state}`)).toEqual(['2:active', '1:retired']);
    await expect(keys.promoteIndexKey()).rejects.toBeInstanceOf(KeyNotFoundError);
    const rotations = events.filter((e) => e.operation === 'key.rotate' && e.kind === 'index');
    expect(rotations.map((e) => [e.version, e.outcome, e.detail])).toEqual([
      [2, 'success', { state: 'pending' }],
      [2, 'failure', undefined], // the refused rotation, audited
      [2, 'success', { state: 'active', promoted: true }],
    ]);
  });

  it('publishes a scope key version as pending: matched by per-scope lookups, sealed and indexed under only once promoted', async () => {
    const { keys, keyStore } = setup();
    const v1 = await keys.activeScopeKey('acme');
    await expect(keys.publishScope('nobody')).rejects.toBeInstanceOf(KeyNotFoundError);
    await keys.activeScopeKey('gone');
    await keys.destroyScope('gone');
    await expect(keys.publishScope('gone')).rejects.toBeInstanceOf(KeyDestroyedError);
    const pending = await keys.publishScope('acme');
    expect(pending).toMatchObject({ kind: 'scope', scope: 'acme', version: 2, state: 'pending' });
    expect((await keys.publishScope('acme')).version).toBe(2);
    expect((await keys.liveScopeVersions('acme')).map((k) => `${k.version}:${k.state}`)).toEqual([
      '1:active',
      '2:pending',
    ]);
    expect((await keys.activeScopeKey('acme')).version).toBe(v1.version);
    expect((await keys.activeScopeKeyMaterial('acme')).version).toBe(1);
    const promoted = await keys.promoteScope('acme');
    expect(promoted).toMatchObject({ version: 2, state: 'active' });
    expect((await keys.activeScopeKey('acme')).version).toBe(2);
    expect((await keyStore.list({ kind: 'scope', scope: 'acme' })).map((k) => `${k.version}:${k.state}`)).toEqual([
      '1:retired',
      '2:active',
    ]);
    await expect(keys.promoteScope('acme')).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it('two writers publishing and promoting at once share one pending version and both end on it', async () => {
    const keyStore = new MemoryKeyStore();
    const one = setup(new CountingKeyring(), keyStore).keys;
    const keyring = new CountingKeyring();
    await one.indexRootVersions();
    const other = new KeyHierarchy({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const [a, b] = await Promise.all([one.publishIndexKey(), other.publishIndexKey()]);
    expect([a.version, a.state, b.version, b.state]).toEqual([2, 'pending', 2, 'pending']);
    expect((await keyStore.list({ kind: 'index' })).map((k) => `${k.version}:${k.state}`)).toEqual([
      '1:active',
      '2:pending',
    ]);
    const [x, y] = await Promise.all([one.promoteIndexKey(), other.promoteIndexKey()]);
    expect([x.version, x.state, y.version, y.state]).toEqual([2, 'active', 2, 'active']);
    expect((await keyStore.list({ kind: 'index' })).map((k) => `${k.version}:${k.state}`)).toEqual([
      '1:retired',
      '2:active',
    ]);
  });

  it('refuses to publish with a key store that cannot hold pending versions, and creates version 1 active when there is none', async () => {
    const store = new MemoryKeyStore();
    const { keys: fresh } = setup(new CountingKeyring(), store);
    expect(await fresh.publishIndexKey()).toMatchObject({ version: 1, state: 'active' });
    const bare = Object.assign(Object.create(MemoryKeyStore.prototype) as MemoryKeyStore, {
      addPending: undefined,
      promote: undefined,
    });
    const { keys } = setup(new CountingKeyring(), bare);
    await expect(keys.publishIndexKey()).rejects.toBeInstanceOf(ConfigError);
    await expect(keys.promoteIndexKey()).rejects.toBeInstanceOf(ConfigError);
  });

  it('lists the index root versions once for many concurrent cold callers (single flight)', async () => {
    const store = new MemoryKeyStore();
    const list = jest.spyOn(store, 'list');
    const { keys } = setup(new CountingKeyring(), store);
    const all = await Promise.all(Array.from({ length: 500 }, () => keys.indexRootVersions()));
    expect(new Set(all.map((versions) => versions[0].keyId)).size).toBe(1);
    expect(list.mock.calls.filter(([filter]) => filter?.kind === 'index').length).toBeLessThanOrEqual(2);
  });

  it('caches no version a key store read in a snapshot for the process (currentSnapshot), and caches again once out of it', async () => {
    const store = new MemoryKeyStore();
    let snapshot: object | undefined;
    Object.assign(store, { currentSnapshot: () => snapshot });
    const { keys } = setup(new CountingKeyring(), store);
    snapshot = {};
    expect((await keys.indexRootVersions()).map((k) => k.version)).toEqual([1]);
    expect(await keys.liveScopeVersions('s')).toEqual([]);
    await keys.activeScopeKey('s');
    const list = jest.spyOn(store, 'list');
    const getActive = jest.spyOn(store, 'getActive');
    // What the snapshot said is read again in another snapshot and out of it (active versions
    // are cached for their snapshot alone).
    await keys.activeScopeKey('s');
    expect(getActive).toHaveBeenCalledTimes(0);
    snapshot = {};
    await keys.indexRootVersions();
    await keys.liveScopeVersions('s');
    await keys.activeScopeKey('s');
    snapshot = undefined;
    await keys.indexRootVersions();
    await keys.liveScopeVersions('s');
    await keys.activeScopeKey('s');
    expect(list).toHaveBeenCalledTimes(4);
    expect(getActive).toHaveBeenCalledTimes(4); // the index root's active version too
    // Read outside a snapshot: cached, and a snapshot reader uses the cache too.
    snapshot = {};
    await keys.indexRootVersions();
    await keys.liveScopeVersions('s');
    await keys.activeScopeKey('s');
    expect(list).toHaveBeenCalledTimes(4);
    expect(getActive).toHaveBeenCalledTimes(4);
  });

  it('prints no key material', async () => {
    const { keys } = setup();
    const { keyId } = await keys.activeScopeKey('s');
    const material = await keys.scopeKeyMaterial(keyId, 1);
    const printed = inspect(keys, { depth: 9, showHidden: true }) + JSON.stringify(keys);
    for (const encoding of ['hex', 'base64'] as const) expect(printed).not.toContain(material.toString(encoding));
    expect(printed).not.toContain(String(material[0]) + ', ' + String(material[1]));
  });
});

describe('KeyHierarchy with a keyring made of others', () => {
  /** A keyring built as a function object, which the hierarchy takes as its own keyring too. */
  function functionKeyring(id: string): Keyring {
    const local = new LocalKeyring(randomBytes(32), { id });
    return Object.assign(function keyring() {}, {
      id,
      wrapKey: (key: Buffer, context: EncryptionContext) => local.wrapKey(key, context),
      unwrapKey: (wrapped: Buffer, context: EncryptionContext) => local.unwrapKey(wrapped, context),
    });
  }

  /** A composite keyring (as MultiKeyring) whose own format no member's copy is in. */
  function composite(members: readonly unknown[]): Keyring {
    return {
      id: 'composite(test)',
      members,
      wrapKey: async () => Buffer.from('composite'),
      unwrapKey: async () => {
        throw new Error('not a composite copy');
      },
    } as Keyring;
  }

  it.each([
    ['an object', (id: string) => new LocalKeyring(randomBytes(32), { id }) as Keyring],
    ['a function object', functionKeyring],
  ])('unwraps a key its member (%s) wrapped alone with that member', async (_kind, make) => {
    const keyStore = new MemoryKeyStore();
    const member = make('member:1');
    const before = new KeyHierarchy({ keyring: member, keyStore, cache: { ttlMs: 60_000 } });
    const created = await before.activeScopeKeyMaterial('tenant-1');
    const after = new KeyHierarchy({ keyring: composite([member]), keyStore, cache: { ttlMs: 60_000 } });
    const read = await after.scopeKeyMaterial(created.keyId, created.version);
    expect(read.equals(created.key)).toBe(true);
  });

  it('takes no member that is not a keyring by the check the keyring itself passes (here: no wrapKey)', async () => {
    const keyStore = new MemoryKeyStore();
    const member = new LocalKeyring(randomBytes(32), { id: 'member:1' });
    const before = new KeyHierarchy({ keyring: member, keyStore, cache: { ttlMs: 60_000 } });
    const created = await before.activeScopeKeyMaterial('tenant-1');
    const unwrapOnly = { id: 'member:1', unwrapKey: (w: Buffer, c: EncryptionContext) => member.unwrapKey(w, c) };
    const after = new KeyHierarchy({ keyring: composite([unwrapOnly]), keyStore, cache: { ttlMs: 60_000 } });
    await expect(after.scopeKeyMaterial(created.keyId, created.version)).rejects.toThrow(KeyringError);
  });
});
