/**
 * How the key hierarchy gets the material of a key version it does not hold: read from the key
 * store (by id, or for many versions in one query), unwrapped by the keyring that wrapped it,
 * and cached with the kind and scope its key-store row names, so that a cached key serves only
 * that kind and scope. Each load is one keyring call, traced and audited.
 */
import { KeyDestroyedError, KeyNotFoundError } from './errors';
import type { KeyCache } from './key-cache';
import type { KeyKind, KeyStore, KeyVersionRef, StoredKey } from './key-store';
import type { Keyring } from './keyring';
import type { KeyringCalls } from './keyring-calls';
import { messages } from './messages';
import { keyLoadSpan } from './telemetry';

/** Cache id of one key version; key ids never contain NUL. */
export function cacheId(keyId: string, version: number): string {
  return `${keyId}\u0000${version}`;
}

/**
 * What a key version was unwrapped for: its kind and scope, as its key-store row names them
 * (and the wrap context binds). A cached key is used only for the same kind and scope, so a
 * row relabelled in SQL (`scope = 'victim'`) cannot make writes to another scope seal under it.
 */
export function ownerOf(kind: KeyKind, scope: string): string {
  return `${kind}\u0000${scope}`;
}

const SCOPE_OWNER = ownerOf('scope', '');

/** A scope key's material (a copy the receiver owns and zeroes) and the scope it belongs to. */
export interface ScopedKey {
  readonly key: Buffer;
  readonly scope: string | undefined;
}

/**
 * A cached or loaded key as a scope key: refused (zeroed, `KeyNotFoundError`) when it was
 * unwrapped for another kind (the index root key shares the key cache's id space), as it is
 * when the key store's row says so, so an envelope naming the index root key never opens.
 */
function scopedKey({ key, owner }: { key: Buffer; owner?: string }, keyId: string, version: number): ScopedKey {
  if (!isScopeOwner(owner)) {
    key.fill(0);
    throw new KeyNotFoundError(messages.keyNotFound(keyId, version), { keyId, version });
  }
  return { key, scope: scopeOfOwner(owner) };
}

/** Whether a cached key's owner ({@link ownerOf}) allows its use as a scope key: a scope's, or unsaid. */
export function isScopeOwner(owner: string | undefined): boolean {
  return owner === undefined || owner.startsWith(SCOPE_OWNER);
}

/** The scope a scope key's {@link ownerOf} names, or `undefined` for another kind or no owner. */
export function scopeOfOwner(owner: string | undefined): string | undefined {
  return owner !== undefined && owner.startsWith(SCOPE_OWNER) ? owner.slice(SCOPE_OWNER.length) : undefined;
}

/** Loads key versions into the key hierarchy's key cache, one at a time or in batches. */
export class KeyLoader {
  readonly #store: KeyStore;
  readonly #keys: KeyCache;
  readonly #calls: KeyringCalls;
  readonly #keyringFor: (stored: StoredKey) => Keyring;

  /**
   * @internal Built by KeyHierarchy around its own key store and keyrings.
   * @param keys - the hierarchy's cache of unwrapped keys, by {@link cacheId}, owned by {@link ownerOf}
   * @param keyringFor - the keyring to unwrap a stored key version with
   */
  constructor(store: KeyStore, keys: KeyCache, calls: KeyringCalls, keyringFor: (stored: StoredKey) => Keyring) {
    this.#store = store;
    this.#keys = keys;
    this.#calls = calls;
    this.#keyringFor = keyringFor;
  }

  /**
   * The material of one stored key version, used only if it was unwrapped for that row's kind
   * and scope (a copy the caller zeroes).
   * @param ttlMs - how much longer `stored` may be trusted (it was read from the key store a
   *   while ago and cached): the unwrapped key is cached no longer, so a key evicted early
   *   (`maxUses`, `maxEntries`) is not unwrapped again from a wrapped key another process has
   *   since erased (a shred) and cached for a fresh TTL
   */
  material(stored: StoredKey, ttlMs?: number): Promise<Buffer> {
    // Unwrapped for this row's kind and scope, or (cached for another) unwrapped again under
    // this row's wrap context, which fails if the row was relabelled.
    const owner = ownerOf(stored.kind, stored.scope);
    return this.#keys.get(
      cacheId(stored.keyId, stored.version),
      () => keyLoadSpan(stored, async () => ({ key: await this.#unwrap(stored), owner, ttlMs })),
      owner,
    );
  }

  /**
   * The material of scope key `keyId` version `version`, as named by an envelope, with the
   * scope the key belongs to (as its key-store row names it, which its wrap context binds;
   * `undefined` if the cache did not say).
   * @throws KeyDestroyedError, KeyNotFoundError, KeyringError
   */
  async scopedKeyMaterial(keyId: string, version: number): Promise<ScopedKey> {
    return scopedKey(
      await this.#keys.getOwned(cacheId(keyId, version), () =>
        this.#loadScopeKey(keyId, version, () => this.#store.getVersion(keyId, version)),
      ),
      keyId,
      version,
    );
  }

  /**
   * The material of each scope key version in `refs`, with its scope, as {@link
   * KeyLoader.scopedKeyMaterial} gives it, one promise per ref in order. Those not cached are
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
        .then((owned) => scopedKey(owned, keyId, version)),
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

  async #unwrap(stored: StoredKey): Promise<Buffer> {
    if (stored.state === 'destroyed' || stored.wrappedKey === null) {
      throw new KeyDestroyedError(messages.scopeDestroyed(stored.scope, stored.keyId, stored.version), stored);
    }
    return this.#calls.unwrap(this.#keyringFor(stored), stored);
  }
}
