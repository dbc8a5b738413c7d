/**
 * Which key versions the key hierarchy uses, cached for the key cache's TTL so that warm writes
 * and index lookups cost no key-store query: the active version of each scope and of the index
 * root (created on first use, one lookup in flight per scope, several scopes' in one key-store
 * call), and the live versions a blind-index lookup matches. A lookup that raced a destroy,
 * cache clear or rewrap does not cache its result. Holds stored (wrapped) keys only.
 */
import { LRUCache } from 'lru-cache';
import { KeyConflictError, KeyDestroyedError, KeyStoreError } from './errors';
import { EXACT_TTL_CLOCK } from './key-cache';
import type { KeyKind, KeyStore, StoredKey } from './key-store';
import { messages } from './messages';
import { isName, needsName } from './preconditions';

/**
 * Least time between two reads of the live index root versions (or of one scope's live versions)
 * that a lookup which may have missed asks for ({@link KeyVersions.refreshIndexRootVersions},
 * {@link KeyVersions.refreshScopeVersions}): a stream of genuine misses costs at most one
 * key-store query per interval (per scope), not one per lookup.
 */
export const INDEX_VERSIONS_REFRESH_MS = 1_000;

/** How often first use of a scope tries to create its key when a concurrent creation conflicts (backoff 20–160 ms). */
const CREATE_ATTEMPTS = 5;

/**
 * Refuses a key the store answered for an active-key lookup unless it is exactly what was asked
 * for: a key table whose scope column compares case- or accent-insensitively (MySQL's default
 * collations), or ignores trailing spaces, answers `acme`'s key when asked for `Acme`'s, and
 * sealing under it would put one scope's values under another's key (which reads then refuse,
 * and a shred of either destroys); rotating it would retire the other scope's key.
 * @param refused - what the caller does not do with it, for the message
 * @throws KeyStoreError naming both scopes
 */
export function checkActiveAnswer(kind: KeyKind, scope: string, stored: StoredKey, refused: string): void {
  if (stored.kind === kind && stored.scope === scope && stored.state === 'active') return;
  throw new KeyStoreError(messages.keyStoreOtherScope(kind, scope, stored, refused), stored);
}

const NOT_SEALED = 'nothing is sealed under it';

/** The scope every index root key lives in. */
export const INDEX_SCOPE = 'default';
/** Longest scope accepted, in UTF-8 bytes. */
export const MAX_SCOPE_BYTES = 1024;

/** The active and live key versions of scopes and of the index root, as the key store last said. */
export class KeyVersions {
  readonly #store: KeyStore;
  readonly #create: (kind: KeyKind, scope: string) => Promise<StoredKey>;
  /** (kind, scope) → active version, so writes cost no key-store query while warm. */
  readonly #active: LRUCache<string, StoredKey>;
  readonly #pendingActive = new Map<string, Promise<StoredKey>>();
  /** Live index root versions, newest first. */
  readonly #indexVersions: LRUCache<string, StoredKey[]>;
  /** scope → its live scope key versions, active first (per-scope index lookups); never empty. */
  readonly #scopeVersions: LRUCache<string, StoredKey[]>;
  /** scope → its live scope key versions last read (kept past their TTL), and when. */
  readonly #lastScopeVersions: LRUCache<string, { readonly versions: readonly StoredKey[]; readonly at: number }>;
  #indexVersionsLoading: Promise<StoredKey[]> | undefined;
  /** The live index root versions last read (kept past their TTL), and when. */
  #lastIndexVersions: { readonly versions: readonly StoredKey[]; readonly at: number } | undefined;
  /** When each stored key held here was read from the key store (`performance.now()`). */
  readonly #readAt = new WeakMap<StoredKey, number>();
  readonly #ttlMs: number;
  /**
   * Bumped by every destroy, cache clear and rewrap, so a lookup that raced one does not cache
   * its result.
   */
  #epoch = 0;

