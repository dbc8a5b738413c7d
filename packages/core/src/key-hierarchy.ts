/**
 * The key hierarchy: root key (keyring) → scope keys and the index root key (random, wrapped by
 * the keyring, stored in the key store) → per-row data keys (see `field-crypto.ts`).
 *
 * Scope keys are created on first use, race-safely across processes (the key store refuses a
 * second version 1; the loser re-reads the winner's key). Rotation adds a version; old versions
 * keep decrypting. Destroying a scope erases every version's wrapped key (crypto-shredding) and
 * evicts and zeroes the cached copies here; other processes stop decrypting within their cache
 * TTL. Every keyring call and lifecycle event is audited without key material.
 */
import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { ActorContext, AuditSink } from './audit';
import { AuditEmitter } from './audit-emitter';
import { KeyConflictError, KeyDestroyedError, KeyNotFoundError } from './errors';
import {
  EXACT_TTL_CLOCK,
  KeyCache,
  MISS,
  checkCacheOptions,
  type KeyCacheCounters,
  type KeyCacheOptions,
} from './key-cache';
import type { KeyFilter, KeyKind, KeyStore, KeyVersionRef, StoredKey } from './key-store';
import type { Keyring } from './keyring';
import { KeyringCalls, type KeySlot } from './keyring-calls';
import { messages } from './messages';
import { rewrapKeys } from './rewrap';
import { isName, needs, needsName } from './preconditions';
import { keyLoadSpan } from './telemetry';

/** How often first use of a scope tries to create its key when a concurrent creation conflicts (backoff 20–160 ms). */
const CREATE_ATTEMPTS = 5;

/** The scope every index root key lives in. */
export const INDEX_SCOPE = 'default';
/** Longest scope accepted, in UTF-8 bytes. */
export const MAX_SCOPE_BYTES = 1024;

/** Options of {@link KeyHierarchy}; {@link FieldCrypto} builds one from its own options. */
export interface KeyHierarchyOptions {
  keyring: Keyring;
  keyStore: KeyStore;
  cache: KeyCacheOptions;
  audit?: AuditSink;
  actor?: () => ActorContext | undefined;
}

/** An unwrapped key version. `key` is a copy the receiver owns and zeroes. */
export interface KeyMaterial {
  readonly keyId: string;
  readonly scope: string;
  readonly version: number;
  readonly key: Buffer;
}

/** Cache id of one key version; key ids never contain NUL. */
function cacheId(keyId: string, version: number): string {
  return `${keyId}\u0000${version}`;
}

/**
 * What a key version was unwrapped for: its kind and scope, as its key-store row names them
 * (and the wrap context binds). A cached key is used only for the same kind and scope, so a
 * row relabelled in SQL (`scope = 'victim'`) cannot make writes to another scope seal under it.
 */
function ownerOf(kind: KeyKind, scope: string): string {
  return `${kind}\u0000${scope}`;
}

const SCOPE_OWNER = ownerOf('scope', '');

/** A scope key's material (a copy the receiver owns and zeroes) and the scope it belongs to. */
export interface ScopedKey {
  readonly key: Buffer;
  readonly scope: string | undefined;
}

function scopedKey({ key, owner }: { key: Buffer; owner?: string }): ScopedKey {
  return { key, scope: scopeOfOwner(owner) };
}

/** The scope a scope key's {@link ownerOf} names, or `undefined` for another kind or no owner. */
function scopeOfOwner(owner: string | undefined): string | undefined {
  return owner !== undefined && owner.startsWith(SCOPE_OWNER) ? owner.slice(SCOPE_OWNER.length) : undefined;
}

/** Scope keys, the index root key, and their lifecycle. */
export class KeyHierarchy {
  readonly #store: KeyStore;
  #keyring: Keyring;
  readonly #keyrings = new Map<string, Keyring>();
  readonly #audit: AuditEmitter;
  readonly #calls: KeyringCalls;
  readonly #keys: KeyCache;
  /** (kind, scope) → active version, so writes cost no key-store query while warm. */
  readonly #active: LRUCache<string, StoredKey>;
  readonly #pendingActive = new Map<string, Promise<StoredKey>>();
  /** Live index root versions, newest first. */
  readonly #indexVersions: LRUCache<string, StoredKey[]>;
  /** scope → its live scope key versions, active first (per-scope index lookups); never empty. */
  readonly #scopeVersions: LRUCache<string, StoredKey[]>;
  #indexVersionsLoading: Promise<StoredKey[]> | undefined;
  readonly #destroyListeners: ((keyIds: readonly string[]) => void)[] = [];
  readonly #rotateListeners: ((scope: string) => void)[] = [];
  /**
   * Bumped by every destroy, cache clear and rewrap, so a lookup that raced one does not cache
   * its result.
   */
  #epoch = 0;

