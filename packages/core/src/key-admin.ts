/**
 * What `FieldCrypto.keys` offers the application and the CLI: the key lifecycle (create,
 * rotate, destroy, rewrap, list) and the live index versions. It holds the key hierarchy but
 * passes on no method that returns key material, so no code handed a `FieldCrypto` (or the
 * extended client's `$hushfield.crypto`) can read a scope or index key through it.
 */
import { inspect } from 'node:util';
import type { KeyHierarchy } from './key-hierarchy';
import type { KeyFilter, StoredKey } from './key-store';
import type { Keyring } from './keyring';

/** The key lifecycle of one {@link FieldCrypto}, without access to key material. */
export class KeyAdmin {
  readonly #keys: KeyHierarchy;

  /** @internal Built by FieldCrypto around its own hierarchy. */
  constructor(keys: KeyHierarchy) {
    this.#keys = keys;
  }

  /** The active key of `scope` (created on first use): its id and version, not its material. */
  activeScopeKey(scope: string): Promise<{ keyId: string; scope: string; version: number }> {
    return this.#keys.activeScopeKey(scope);
  }

  /**
   * The active key of `scope` if it has one, or null; never creates one (a destroyed scope
   * throws `KeyDestroyedError`). For checks that must not leave a key behind when they refuse.
   */
  existingScopeKey(scope: string): Promise<{ keyId: string; scope: string; version: number } | null> {
    return this.#keys.existingScopeKey(scope);
  }

  /**
   * Creates version 1 of `scope` (or, for a destroyed scope, its next version).
   * @throws KeyConflictError when the scope already has a live key
   */
  createScope(scope: string): Promise<StoredKey> {
    return this.#keys.createScope(scope);
  }

  /**
   * Adds a new active version of `scope`; values under older versions keep decrypting.
   * @throws KeyNotFoundError, KeyDestroyedError, KeyConflictError
   */
  rotateScope(scope: string): Promise<StoredKey> {
    return this.#keys.rotateScope(scope);
  }

  /**
   * Crypto-shreds `scope`: erases every version's wrapped key from the key store and evicts its
   * cached keys. Its values can never be decrypted again.
   * @returns the number of versions destroyed
   */
  destroyScope(scope: string): Promise<number> {
    return this.#keys.destroyScope(scope);
  }

  /**
   * Adds a new index root version, written at once (creating version 1 if there is none). Other
   * processes write and match the old version alone until they read the live versions again:
   * across processes, {@link KeyAdmin.publishIndexKey} then {@link KeyAdmin.promoteIndexKey}.
   */
  rotateIndexKey(): Promise<StoredKey> {
    return this.#keys.rotateIndexKey();
  }

  /**
   * Publishes a new index root version as `pending` (or returns the one already pending):
   * matched by every process's lookups and unique checks once it reads the live versions again
   * (within its `cache.indexVersionsTtlMs`), written by none until {@link KeyAdmin.promoteIndexKey}.
   * With no index root yet, creates version 1, active.
   * @throws ConfigError when the key store has no `addPending` and `promote`; KeyConflictError
   *   when another writer rotated or published at the same time
   * @example
   * await keys.publishIndexKey();
   * await sleep(31_000); // every process's cache.indexVersionsTtlMs, and a second
   * await keys.promoteIndexKey();
   */
  publishIndexKey(): Promise<StoredKey> {
    return this.#keys.publishIndexKey();
  }

  /**
   * Makes the pending index root version the one written and retires the active one. Call it
   * once every process has matched the pending version (at least the longest
   * `cache.indexVersionsTtlMs` after {@link KeyAdmin.publishIndexKey}).
   * @throws KeyNotFoundError when no version is pending; KeyConflictError when another writer
   *   promoted or rotated first; ConfigError when the key store cannot hold pending versions
   */
  promoteIndexKey(): Promise<StoredKey> {
    return this.#keys.promoteIndexKey();
  }

  /**
   * Publishes a new version of `scope`'s key as `pending`, or returns the one already pending:
   * matched by every process's per-scope blind-index lookups and unique checks once it reads
   * the scope's live versions again (within its `cache.indexVersionsTtlMs`), used for sealing
   * and indexing by none until {@link KeyAdmin.promoteScope}.
   * @throws KeyNotFoundError when the scope has no key; KeyDestroyedError when it was destroyed;
   *   ConfigError when the key store cannot hold pending versions
   */
  publishScope(scope: string): Promise<StoredKey> {
    return this.#keys.publishScope(scope);
  }

  /**
   * Makes the pending version of `scope`'s key the active one and retires the old one. Call it
   * at least the longest `cache.indexVersionsTtlMs` after {@link KeyAdmin.publishScope}.
   * @throws KeyNotFoundError when no version is pending; KeyConflictError when another writer
   *   rotated first
   */
  promoteScope(scope: string): Promise<StoredKey> {
    return this.#keys.promoteScope(scope);
  }

  /**
   * Re-wraps every live key version under `newKeyring` (compare-and-swap per version).
   * @returns how many versions were re-wrapped, and how many skipped
   */
  rewrap(newKeyring: Keyring): Promise<{ rewrapped: number; skipped: number }> {
    return this.#keys.rewrap(newKeyring);
  }

  /** Stored key versions matching `filter` (wrapped keys only). */
  list(filter?: KeyFilter): Promise<StoredKey[]> {
    return this.#keys.list(filter);
  }

  /** Live index root versions, newest (active) first; version 1 created on first use. */
  indexRootVersions(): Promise<StoredKey[]> {
    return this.#keys.indexRootVersions();
  }

  /** Drops and zeroes every cached key (e.g. at shutdown); later uses unwrap again. */
  clearCache(): void {
    this.#keys.clearCache();
  }

  /** Prints counters only. */
  toJSON(): object {
    return this.#keys.toJSON();
  }

  /** Prints counters only. */
  [inspect.custom](): string {
    return `KeyAdmin ${inspect(this.toJSON())}`;
  }
}
