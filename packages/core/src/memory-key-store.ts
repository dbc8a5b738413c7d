/**
 * `MemoryKeyStore`: the {@link KeyStore} contract in memory, for unit tests and examples.
 * Each method does all its work before its first `await`, so `insert` and `rotate` are atomic
 * and a second key for the same (kind, scope, version) fails with `KeyConflictError`, exactly
 * as the Prisma-backed store does under concurrent writers.
 */
import { KeyConflictError } from './errors';
import type { KeyFilter, KeyKind, KeyStore, KeyVersionRef, NewStoredKey, StoredKey } from './key-store';
import { messages } from './messages';
import { needs, needsInteger } from './preconditions';

const KIND_ORDER: Record<KeyKind, number> = { index: 0, scope: 1 };

function compareKeys(a: StoredKey, b: StoredKey): number {
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  if (a.scope !== b.scope) return a.scope < b.scope ? -1 : 1;
  return a.version - b.version;
}

/** An in-memory key store. Holds only wrapped keys, like every key store. */
export class MemoryKeyStore implements KeyStore {
  readonly #byVersion = new Map<string, StoredKey>();

  /** The active version of (kind, scope), or `null`. */
  async getActive(kind: KeyKind, scope: string): Promise<StoredKey | null> {
    return this.#findActive(kind, scope);
  }

  /** One version by key id, or `null`. */
  async getVersion(keyId: string, version: number): Promise<StoredKey | null> {
    return this.#byVersion.get(`${keyId}\u0000${version}`) ?? null;
  }

  /** The active versions of several scopes of `kind`, in the order asked; scopes without one are left out. */
  async getActives(kind: KeyKind, scopes: readonly string[]): Promise<StoredKey[]> {
    const found: StoredKey[] = [];
    for (const scope of scopes) {
      const key = this.#findActive(kind, scope);
      if (key !== null) found.push(key);
    }
    return found;
  }

  /** Several versions by key id, in the order asked; those not found are left out. */
  async getVersions(refs: readonly KeyVersionRef[]): Promise<StoredKey[]> {
    const found: StoredKey[] = [];
    for (const { keyId, version } of refs) {
      const key = this.#byVersion.get(`${keyId}\u0000${version}`);
      if (key !== undefined) found.push(key);
    }
    return found;
  }