  /** @throws ConfigError when `cache.ttlMs` is missing */
  constructor(options: KeyHierarchyOptions) {
    needs(
      options?.keyring !== undefined && typeof options.keyring.wrapKey === 'function',
      'options.keyring',
      'must be a Keyring',
    );
    needs(
      options.keyStore !== undefined && typeof options.keyStore.getActive === 'function',
      'options.keyStore',
      'must be a KeyStore',
    );
    const cache = checkCacheOptions(options.cache);
    this.#store = options.keyStore;
    this.#keyring = options.keyring;
    this.#keyrings.set(options.keyring.id, options.keyring);
    this.#audit = new AuditEmitter(options.audit, options.actor);
    this.#calls = new KeyringCalls(this.#audit);
    this.#keys = new KeyCache(options.cache);
    this.#active = new LRUCache({ max: cache.maxEntries, ttl: cache.ttlMs, ...EXACT_TTL_CLOCK });
    this.#indexVersions = new LRUCache({ max: 1, ttl: cache.ttlMs, ...EXACT_TTL_CLOCK });
    this.#scopeVersions = new LRUCache({ max: cache.maxEntries, ttl: cache.ttlMs, ...EXACT_TTL_CLOCK });
  }

  /** The active key of `scope` (created on first use). */
  async activeScopeKey(scope: string): Promise<{ keyId: string; scope: string; version: number }> {
    const { keyId, version } = await this.#activeKey('scope', scope);
    return { keyId, scope, version };
  }

  /**
   * The active key of `scope` if it has one, or null: unlike {@link activeScopeKey} it never
   * creates one, so a caller can refuse a row before the refusal leaves a key behind. A
   * destroyed scope throws `KeyDestroyedError`, as a write to it would.
   */
  async existingScopeKey(scope: string): Promise<{ keyId: string; scope: string; version: number } | null> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const id = `scope\u0000${scope}`;
    const epoch = this.#epoch;
    const stored = this.#active.get(id) ?? (await this.#store.getActive('scope', scope));
    if (stored === null) {
      const versions = await this.#store.list({ kind: 'scope', scope });
      const last = versions.at(-1);
      if (last !== undefined && versions.every((key) => key.state === 'destroyed'))
        throw new KeyDestroyedError(messages.scopeDestroyedForWrite(scope), last);
      return null;
    }
    if (epoch === this.#epoch && !this.#active.has(id)) this.#active.set(id, stored);
    return { keyId: stored.keyId, scope, version: stored.version };
  }

  /**
   * @internal Looks up the active keys of those of `scopes` not cached, in one key-store call
   * when the store has `getActives` and two or more are missing, and caches them: rows then
   * written in those scopes find their key without a lookup each. A scope without a key is
   * left to be created on first use, and a failed lookup to each scope's own (so a failure is
   * reported where it matters); no keyring call is made (a key is unwrapped on first use).
   */
  async prefetchActiveScopes(scopes: Iterable<string>): Promise<void> {
    const store = this.#store;
    if (store.getActives === undefined) return;
    const missing = new Set<string>();
    for (const scope of scopes) {
      const id = `scope\u0000${scope}`;
      if (isName(scope, MAX_SCOPE_BYTES) && !this.#active.has(id) && !this.#pendingActive.has(id)) missing.add(scope);
    }
    if (missing.size < 2) return;
    const epoch = this.#epoch;
    try {
      const found = await store.getActives('scope', [...missing]);
      if (epoch !== this.#epoch) return;
      for (const stored of found) {
        // Only what was asked, exactly (a case-insensitive collation may answer more).
        if (stored?.kind !== 'scope' || stored.state !== 'active' || !missing.has(stored.scope)) continue;
        const id = `scope\u0000${stored.scope}`;
        const cached = this.#active.get(id);
        if (cached === undefined || cached.version < stored.version) this.#active.set(id, stored);
      }
    } catch {
      // Nothing more cached: each scope's own lookup runs, and reports its own failure.
    }
  }

  /**
   * Creates version 1 of `scope` (or, for a destroyed scope, its next version).
   * @throws KeyConflictError when the scope already has a live key
   */
  async createScope(scope: string): Promise<StoredKey> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    return this.#create('scope', scope);
  }

  /**
   * Adds a new active version of `scope`; values under older versions keep decrypting.
   * @throws KeyNotFoundError when the scope has no key; KeyDestroyedError when it was destroyed;
   *   KeyConflictError when another writer rotated first
   */
  async rotateScope(scope: string): Promise<StoredKey> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    return this.#rotate('scope', scope);
  }