  /**
   * @internal Built by KeyHierarchy.
   * @param cache - the key cache's checked options: versions are cached as long, and as many
   *   (the live index root versions, and a scope's live versions for its per-scope indexes, for
   *   `indexVersionsTtlMs`, when shorter)
   * @param create - creates the first version of (kind, scope) on its first use
   *   (`KeyConflictError` when another writer created one first)
   */
  constructor(
    store: KeyStore,
    cache: { readonly ttlMs: number; readonly maxEntries: number; readonly indexVersionsTtlMs?: number },
    create: (kind: KeyKind, scope: string) => Promise<StoredKey>,
  ) {
    this.#store = store;
    this.#create = create;
    this.#ttlMs = cache.ttlMs;
    this.#active = new LRUCache({ max: cache.maxEntries, ttl: cache.ttlMs, ...EXACT_TTL_CLOCK });
    const indexTtl = Math.min(cache.ttlMs, cache.indexVersionsTtlMs ?? cache.ttlMs);
    this.#indexVersions = new LRUCache({ max: 1, ttl: indexTtl, ...EXACT_TTL_CLOCK });
    // Per-scope index lookups follow a scope-key rotation elsewhere as shared ones follow an
    // index-key rotation: within the shorter TTL (one key-store query per scope, no KMS call).
    this.#scopeVersions = new LRUCache({ max: cache.maxEntries, ttl: indexTtl, ...EXACT_TTL_CLOCK });
    this.#lastScopeVersions = new LRUCache({ max: cache.maxEntries });
  }

  /**
   * Active versions read in a snapshot, by snapshot (see `KeyStore.currentSnapshot`): its own
   * cache, dropped with it, never the process's.
   */
  readonly #snapshotActive = new WeakMap<object, Map<string, Promise<StoredKey>>>();