  /** All versions matching `filter`, ordered by kind, scope, version. */
  async list(filter: KeyFilter = {}): Promise<StoredKey[]> {
    return [...this.#byVersion.values()]
      .filter(
        (key) =>
          (filter.kind === undefined || key.kind === filter.kind) &&
          (filter.scope === undefined || key.scope === filter.scope) &&
          (filter.state === undefined || key.state === filter.state),
      )
      .sort(compareKeys);
  }

  /**
   * Inserts `key` as active.
   * @throws KeyConflictError when the version or key id version exists, or (kind, scope)
   *   already has an active version
   */
  async insert(key: NewStoredKey): Promise<StoredKey> {
    this.#check(key);
    if (this.#findActive(key.kind, key.scope) !== null)
      throw new KeyConflictError(messages.scopeExists(key.kind, key.scope));
    this.#refuseDuplicate(key);
    return this.#put(key);
  }

  /**
   * Retires the active version of (kind, scope) and inserts `next` as active, atomically.
   * @throws KeyConflictError when `next.version` is not the active version + 1
   */
  async rotate(next: NewStoredKey): Promise<StoredKey> {
    this.#check(next);
    const current = this.#findActive(next.kind, next.scope);
    if (current === null || current.version + 1 !== next.version) {
      throw new KeyConflictError(messages.rotateConflict(next.kind, next.scope, next.version));
    }
    this.#refuseDuplicate(next);
    this.#byVersion.set(this.#id(current), Object.freeze({ ...current, state: 'retired', updatedAt: new Date() }));
    return this.#put(next);
  }

  /**
   * Inserts `next` (the active version + 1) as pending, leaving the active version as it is.
   * @throws KeyConflictError when `next.version` is not the active version + 1 or exists
   */
  async addPending(next: NewStoredKey): Promise<StoredKey> {
    this.#check(next);
    const current = this.#findActive(next.kind, next.scope);
    if (current === null || current.version + 1 !== next.version) {
      throw new KeyConflictError(messages.rotateConflict(next.kind, next.scope, next.version));
    }
    this.#refuseDuplicate(next);
    return this.#put(next, 'pending');
  }

  /**
   * Retires the active version `version - 1` of (kind, scope) and makes the pending `version`
   * active, atomically.
   * @throws KeyConflictError when `version` is not pending after an active `version - 1`
   */
  async promote(kind: KeyKind, scope: string, version: number): Promise<StoredKey> {
    needsInteger(version, 2, 2 ** 31 - 1, 'version');
    const current = this.#findActive(kind, scope);
    const pending = [...this.#byVersion.values()].find(
      (key) => key.kind === kind && key.scope === scope && key.version === version && key.state === 'pending',
    );
    if (current === null || current.version + 1 !== version || pending === undefined) {
      throw new KeyConflictError(messages.promoteConflict(kind, scope, version));
    }
    const now = new Date();
    this.#byVersion.set(this.#id(current), Object.freeze({ ...current, state: 'retired', updatedAt: now }));
    const promoted: StoredKey = Object.freeze({ ...pending, state: 'active', updatedAt: now });
    this.#byVersion.set(this.#id(promoted), promoted);
    return promoted;
  }

  /** Destroys every version of (kind, scope), erasing its wrapped keys. @returns how many. */
  async destroy(kind: KeyKind, scope: string): Promise<number> {
    let count = 0;
    for (const key of this.#byVersion.values()) {
      if (key.kind !== kind || key.scope !== scope || key.state === 'destroyed') continue;
      this.#byVersion.set(
        this.#id(key),
        Object.freeze({ ...key, state: 'destroyed', wrappedKey: null, updatedAt: new Date() }),
      );
      count++;
    }
    return count;
  }

  /** Compare-and-swap of one version's wrapped key. @returns whether it was replaced. */
  async replaceWrapped(
    keyId: string,
    version: number,
    expectedWrappedKey: string,
    wrappedKey: string,
    keyringId: string,
  ): Promise<boolean> {
    const key = this.#byVersion.get(`${keyId}\u0000${version}`);
    if (key === undefined || key.state === 'destroyed' || key.wrappedKey !== expectedWrappedKey) return false;
    this.#byVersion.set(this.#id(key), Object.freeze({ ...key, wrappedKey, keyringId, updatedAt: new Date() }));
    return true;
  }

  #findActive(kind: KeyKind, scope: string): StoredKey | null {
    for (const key of this.#byVersion.values()) {
      if (key.kind === kind && key.scope === scope && key.state === 'active') return key;
    }
    return null;
  }

  #id(key: { keyId: string; version: number }): string {
    return `${key.keyId}\u0000${key.version}`;
  }

  #check(key: NewStoredKey): void {
    needs(typeof key.keyId === 'string' && key.keyId.length > 0, 'key.keyId', 'must be a non-empty string');
    needs(key.kind === 'scope' || key.kind === 'index', 'key.kind', "must be 'scope' or 'index'");
    needs(typeof key.scope === 'string' && key.scope.length > 0, 'key.scope', 'must be a non-empty string');
    needsInteger(key.version, 1, 2 ** 31 - 1, 'key.version');
    needs(
      typeof key.wrappedKey === 'string' && key.wrappedKey.length > 0,
      'key.wrappedKey',
      'must be a non-empty string',
    );
  }

  #refuseDuplicate(key: NewStoredKey): void {
    for (const existing of this.#byVersion.values()) {
      const sameSlot = existing.kind === key.kind && existing.scope === key.scope && existing.version === key.version;
      if (sameSlot || (existing.keyId === key.keyId && existing.version === key.version)) {
        throw new KeyConflictError(messages.keyVersionExists(key.kind, key.scope, key.version));
      }
    }
  }

  #put(key: NewStoredKey, state: 'active' | 'pending' = 'active'): StoredKey {
    const now = new Date();
    const stored: StoredKey = Object.freeze({
      keyId: key.keyId,
      kind: key.kind,
      scope: key.scope,
      version: key.version,
      state,
      wrappedKey: key.wrappedKey,
      keyringId: key.keyringId,
      createdAt: now,
      updatedAt: now,
    });
    this.#byVersion.set(this.#id(stored), stored);
    return stored;
  }
}