  /**
   * Crypto-shreds `scope`: erases every version's wrapped key from the key store, evicts and
   * zeroes its cached keys. Its values can never be decrypted again.
   * @returns the number of versions destroyed
   */
  async destroyScope(scope: string): Promise<number> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const versions = await this.#store.list({ kind: 'scope', scope });
    const keyIds = [...new Set(versions.map((key) => key.keyId))];
    const draft = { operation: 'key.destroy' as const, kind: 'scope' as const, scope, keyId: keyIds[0] };
    const count = await this.#audit.timed(draft, () => this.#store.destroy('scope', scope));
    this.#epoch++;
    this.#active.delete(`scope\u0000${scope}`);
    this.#scopeVersions.delete(scope);
    // Re-read: a version rotated in between the two calls was destroyed too and must be evicted.
    const all = [...versions, ...(await this.#store.list({ kind: 'scope', scope }))];
    for (const key of all) this.#keys.delete(cacheId(key.keyId, key.version));
    for (const listener of this.#destroyListeners) listener([...new Set(all.map((key) => key.keyId))]);
    return count;
  }

  /** Adds a new index root version (creating version 1 if there is none). */
  async rotateIndexKey(): Promise<StoredKey> {
    const current = await this.#store.getActive('index', INDEX_SCOPE);
    const next = current === null ? await this.#create('index', INDEX_SCOPE) : await this.#rotate('index', INDEX_SCOPE);
    this.#indexVersions.clear();
    return next;
  }

  /**
   * Re-wraps every live key version under `newKeyring`, replacing each stored wrapped key only
   * if it is still the one read (compare-and-swap). Afterwards new keys are wrapped by
   * `newKeyring`.
   * @returns how many versions were re-wrapped, and how many skipped (already under
   *   `newKeyring`, or changed concurrently)
   */
  async rewrap(newKeyring: Keyring): Promise<{ rewrapped: number; skipped: number }> {
    needs(newKeyring !== undefined && typeof newKeyring.wrapKey === 'function', 'newKeyring', 'must be a Keyring');
    this.#keyrings.set(newKeyring.id, newKeyring);
    const result = await rewrapKeys(newKeyring, {
      store: this.#store,
      calls: this.#calls,
      audit: this.#audit,
      keyringFor: (stored) => this.#keyringFor(stored),
    });
    this.#keyring = newKeyring;
    this.#epoch++;
    this.#active.clear();
    this.#indexVersions.clear();
    this.#scopeVersions.clear();
    return result;
  }

  /** Stored key versions matching `filter` (wrapped keys only; nothing here is secret alone). */
  list(filter?: KeyFilter): Promise<StoredKey[]> {
    return this.#store.list(filter);
  }

  /** @internal The active key of `scope` with its material (created on first use). */
  async activeScopeKeyMaterial(scope: string): Promise<KeyMaterial> {
    const stored = await this.#activeKey('scope', scope);
    return { keyId: stored.keyId, scope, version: stored.version, key: await this.#material(stored) };
  }

  /**
   * @internal The material of scope key `keyId` version `version`, as named by an envelope.
   * @throws KeyDestroyedError, KeyNotFoundError, KeyringError
   */
  scopeKeyMaterial(keyId: string, version: number): Promise<Buffer> {
    return this.scopedKeyMaterial(keyId, version).then(({ key }) => key);
  }

  /**
   * @internal Like {@link KeyHierarchy.scopeKeyMaterial}, with the scope the key belongs to (as
   * its key-store row names it, which its wrap context binds; `undefined` if the cache did not
   * say).
   */
  async scopedKeyMaterial(keyId: string, version: number): Promise<ScopedKey> {
    return scopedKey(
      await this.#keys.getOwned(cacheId(keyId, version), () =>
        this.#loadScopeKey(keyId, version, () => this.#store.getVersion(keyId, version)),
      ),
    );
  }

  /**
   * @internal The material of each scope key version in `refs`, with its scope, as {@link
   * KeyHierarchy.scopedKeyMaterial} gives it, one promise per ref in order. Those not cached are
   * looked up in the key store together when it has `getVersions` (one query for a read of
   * rows in many scopes, instead of one a scope), one by one if that lookup fails, and a key
   * the lookup left out is asked for on its own before it is called not found; each is
   * unwrapped on its own.
   */
  scopeKeyMaterials(refs: readonly KeyVersionRef[]): Promise<ScopedKey>[] {
    const store = this.#store;
    if (refs.length < 2 || store.getVersions === undefined) {
      return refs.map(({ keyId, version }) => this.scopedKeyMaterial(keyId, version));
    }
    // Asked once, by the first ref the cache has to load (none when all are cached by now).
    let found: Promise<Map<string, StoredKey> | Error> | undefined;
    const lookup = async (keyId: string, version: number): Promise<StoredKey | null> => {
      found ??= Promise.resolve()
        .then(() => store.getVersions!(refs))
        .then((rows) => new Map(rows.filter((row) => row != null).map((row) => [cacheId(row.keyId, row.version), row])))
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      const byId = await found;
      // A row the batch left out is asked for on its own (a store may drop rows under load).
      if (!(byId instanceof Error)) return byId.get(cacheId(keyId, version)) ?? store.getVersion(keyId, version);
      // The batch failed: each key is looked up on its own, so that a failure stays its own
      // scope's; if that fails too, both causes are kept (in a transaction the batch's came first).
      try {
        return await store.getVersion(keyId, version);
      } catch (error) {
        throw new AggregateError([byId, error], 'the key store failed to look up several keys, then this one', {
          cause: error,
        });
      }
    };
    return refs.map(({ keyId, version }) =>
      this.#keys
        .getOwned(cacheId(keyId, version), () => this.#loadScopeKey(keyId, version, () => lookup(keyId, version)))
        .then(scopedKey),
    );
  }

  /** Loads (with `find`) and unwraps scope key `keyId` version `version`, for the key cache. */
  #loadScopeKey(
    keyId: string,
    version: number,
    find: () => Promise<StoredKey | null>,
  ): Promise<{ key: Buffer; owner: string }> {
    return keyLoadSpan({ keyId, kind: 'scope', version }, async () => {
      const stored = await find();
      if (stored === null || stored.kind !== 'scope' || stored.keyId !== keyId || stored.version !== version) {
        throw new KeyNotFoundError(messages.keyNotFound(keyId, version), { keyId, version });
      }
      return { key: await this.#unwrap(stored), owner: ownerOf(stored.kind, stored.scope) };
    });
  }

  /**
   * @internal Runs `use` with the cached material of scope key `keyId` version `version`,
   * synchronously and without a copy (see `KeyCache.use`); {@link MISS} when it is not cached
   * (no I/O: the caller falls back to {@link KeyHierarchy.scopeKeyMaterial}).
   */
  withCachedScopeKey<T>(
    keyId: string,
    version: number,
    use: (key: Buffer, scope: string | undefined) => T,
  ): T | typeof MISS {
    return this.#keys.use(cacheId(keyId, version), (key, owner) => use(key, scopeOfOwner(owner)));
  }

  /**
   * @internal The scope whose key-store row scope key `keyId` version `version` was unwrapped
   * from (its wrap context binds the scope), while that key is cached; otherwise `undefined`
   * (no I/O). Neither a hit nor a use of the key.
   */
  cachedScopeOf(keyId: string, version: number): string | undefined {
    return scopeOfOwner(this.#keys.ownerOf(cacheId(keyId, version)));
  }

  /**
   * @internal Runs `use` with the cached active version of `scope` and its material,
   * synchronously and without a copy; {@link MISS} when either is not cached (the caller falls
   * back to {@link KeyHierarchy.activeScopeKeyMaterial}).
   */
  withCachedActiveScopeKey<T>(scope: string, use: (material: KeyMaterial) => T): T | typeof MISS {
    const stored = this.#active.get(`scope\u0000${scope}`);
    if (stored === undefined) return MISS;
    return this.#keys.use(
      cacheId(stored.keyId, stored.version),
      (key) => use({ keyId: stored.keyId, scope, version: stored.version, key }),
      ownerOf('scope', scope),
    );
  }

  /**
   * @internal Milliseconds until the cached scope key version expires (0 when not cached): what
   * is derived from it, such as an unwrapped DEK, must not be cached for longer.
   */
  scopeKeyRemainingTtl(keyId: string, version: number): number {
    return this.#keys.remainingTtl(cacheId(keyId, version));
  }

  /** @internal The cached live index root versions, newest first, or `undefined` (no I/O). */
  cachedIndexRootVersions(): StoredKey[] | undefined {
    return this.#indexVersions.get(INDEX_SCOPE);
  }

  /** @internal Live index root versions, newest (active) first; version 1 created on first use. */
  indexRootVersions(): Promise<StoredKey[]> {
    const cached = this.#indexVersions.get(INDEX_SCOPE);
    if (cached !== undefined) return Promise.resolve(cached);
    // Single flight: a cold createMany of thousands of rows asks once, not once a row (which
    // exhausted a connection pool of 10 on MariaDB).
    this.#indexVersionsLoading ??= this.#loadIndexRootVersions().finally(() => {
      this.#indexVersionsLoading = undefined;
    });
    return this.#indexVersionsLoading;
  }

  async #loadIndexRootVersions(): Promise<StoredKey[]> {
    await this.#activeKey('index', INDEX_SCOPE);
    const live = (await this.#store.list({ kind: 'index', scope: INDEX_SCOPE }))
      .filter((key) => key.state !== 'destroyed')
      .sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.version - a.version));
    this.#indexVersions.set(INDEX_SCOPE, live);
    return live;
  }

  /**
   * @internal The live (active and retired) versions of `scope`'s key, active first, without
   * creating one: empty when the scope has no key or was destroyed. A per-scope index lookup
   * matches every one of them. Cached for the TTL when non-empty (a scope created by another
   * process is seen at once; a rotation there within the TTL, as for the index root).
   */
  async liveScopeVersions(scope: string): Promise<StoredKey[]> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const cached = this.#scopeVersions.get(scope);
    if (cached !== undefined) return cached;
    const epoch = this.#epoch;
    const live = (await this.#store.list({ kind: 'scope', scope }))
      .filter((key) => key.state !== 'destroyed')
      .sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.version - a.version));
    if (live.length > 0 && epoch === this.#epoch) this.#scopeVersions.set(scope, live);
    return live;
  }

  /**
   * @internal The material of one stored key version (an index root version, or a version of
   * {@link KeyHierarchy.liveScopeVersions}), used only if it was unwrapped for that row's kind
   * and scope (a copy the caller zeroes).
   */
  versionMaterial(stored: StoredKey): Promise<Buffer> {
    return this.#material(stored);
  }

  /** @internal Called with the key ids of a scope this process destroyed. */
  onDestroy(listener: (keyIds: readonly string[]) => void): void {
    this.#destroyListeners.push(listener);
  }

  /** @internal Called with the scope whose key this process rotated (a new active version). */
  onRotate(listener: (scope: string) => void): void {
    this.#rotateListeners.push(listener);
  }

  /** Drops and zeroes every cached key (e.g. at shutdown); later uses unwrap again. */
  clearCache(): void {
    this.#epoch++;
    this.#keys.clear();
    this.#active.clear();
    this.#indexVersions.clear();
    this.#scopeVersions.clear();
  }

  /** Keyring calls made so far, and the key cache's counters. */
  counters(): KeyCacheCounters & { keyringCalls: number } {
    return { ...this.#keys.counters(), keyringCalls: this.#calls.count };
  }

  /** Prints counters only. */
  toJSON(): object {
    return { keyring: this.#keyring.id, ...this.counters() };
  }

  /** Prints counters only. */
  [inspect.custom](): string {
    return `KeyHierarchy ${inspect(this.toJSON())}`;
  }

  #material(stored: StoredKey): Promise<Buffer> {
    // Unwrapped for this row's kind and scope, or (cached for another) unwrapped again under
    // this row's wrap context, which fails if the row was relabelled.
    return this.#keys.get(
      cacheId(stored.keyId, stored.version),
      () => keyLoadSpan(stored, () => this.#unwrap(stored)),
      ownerOf(stored.kind, stored.scope),
    );
  }

  async #unwrap(stored: StoredKey): Promise<Buffer> {
    if (stored.state === 'destroyed' || stored.wrappedKey === null) {
      throw new KeyDestroyedError(messages.scopeDestroyed(stored.scope, stored.keyId, stored.version), stored);
    }
    return this.#calls.unwrap(this.#keyringFor(stored), stored);
  }

  #keyringFor(stored: StoredKey): Keyring {
    return this.#keyrings.get(stored.keyringId) ?? this.#keyring;
  }

  /** The active version of (kind, scope), created on first use; one lookup in flight per scope. */
  #activeKey(kind: KeyKind, scope: string): Promise<StoredKey> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const id = `${kind}\u0000${scope}`;
    const cached = this.#active.get(id);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.#pendingActive.get(id);
    if (pending === undefined) {
      pending = this.#loadActive(kind, scope).finally(() => this.#pendingActive.delete(id));
      this.#pendingActive.set(id, pending);
    }
    return pending;
  }

  async #loadActive(kind: KeyKind, scope: string): Promise<StoredKey> {
    const epoch = this.#epoch;
    let stored = await this.#store.getActive(kind, scope);
    for (let attempt = 1; stored === null; attempt++) {
      try {
        stored = await this.#create(kind, scope, true);
      } catch (error) {
        if (!(error instanceof KeyConflictError)) throw error;
        // Another process created it first: use theirs. Its write may not be visible yet (on
        // SQLite with a rollback journal a competing writer's busy lock is seen before its
        // commit), or it may have rolled back: read again, then create again, a few times.
        stored = await this.#store.getActive(kind, scope);
        if (stored !== null) break;
        if (attempt >= CREATE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
        stored = await this.#store.getActive(kind, scope);
      }
    }
    if (epoch === this.#epoch) this.#active.set(`${kind}\u0000${scope}`, stored);
    return stored;
  }

  async #create(kind: KeyKind, scope: string, firstUse = false): Promise<StoredKey> {
    const versions = await this.#store.list({ kind, scope });
    if (versions.some((key) => key.state !== 'destroyed'))
      throw new KeyConflictError(messages.scopeExists(kind, scope));
    if (versions.length > 0 && kind === 'scope' && firstUse) {
      // First use of a destroyed scope: writing must not silently resurrect it.
      const last = versions[versions.length - 1];
      throw new KeyDestroyedError(messages.scopeDestroyedForWrite(scope), last);
    }
    const slot: KeySlot =
      versions.length === 0
        ? { keyId: randomBytes(9).toString('base64url'), kind, scope, version: 1 }
        : { keyId: versions[0].keyId, kind, scope, version: versions[versions.length - 1].version + 1 };
    return this.#persist(slot, 'key.create', (key) => this.#store.insert(key));
  }

  async #rotate(kind: KeyKind, scope: string): Promise<StoredKey> {
    const current = await this.#store.getActive(kind, scope);
    if (current === null) {
      const versions = await this.#store.list({ kind, scope });
      if (versions.length > 0) {
        const last = versions[versions.length - 1];
        throw new KeyDestroyedError(messages.scopeDestroyedForWrite(scope), last);
      }
      throw new KeyNotFoundError(messages.scopeNotFound(kind, scope), { keyId: `${kind}:${scope}` });
    }
    const slot: KeySlot = { keyId: current.keyId, kind, scope, version: current.version + 1 };
    const next = await this.#persist(slot, 'key.rotate', (key) => this.#store.rotate(key));
    this.#active.set(`${kind}\u0000${scope}`, next);
    if (kind === 'scope') {
      this.#scopeVersions.delete(scope);
      for (const listener of this.#rotateListeners) listener(scope);
    }
    return next;
  }

  /** Generates a key for `slot`, stores its wrapped form with `write`, and caches it. */
  async #persist(
    slot: KeySlot,
    operation: 'key.create' | 'key.rotate',
    write: (key: Parameters<KeyStore['insert']>[0]) => Promise<StoredKey>,
  ): Promise<StoredKey> {
    const keyring = this.#keyring;
    const { key, wrapped } = await this.#calls.generate(keyring, slot);
    try {
      const stored = await this.#audit.timed({ operation, ...slot, keyringId: keyring.id }, () =>
        write({ ...slot, wrappedKey: wrapped.toString('base64'), keyringId: keyring.id }),
      );
      this.#keys.put(cacheId(stored.keyId, stored.version), key, ownerOf(stored.kind, stored.scope));
      if (stored.kind === 'scope') this.#scopeVersions.delete(stored.scope);
      return stored;
    } catch (error) {
      key.fill(0);
      throw error;
    }
  }
}
