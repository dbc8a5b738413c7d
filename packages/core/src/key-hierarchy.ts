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
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { ActorContext, AuditSink } from './audit';
import { AuditEmitter, checkAuditOptions } from './audit-emitter';
import { ConfigError, KeyConflictError, KeyDestroyedError, KeyNotFoundError, KeyStoreError } from './errors';
import { KeyCache, MISS, checkCacheOptions, type KeyCacheCounters, type KeyCacheOptions } from './key-cache';
import { KeyLoader, cacheId, isScopeOwner, ownerOf, scopeOfOwner, type ScopedKey } from './key-loader';
import type { KeyFilter, KeyKind, KeyStore, KeyVersionRef, StoredKey } from './key-store';
import { checkActiveAnswer, INDEX_SCOPE, KeyVersions, MAX_SCOPE_BYTES } from './key-versions';
import type { Keyring } from './keyring';
import { KeyringCalls, type KeySlot } from './keyring-calls';
import { messages } from './messages';
import { rewrapKeys } from './rewrap';
import { needs, needsName } from './preconditions';

export { INDEX_SCOPE, MAX_SCOPE_BYTES, type ScopedKey };

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

/**
 * The member keyrings of a keyring made of others (a `members` list, as MultiKeyring has), or
 * none: only members that are keyrings by the same check as the keyring itself ({@link isKeyring}).
 */
function membersOf(keyring: Keyring): readonly Keyring[] {
  const members = (keyring as { members?: unknown }).members;
  return Array.isArray(members) ? members.filter(isKeyring) : [];
}

/**
 * Whether `value` has what a {@link Keyring} needs here: a non-empty string `id` (stored with
 * every key it wraps) and both `wrapKey` and `unwrapKey`.
 */
export function isKeyring(value: unknown): value is Keyring {
  const keyring = value as Partial<Keyring> | null | undefined;
  return (
    (typeof keyring === 'object' || typeof keyring === 'function') &&
    keyring !== null &&
    typeof keyring.id === 'string' &&
    keyring.id.length > 0 &&
    typeof keyring.wrapKey === 'function' &&
    typeof keyring.unwrapKey === 'function'
  );
}

/** Scope keys, the index root key, and their lifecycle. */
export class KeyHierarchy {
  readonly #store: KeyStore;
  #keyring: Keyring;
  readonly #keyrings = new Map<string, Keyring>();
  readonly #audit: AuditEmitter;
  readonly #calls: KeyringCalls;
  readonly #keys: KeyCache;
  /** Which versions are active and live (see `key-versions.ts`). */
  readonly #versions: KeyVersions;
  /** Loads what `#keys` does not hold (see `key-loader.ts`). */
  readonly #loader: KeyLoader;
  readonly #destroyListeners: ((keyIds: readonly string[]) => void)[] = [];
  readonly #rotateListeners: ((scope: string) => void)[] = [];