  /** The snapshot the key store's reads see now (see `KeyStore.currentSnapshot`), if any. */
  #snapshot(): object | undefined {
    const snapshot = this.#store.currentSnapshot?.();
    return typeof snapshot === 'object' && snapshot !== null ? snapshot : undefined;
  }

  /** Whether the key store's reads see a snapshot now: what they answer is cached nowhere shared. */
  #inSnapshot(): boolean {
    return this.#snapshot() !== undefined;
  }

  /** The active versions read in `snapshot` (see {@link #snapshotActive}). */
  #activeIn(snapshot: object): Map<string, Promise<StoredKey>> {
    let found = this.#snapshotActive.get(snapshot);
    if (found === undefined) {
      found = new Map();
      this.#snapshotActive.set(snapshot, found);
    }
    return found;
  }

  /** Notes that `stored` was read from the key store now. @returns `stored` */
  #read<T extends StoredKey | null>(stored: T): T {
    if (stored !== null) this.#readAt.set(stored, performance.now());
    return stored;
  }

  /**
   * How much longer a stored key held here may be trusted (milliseconds until the TTL since it
   * was read from the key store runs out), or `undefined` when it was not read here. A key
   * unwrapped from it must not be cached longer: the stored row may have been destroyed since.
   */
  trustedFor(stored: StoredKey): number | undefined {
    const readAt = this.#readAt.get(stored);
    return readAt === undefined ? undefined : readAt + this.#ttlMs - performance.now();
  }

  /** The active version of (kind, scope), created on first use; one lookup in flight per scope. */
  active(kind: KeyKind, scope: string): Promise<StoredKey> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const id = `${kind}\u0000${scope}`;
    const cached = this.#active.get(id);
    if (cached !== undefined) return Promise.resolve(cached);
    const snapshot = this.#snapshot();
    if (snapshot !== undefined) {
      // Looked up once in the snapshot, for it alone (neither cached for the process nor shared
      // with lookups outside it).
      const inSnapshot = this.#activeIn(snapshot);
      let known = inSnapshot.get(id);
      if (known === undefined) {
        known = this.#loadActive(kind, scope, false);
        inSnapshot.set(id, known);
        known.catch(() => inSnapshot.delete(id));
      }
      return known;
    }
    let pending = this.#pendingActive.get(id);
    if (pending === undefined) {
      pending = this.#loadActive(kind, scope).finally(() => this.#pendingActive.delete(id));
      this.#pendingActive.set(id, pending);
    }
    return pending;
  }

  /** @param shared - whether what is read is cached for the process (not read in a snapshot) */
  async #loadActive(kind: KeyKind, scope: string, shared = true): Promise<StoredKey> {
    const epoch = this.#epoch;
    let stored = this.#read(await this.#store.getActive(kind, scope));
    for (let attempt = 1; stored === null; attempt++) {
      try {
        stored = this.#read(await this.#create(kind, scope));
      } catch (error) {
        if (!(error instanceof KeyConflictError)) throw error;
        // Another process created it first: use theirs. Its write may not be visible yet (on
        // SQLite with a rollback journal a competing writer's busy lock is seen before its
        // commit), or it may have rolled back: read again, then create again, a few times.
        stored = this.#read(await this.#store.getActive(kind, scope));
        if (stored !== null) break;
        if (attempt >= CREATE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
        stored = this.#read(await this.#store.getActive(kind, scope));
      }
    }
    checkActiveAnswer(kind, scope, stored, NOT_SEALED);
    if (shared && epoch === this.#epoch) this.#active.set(`${kind}\u0000${scope}`, stored);
    return stored;
  }

  /** The cached active version of `scope`'s key, or `undefined` (no I/O). */
  cachedActive(scope: string): StoredKey | undefined {
    return this.#active.get(`scope\u0000${scope}`);
  }

  /**
   * The active key of `scope` if it has one, or null: unlike {@link KeyVersions.active} it never
   * creates one, so a caller can refuse a row before the refusal leaves a key behind. A
   * destroyed scope throws `KeyDestroyedError`, as a write to it would.
   */
  async existing(scope: string): Promise<{ keyId: string; scope: string; version: number } | null> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const id = `scope\u0000${scope}`;
    const epoch = this.#epoch;
    const shared = !this.#inSnapshot();
    const stored = this.#active.get(id) ?? this.#read(await this.#store.getActive('scope', scope));
    if (stored === null) {
      const versions = await this.#store.list({ kind: 'scope', scope });
      const last = versions.at(-1);
      if (last !== undefined && versions.every((key) => key.state === 'destroyed'))
        throw new KeyDestroyedError(messages.scopeDestroyedForWrite(scope), last);
      return null;
    }
    checkActiveAnswer('scope', scope, stored, NOT_SEALED);
    if (shared && epoch === this.#epoch && !this.#active.has(id)) this.#active.set(id, stored);
    return { keyId: stored.keyId, scope, version: stored.version };
  }

  /**
   * Looks up the active keys of those of `scopes` not cached, in one key-store call when the
   * store has `getActives` and two or more are missing, and caches them: rows then written in
   * those scopes find their key without a lookup each. A scope without a key is left to be
   * created on first use, and a failed lookup to each scope's own (so a failure is reported
   * where it matters); no keyring call is made (a key is unwrapped on first use).
   */
  async prefetchActiveScopes(scopes: Iterable<string>): Promise<void> {
    const store = this.#store;
    if (store.getActives === undefined) return;
    // Read in a snapshot: cached for the snapshot alone (see active).
    const snapshot = this.#snapshot();
    const inSnapshot = snapshot === undefined ? undefined : this.#activeIn(snapshot);
    const missing = new Set<string>();
    for (const scope of scopes) {
      const id = `scope\u0000${scope}`;
      const pending = inSnapshot === undefined ? this.#pendingActive.has(id) : inSnapshot.has(id);
      if (isName(scope, MAX_SCOPE_BYTES) && !this.#active.has(id) && !pending) missing.add(scope);
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
        if (inSnapshot !== undefined) {
          if (!inSnapshot.has(id)) inSnapshot.set(id, Promise.resolve(this.#read(stored)));
          continue;
        }
        const cached = this.#active.get(id);
        if (cached === undefined || cached.version < stored.version) this.#active.set(id, this.#read(stored));
      }
    } catch {
      // Nothing more cached: each scope's own lookup runs, and reports its own failure.
    }
  }

  /** The cached live index root versions, newest first, or `undefined` (no I/O). */
  cachedIndexRootVersions(): StoredKey[] | undefined {
    return this.#indexVersions.get(INDEX_SCOPE);
  }

  /** Live index root versions, newest (active) first; version 1 created on first use. */
  indexRootVersions(): Promise<StoredKey[]> {
    const cached = this.#indexVersions.get(INDEX_SCOPE);
    if (cached !== undefined) return Promise.resolve(cached);
    // Read for this call alone: neither cached nor shared with callers outside the snapshot.
    if (this.#inSnapshot()) return this.#loadIndexRootVersions(false);
    // Single flight: a cold createMany of thousands of rows asks once, not once a row (which
    // exhausted a connection pool of 10 on MariaDB).
    this.#indexVersionsLoading ??= this.#loadIndexRootVersions().finally(() => {
      this.#indexVersionsLoading = undefined;
    });
    return this.#indexVersionsLoading;
  }

  /** @param shared - whether what is read is cached (not read in a snapshot) */
  async #loadIndexRootVersions(shared = true): Promise<StoredKey[]> {
    await this.active('index', INDEX_SCOPE);
    const live = (await this.#store.list({ kind: 'index', scope: INDEX_SCOPE }))
      .filter((key) => key.state !== 'destroyed')
      .map((key) => this.#read(key))
      .sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.version - a.version));
    if (!shared) return live;
    this.#indexVersions.set(INDEX_SCOPE, live);
    this.#lastIndexVersions = { versions: live, at: performance.now() };
    return live;
  }

  /**
   * The live index root versions this process read last (kept past their TTL), without I/O:
   * what a lookup starting now hashes its value under, or an older list. `undefined` before
   * the first read.
   */
  lastIndexRootVersions(): readonly StoredKey[] | undefined {
    return this.#lastIndexVersions?.versions;
  }

  /**
   * Reads the live index root versions again, for a lookup that found nothing and may have
   * missed a version another process added since this one last read them; at most once per
   * {@link INDEX_VERSIONS_REFRESH_MS} (a read more recent than that, by any caller, is answer
   * enough). Costs nothing while no lookup misses.
   * @param since - the versions known when the lookup started ({@link lastIndexRootVersions}):
   *   a read made since, by another caller or on expiry, may already name a version the lookup
   *   did not hash under. Without it, the versions read before this call.
   * @returns whether the versions read name one `since` did not (the lookup is worth running
   *   again)
   */
  async refreshIndexRootVersions(since?: readonly StoredKey[]): Promise<boolean> {
    const last = this.#lastIndexVersions;
    const before = since ?? last?.versions;
    if (before === undefined) {
      await this.indexRootVersions();
      return false;
    }
    const named = newVersionIn(before);
    if (last !== undefined && last.versions !== before && named(last.versions)) return true;
    if (last !== undefined && performance.now() - last.at < INDEX_VERSIONS_REFRESH_MS) return false;
    if (this.#indexVersionsLoading === undefined) this.#indexVersions.clear();
    return named(await this.indexRootVersions());
  }

  /**
   * The live (active and retired) versions of `scope`'s key, active first, without creating
   * one: empty when the scope has no key or was destroyed. A per-scope index lookup matches
   * every one of them. Cached when non-empty for the index versions' TTL (a scope created by
   * another process is seen at once; a rotation there within that TTL, or at once by a lookup
   * that missed: {@link refreshScopeVersions}), as for the index root.
   */
  async liveScopeVersions(scope: string): Promise<StoredKey[]> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const cached = this.#scopeVersions.get(scope);
    if (cached !== undefined) return cached;
    const epoch = this.#epoch;
    const shared = !this.#inSnapshot();
    const live = (await this.#store.list({ kind: 'scope', scope }))
      .filter((key) => key.state !== 'destroyed')
      .map((key) => this.#read(key))
      .sort((a, b) => (a.state === 'active' ? -1 : b.state === 'active' ? 1 : b.version - a.version));
    if (shared && live.length > 0 && epoch === this.#epoch) {
      this.#scopeVersions.set(scope, live);
      this.#lastScopeVersions.set(scope, { versions: live, at: performance.now() });
    }
    return live;
  }

  /**
   * How many live versions of `scope`'s key this process knows, without I/O: the cached list's
   * length (read at most `indexVersionsTtlMs` ago), else 0 (not known: the caller reads it). Not
   * inferred from a cached active version 1: that one is cached for the longer `ttlMs`, and a
   * rotation elsewhere since then leaves it active here while another process writes version 2.
   */
  cachedScopeVersionCount(scope: string): number {
    return this.#scopeVersions.get(scope)?.length ?? 0;
  }

  /**
   * The live versions of `scope`'s key this process read last (kept past their TTL), without
   * I/O: what a per-scope index lookup starting now hashes its value under, or an older list.
   * `undefined` before the first read, or while the scope has no key.
   */
  lastScopeVersions(scope: string): readonly StoredKey[] | undefined {
    return this.#lastScopeVersions.peek(scope)?.versions;
  }

  /**
   * Reads the live versions of `scope`'s key again, for a lookup through a per-scope index that
   * found nothing and may have missed a version another process added (`keys rotate --scope`)
   * since this one last read them; at most once per {@link INDEX_VERSIONS_REFRESH_MS} per scope.
   * As {@link refreshIndexRootVersions}, for one scope.
   * @param since - the versions known when the lookup started ({@link lastScopeVersions})
   * @returns whether the versions read name one `since` did not (the lookup is worth running again)
   */
  async refreshScopeVersions(scope: string, since?: readonly StoredKey[]): Promise<boolean> {
    needsName(scope, MAX_SCOPE_BYTES, 'scope');
    const last = this.#lastScopeVersions.peek(scope);
    const before = since ?? last?.versions;
    // Not cached (no key yet, or read in a snapshot): the lookup read them itself just now.
    if (before === undefined) return false;
    const named = newVersionIn(before);
    if (last !== undefined && last.versions !== before && named(last.versions)) return true;
    if (last !== undefined && performance.now() - last.at < INDEX_VERSIONS_REFRESH_MS) return false;
    this.#scopeVersions.delete(scope);
    return named(await this.liveScopeVersions(scope));
  }

  /** Records `next`, which this process rotated (kind, scope) to, as its active version. */
  rotated(kind: KeyKind, scope: string, next: StoredKey): void {
    this.#active.set(`${kind}\u0000${scope}`, this.#read(next));
    if (kind === 'scope') this.#scopeVersions.delete(scope);
  }

  /** Forgets the live versions of `scope` (a version was added), to be read again. */
  forgetLiveVersions(scope: string): void {
    this.#scopeVersions.delete(scope);
  }

  /** Forgets the live index root versions (a version was added), to be read again. */
  forgetIndexVersions(): void {
    this.#indexVersions.clear();
  }

  /** Forgets everything about `scope`, which was destroyed; lookups in flight do not cache. */
  forgetScope(scope: string): void {
    this.#epoch++;
    this.#active.delete(`scope\u0000${scope}`);
    this.#scopeVersions.delete(scope);
    this.#lastScopeVersions.delete(scope);
  }

  /** Forgets every version (cache clear, rewrap); lookups in flight do not cache. */
  clear(): void {
    this.#epoch++;
    this.#active.clear();
    this.#indexVersions.clear();
    this.#scopeVersions.clear();
    this.#lastScopeVersions.clear();
  }
}

/** Whether a list of live versions names one that `before` did not. */
function newVersionIn(before: readonly StoredKey[]): (live: readonly StoredKey[]) => boolean {
  const known = new Set(before.map((key) => `${key.keyId}\u0000${key.version}`));
  return (live) => live.some((key) => !known.has(`${key.keyId}\u0000${key.version}`));
}