  /**
   * @throws ConfigError when `cache.ttlMs` is missing
   * @throws InvalidArgumentError when `keyring` has no string `id`, `wrapKey` or `unwrapKey`, `keyStore`
   *   is not a key store, or `audit`/`actor` are not a sink and a function
   */
  constructor(options: KeyHierarchyOptions) {
    needs(isKeyring(options?.keyring), 'options.keyring', 'must be a Keyring');
    needs(
      typeof (options.keyStore as Partial<KeyStore> | null | undefined)?.getActive === 'function',
      'options.keyStore',
      'must be a KeyStore',
    );
    const cache = checkCacheOptions(options.cache);
    checkAuditOptions(options, 'options');
    this.#store = options.keyStore;
    this.#keyring = options.keyring;
    this.#keyrings.set(options.keyring.id, options.keyring);
    // A keyring made of others (MultiKeyring): a key one member wrapped alone (before or after a
    // `keys rewrap` to it) is unwrapped with that member, as the key store's keyringId names it.
    for (const member of membersOf(options.keyring))
      if (!this.#keyrings.has(member.id)) this.#keyrings.set(member.id, member);
    this.#audit = new AuditEmitter(options.audit, options.actor);
    this.#calls = new KeyringCalls(this.#audit);
    this.#keys = new KeyCache(options.cache);
    this.#versions = new KeyVersions(this.#store, cache, (kind, scope) => this.#create(kind, scope, true));
    this.#loader = new KeyLoader(this.#store, this.#keys, this.#calls, (stored) => this.#keyringFor(stored));
  }

  /** The active key of `scope` (created on first use). */
  async activeScopeKey(scope: string): Promise<{ keyId: string; scope: string; version: number }> {
    const { keyId, version } = await this.#versions.active('scope', scope);
    return { keyId, scope, version };
  }

  /**
   * The active key of `scope` if it has one, or null: unlike {@link activeScopeKey} it never
   * creates one, so a caller can refuse a row before the refusal leaves a key behind. A
   * destroyed scope throws `KeyDestroyedError`, as a write to it would.
   */
  existingScopeKey(scope: string): Promise<{ keyId: string; scope: string; version: number } | null> {
    return this.#versions.existing(scope);
  }

  /**
   * @internal Looks up the active keys of those of `scopes` not cached, in one key-store call
   * when the store has `getActives` (see `KeyVersions.prefetchActiveScopes`).
   */
  prefetchActiveScopes(scopes: Iterable<string>): Promise<void> {
    return this.#versions.prefetchActiveScopes(scopes);
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
    // A key table that compares scopes loosely lists (and would destroy) another scope's keys.
    const other = versions.find((key) => key.kind !== 'scope' || key.scope !== scope);
    if (other !== undefined) throw new KeyStoreError(messages.keyStoreOtherScopeListed(scope, other.scope), other);
    const live = versions.filter((key) => key.state !== 'destroyed');
    const keyIds = [...new Set((live.length > 0 ? live : versions).map((key) => key.keyId))];
    // Every key id and how many versions, should a scope's versions carry more than one id. The
    // count is the store's answer, set before the event is sent: versions destroyed by an
    // earlier shred are listed too.
    const detail: { versions: number; keyIds?: string } = {
      versions: live.length,
      ...(keyIds.length > 1 ? { keyIds: keyIds.join(',') } : {}),
    };
    const draft = { operation: 'key.destroy' as const, kind: 'scope' as const, scope, keyId: keyIds[0], detail };
    let after: StoredKey[] | undefined;
    const count = await this.#audit.timed(draft, async () => {
      const destroyed = await this.#store.destroy('scope', scope);
      detail.versions = destroyed;
      // Re-read before the event is sent: a version rotated in between the two calls was destroyed
      // too, and the event names its key id. A failed re-read is not the destroy's failure.
      after = await this.#store.list({ kind: 'scope', scope }).catch(() => undefined);
      const listed = new Set(versions.map((key) => cacheId(key.keyId, key.version)));
      const rotated = (after ?? []).filter((key) => !listed.has(cacheId(key.keyId, key.version)));
      const named = [...new Set([...keyIds, ...rotated.map((key) => key.keyId)])];
      if (named.length > 1) detail.keyIds = named.join(',');
      return destroyed;
    });
    this.#versions.forgetScope(scope);
    // The re-read's versions are evicted too (read again here if it failed).
    const all = [...versions, ...(after ?? (await this.#store.list({ kind: 'scope', scope })))];
    for (const key of all) this.#keys.delete(cacheId(key.keyId, key.version));
    for (const listener of this.#destroyListeners) listener([...new Set(all.map((key) => key.keyId))]);
    return count;
  }

  /**
   * Adds a new index root version and makes it the one written at once (creating version 1 if
   * there is none). Other processes keep writing the old version, and match only it, until they
   * read the live versions again (their `cache.indexVersionsTtlMs`): meanwhile a value one of
   * them writes can duplicate, under a `@unique` index, a value written here under the new one,
   * and their lookups miss rows moved to it. Across processes use {@link publishIndexKey}, wait
   * that long, then {@link promoteIndexKey} (`hushfield keys rotate --index` does).
   */
  async rotateIndexKey(): Promise<StoredKey> {
    const current = await this.#store.getActive('index', INDEX_SCOPE);
    const next = current === null ? await this.#create('index', INDEX_SCOPE) : await this.#rotate('index', INDEX_SCOPE);
    this.#versions.forgetIndexVersions();
    return next;
  }

  /**
   * Publishes a new index root version as `pending`, or returns the one already pending (one
   * another writer published at the same time too): every process matches it in blind-index
   * lookups and unique checks once it reads the live versions again (within its
   * `cache.indexVersionsTtlMs`, or at once after a lookup misses), and none writes it until
   * {@link promoteIndexKey}. With no index root yet, creates version 1, active (no value is
   * indexed under another).
   * @throws ConfigError when the key store has no `addPending` and `promote`; KeyConflictError
   *   when another writer rotated at the same time
   */
  async publishIndexKey(): Promise<StoredKey> {
    return this.#publish('index', INDEX_SCOPE);
  }

  /**
   * Publishes a new version of `scope`'s key as `pending`, or returns the one already pending,
   * as {@link publishIndexKey} does for the index root: every process matches it in its
   * per-scope blind indexes' lookups and unique checks once it reads the scope's live versions
   * again (within its `cache.indexVersionsTtlMs`), and none seals or indexes under it until
   * {@link promoteScope}.
   * @throws KeyNotFoundError when the scope has no key; KeyDestroyedError when it was
   *   destroyed; ConfigError when the key store has no `addPending` and `promote`;
   *   KeyConflictError when another writer rotated at the same time
   */
  async publishScope(scope: string): Promise<StoredKey> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    return this.#publish('scope', scope);
  }

  /**
   * Makes the pending index root version ({@link publishIndexKey}) the one written, and retires
   * the active one. Call it only once every process has matched the pending version for its
   * `cache.indexVersionsTtlMs`: a process then writes either version knowing both, so its unique
   * check sees a value stored under the other, and its lookups find rows `reencrypt` moves.
   * @returns the promoted version, now active (also when another writer promoted it meanwhile)
   * @throws KeyNotFoundError when no version is pending; KeyConflictError when another writer
   *   rotated first; ConfigError when the key store has no `addPending` and `promote`
   */
  async promoteIndexKey(): Promise<StoredKey> {
    return this.#promote('index', INDEX_SCOPE);
  }

  /**
   * Makes the pending version of `scope`'s key ({@link publishScope}) the one written, and
   * retires the active one. Other processes keep writing the old version until their cached
   * active version expires (`cache.ttlMs`), checking across both.
   * @returns the promoted version, now active (also when another writer promoted it meanwhile)
   * @throws KeyNotFoundError when no version is pending; KeyConflictError when another writer
   *   rotated first; ConfigError when the key store has no `addPending` and `promote`
   */
  async promoteScope(scope: string): Promise<StoredKey> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    return this.#promote('scope', scope);
  }

  /**
   * Re-wraps every live key version under `newKeyring`, replacing each stored wrapped key only
   * if it is still the one read (compare-and-swap). Afterwards new keys are wrapped by
   * `newKeyring`.
   * @returns how many versions were re-wrapped, and how many skipped (already under
   *   `newKeyring`, or changed concurrently)
   * @throws InvalidArgumentError when `newKeyring` has no string `id`, `wrapKey` or `unwrapKey`
   */
  async rewrap(newKeyring: Keyring): Promise<{ rewrapped: number; skipped: number }> {
    needs(isKeyring(newKeyring), 'newKeyring', 'must be a Keyring');
    this.#keyrings.set(newKeyring.id, newKeyring);
    const result = await rewrapKeys(newKeyring, {
      store: this.#store,
      calls: this.#calls,
      audit: this.#audit,
      keyringFor: (stored) => this.#keyringFor(stored),
    });
    this.#keyring = newKeyring;
    this.#versions.clear();
    return result;
  }

  /** Stored key versions matching `filter` (wrapped keys only; nothing here is secret alone). */
  list(filter?: KeyFilter): Promise<StoredKey[]> {
    return this.#store.list(filter);
  }

  /** @internal The active key of `scope` with its material (created on first use). */
  async activeScopeKeyMaterial(scope: string): Promise<KeyMaterial> {
    const stored = await this.#versions.active('scope', scope);
    const key = await this.#loader.material(stored, this.#versions.trustedFor(stored));
    return { keyId: stored.keyId, scope, version: stored.version, key };
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
  scopedKeyMaterial(keyId: string, version: number): Promise<ScopedKey> {
    return this.#loader.scopedKeyMaterial(keyId, version);
  }

  /**
   * @internal The material of each scope key version in `refs`, with its scope, one promise per
   * ref in order; those not cached are looked up together (see `KeyLoader.scopeKeyMaterials`).
   */
  scopeKeyMaterials(refs: readonly KeyVersionRef[]): Promise<ScopedKey>[] {
    return this.#loader.scopeKeyMaterials(refs);
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
    // An index root key cached under this id is no scope key: the caller loads it, and is refused.
    return this.#keys.use(cacheId(keyId, version), (key, owner) =>
      isScopeOwner(owner) ? use(key, scopeOfOwner(owner)) : MISS,
    );
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
    const stored = this.#versions.cachedActive(scope);
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
    return this.#versions.cachedIndexRootVersions();
  }

  /** @internal Live index root versions, newest (active) first; version 1 created on first use. */
  indexRootVersions(): Promise<StoredKey[]> {
    return this.#versions.indexRootVersions();
  }

  /**
   * @internal Reads the live index root versions again, rate-limited (see
   * `KeyVersions.refreshIndexRootVersions`). @returns whether a version appeared
   */
  refreshIndexRootVersions(since?: readonly StoredKey[]): Promise<boolean> {
    return this.#versions.refreshIndexRootVersions(since);
  }

  /** @internal The live index root versions read last, without I/O (see `KeyVersions.lastIndexRootVersions`). */
  lastIndexRootVersions(): readonly StoredKey[] | undefined {
    return this.#versions.lastIndexRootVersions();
  }

  /**
   * @internal The live (active and retired) versions of `scope`'s key, active first, without
   * creating one: empty when the scope has no key or was destroyed. A per-scope index lookup
   * matches every one of them.
   */
  liveScopeVersions(scope: string): Promise<StoredKey[]> {
    return this.#versions.liveScopeVersions(scope);
  }

  /**
   * @internal How many live versions of `scope`'s key are known, without I/O (see
   * `KeyVersions.cachedScopeVersionCount`).
   */
  cachedScopeVersionCount(scope: string): number {
    return this.#versions.cachedScopeVersionCount(scope);
  }

  /** @internal The live versions of `scope` read last, without I/O (see `KeyVersions.lastScopeVersions`). */
  lastScopeVersions(scope: string): readonly StoredKey[] | undefined {
    return this.#versions.lastScopeVersions(scope);
  }

  /**
   * @internal Reads the live versions of `scope` again after a per-scope index lookup missed,
   * at most once a second per scope (see `KeyVersions.refreshScopeVersions`). @returns whether a
   * version appeared
   */
  refreshScopeVersions(scope: string, since?: readonly StoredKey[]): Promise<boolean> {
    return this.#versions.refreshScopeVersions(scope, since);
  }

  /**
   * @internal The material of one stored key version (an index root version, or a version of
   * {@link KeyHierarchy.liveScopeVersions}), used only if it was unwrapped for that row's kind
   * and scope (a copy the caller zeroes).
   */
  versionMaterial(stored: StoredKey): Promise<Buffer> {
    return this.#loader.material(stored, this.#versions.trustedFor(stored));
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
    this.#versions.clear();
    this.#keys.clear();
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

  /** See {@link publishIndexKey} and {@link publishScope}. */
  async #publish(kind: KeyKind, scope: string): Promise<StoredKey> {
    const store = this.#pendingStore();
    const pendingIn = (versions: readonly StoredKey[]) =>
      versions.find((key) => key.kind === kind && key.scope === scope && key.state === 'pending');
    const versions = await store.list({ kind, scope });
    const pending = pendingIn(versions);
    if (pending !== undefined) return pending;
    const current = await store.getActive(kind, scope);
    if (current === null) {
      if (kind === 'scope') {
        const last = versions.at(-1);
        if (last !== undefined) throw new KeyDestroyedError(messages.scopeDestroyedForWrite(scope), last);
        throw new KeyNotFoundError(messages.scopeNotFound(kind, scope), { keyId: `${kind}:${scope}` });
      }
      const first = await this.#create(kind, scope);
      this.#forgetVersions(kind, scope);
      return first;
    }
    checkActiveAnswer(kind, scope, current, 'nothing is published');
    const slot: KeySlot = { keyId: current.keyId, kind, scope, version: current.version + 1 };
    try {
      return await this.#persist(slot, 'key.rotate', (key) => store.addPending(key), { state: 'pending' });
    } catch (error) {
      // Another writer published the same version first: that one is the version pending.
      if (!(error instanceof KeyConflictError)) throw error;
      const theirs = pendingIn(await store.list({ kind, scope }));
      if (theirs?.version !== slot.version) throw error;
      return theirs;
    } finally {
      this.#forgetVersions(kind, scope);
    }
  }

  /** See {@link promoteIndexKey} and {@link promoteScope}. */
  async #promote(kind: KeyKind, scope: string): Promise<StoredKey> {
    const store = this.#pendingStore();
    const versions = await store.list({ kind, scope });
    const pending = versions.find((key) => key.kind === kind && key.scope === scope && key.state === 'pending');
    if (pending === undefined) {
      throw new KeyNotFoundError(messages.nothingPending(kind, scope), { keyId: `${kind}:${scope}` });
    }
    const { keyId, version } = pending;
    const draft = { operation: 'key.rotate' as const, kind, scope, keyId, version };
    let promoted: StoredKey;
    try {
      promoted = await this.#audit.timed({ ...draft, detail: { state: 'active', promoted: true } }, () =>
        store.promote(kind, scope, version),
      );
    } catch (error) {
      // Another writer promoted this same version first (two runs waited for it): done.
      if (!(error instanceof KeyConflictError)) throw error;
      const active = await store.getActive(kind, scope);
      if (active?.keyId !== keyId || active.version !== version) throw error;
      checkActiveAnswer(kind, scope, active, 'nothing is promoted');
      promoted = active;
    } finally {
      this.#forgetVersions(kind, scope);
    }
    this.#versions.rotated(kind, scope, promoted);
    if (kind === 'scope') for (const listener of this.#rotateListeners) listener(scope);
    return promoted;
  }

  /** Forgets the live versions of (kind, scope) read so far (a version was added or promoted). */
  #forgetVersions(kind: KeyKind, scope: string): void {
    if (kind === 'index') this.#versions.forgetIndexVersions();
    else this.#versions.forgetLiveVersions(scope);
  }

  /** The key store, which must hold pending versions. @throws ConfigError when it cannot */
  #pendingStore(): KeyStore & Required<Pick<KeyStore, 'addPending' | 'promote'>> {
    const store = this.#store;
    if (typeof store.addPending !== 'function' || typeof store.promote !== 'function') {
      throw new ConfigError(messages.noPendingSupport());
    }
    return store as KeyStore & Required<Pick<KeyStore, 'addPending' | 'promote'>>;
  }

  #keyringFor(stored: StoredKey): Keyring {
    return this.#keyrings.get(stored.keyringId) ?? this.#keyring;
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
    checkActiveAnswer(kind, scope, current, 'nothing is rotated');
    const slot: KeySlot = { keyId: current.keyId, kind, scope, version: current.version + 1 };
    const next = await this.#persist(slot, 'key.rotate', (key) => this.#store.rotate(key));
    this.#versions.rotated(kind, scope, next);
    if (kind === 'scope') for (const listener of this.#rotateListeners) listener(scope);
    return next;
  }

  /** Generates a key for `slot`, stores its wrapped form with `write`, and caches it. */
  async #persist(
    slot: KeySlot,
    operation: 'key.create' | 'key.rotate',
    write: (key: Parameters<KeyStore['insert']>[0]) => Promise<StoredKey>,
    detail?: Readonly<Record<string, string>>,
  ): Promise<StoredKey> {
    const keyring = this.#keyring;
    const { key, wrapped } = await this.#calls.generate(keyring, slot);
    try {
      const draft = { operation, ...slot, keyringId: keyring.id, ...(detail === undefined ? {} : { detail }) };
      const stored = await this.#audit.timed(draft, () =>
        write({ ...slot, wrappedKey: wrapped.toString('base64'), keyringId: keyring.id }),
      );
      this.#keys.put(cacheId(stored.keyId, stored.version), key, ownerOf(stored.kind, stored.scope));
      if (stored.kind === 'scope') this.#versions.forgetLiveVersions(stored.scope);
      return stored;
    } catch (error) {
      key.fill(0);
      throw error;
    }
  }
}
