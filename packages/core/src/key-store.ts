/**
 * The key-store contract: where wrapped scope keys and index root keys live (a table in the
 * application's own database, see `@hushfield/prisma`'s `PrismaKeyStore`). It holds only
 * wrapped key material; nothing in it is usable without the keyring.
 */

/** `scope`: encrypts per-row data keys. `index`: root of the blind-index key derivation. */
export type KeyKind = 'scope' | 'index';

/**
 * Lifecycle: one `active` version per (kind, scope), the one new values are written under;
 * `pending`, at most one per (kind, scope) and newer than the active one, is matched by
 * blind-index lookups and unique checks in every process but written by none until it is
 * promoted (see {@link KeyStore.addPending}); `retired` still decrypts and matches;
 * `destroyed` never again.
 */
export type KeyState = 'active' | 'pending' | 'retired' | 'destroyed';

/** One version of one key, as stored. */
export interface StoredKey {
  /** Random, stable across versions of one (kind, scope); written into every envelope. */
  readonly keyId: string;
  readonly kind: KeyKind;
  /** `default`, or the value of the model's scope field (tenant id, user id, ...). */
  readonly scope: string;
  /** 1, 2, 3, ... */
  readonly version: number;
  readonly state: KeyState;
  /** Base64 of the keyring's wrapped bytes; `null` once destroyed. */
  readonly wrappedKey: string | null;
  /** {@link Keyring.id} of the keyring that wrapped it. */
  readonly keyringId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What {@link KeyStore.insert} and {@link KeyStore.rotate} take. */
export interface NewStoredKey {
  readonly keyId: string;
  readonly kind: KeyKind;
  readonly scope: string;
  readonly version: number;
  readonly wrappedKey: string;
  readonly keyringId: string;
}

/** One key version as an envelope names it: what {@link KeyStore.getVersions} looks up. */
export interface KeyVersionRef {
  readonly keyId: string;
  readonly version: number;
}

/** Filter for {@link KeyStore.list}; every given property must match. */
export interface KeyFilter {
  readonly kind?: KeyKind;
  readonly scope?: string;
  readonly state?: KeyState;
}

/**
 * Persistence of wrapped keys. Implementations must make `insert` and `rotate` atomic and
 * reject a second key for the same (kind, scope, version) with `KeyConflictError`, so that
 * concurrent first use of a scope from several processes yields exactly one active key.
 */
export interface KeyStore {
  /**
   * The active version of (kind, scope), or `null` if none was ever created. A key answered for
   * another kind or scope than asked exactly (as a case-insensitive collation may return), or
   * not `active`, is refused with `KeyStoreError`: nothing is sealed under it.
   */
  getActive(kind: KeyKind, scope: string): Promise<StoredKey | null>;
  /** One version by key id (as found in an envelope), or `null`. */
  getVersion(keyId: string, version: number): Promise<StoredKey | null>;
  /**
   * Optional: several versions by key id in one lookup, in any order; those not found (or not
   * valid versions) are left out. A cold read of rows in many scopes then asks the store once
   * instead of once a scope; without it, {@link KeyStore.getVersion} is called for each. A row
   * for a key id or version not asked for exactly is ignored, and a key left out is asked for
   * with `getVersion` before it is reported not found.
   */
  getVersions?(refs: readonly KeyVersionRef[]): Promise<StoredKey[]>;
  /**
   * Optional: the active versions of several scopes of `kind` in one lookup, in any order;
   * scopes without one are left out. A cold write of rows in many scopes (a `createMany`) then
   * asks the store once instead of once a scope; without it, {@link KeyStore.getActive} is
   * called for each. Rows for scopes not asked for exactly (as a case-insensitive collation
   * may return), or not `active`, are ignored; a scope left out is looked up on its own.
   */
  getActives?(kind: KeyKind, scopes: readonly string[]): Promise<StoredKey[]>;
  /** All versions matching `filter`, ordered by kind, scope, version. */
  list(filter?: KeyFilter): Promise<StoredKey[]>;
  /**
   * Optional: the snapshot reads made now see, when it may predate keys committed since (a
   * store that joins the caller's `REPEATABLE READ` or `SERIALIZABLE` transaction), as an
   * object that stands for it (the same one for every read in it), else `undefined`. What such
   * reads answer is never cached for the process, so that a snapshot's versions never stand for
   * the live ones outside it: active versions are cached for the snapshot alone, live version
   * lists not at all. Absent: no read sees a snapshot.
   */
  currentSnapshot?(): object | undefined;
  /**
   * Inserts version 1 (or any version) in state `active`.
   * @throws KeyConflictError when (kind, scope, version) or (keyId, version) already exists.
   */
  insert(key: NewStoredKey): Promise<StoredKey>;
  /**
   * In one transaction: marks the current active version of (kind, scope) `retired` and
   * inserts `next` (which must be that version + 1) as `active`.
   * @throws KeyConflictError when another writer rotated first.
   */
  rotate(next: NewStoredKey): Promise<StoredKey>;
  /**
   * Optional: inserts `next` (the active version + 1) as `pending`, leaving the active version
   * as it is: every process that reads the live versions matches it, none writes it. Used for
   * the index root key and scope keys, so that a version is matched everywhere (after every
   * process's `indexVersionsTtlMs`) before anyone writes it ({@link KeyStore.promote}). Without
   * it, `KeyHierarchy.publishIndexKey` and `publishScope` are refused with `ConfigError`. Against
   * a {@link KeyStore.destroy} of (kind, scope) at the same time it must, as `rotate` does, either
   * fail or leave its version for the destroy to erase: never a pending version, key and all,
   * outliving the destroy (`PrismaKeyStore` locks the active version before it checks it).
   * @throws KeyConflictError when `next.version` exists (a version already pending, or another
   *   writer rotated) or is not the active version + 1.
   */
  addPending?(next: NewStoredKey): Promise<StoredKey>;
  /**
   * Optional (with {@link KeyStore.addPending}): in one transaction, marks the active version
   * `version - 1` of (kind, scope) `retired` and the pending `version` `active`.
   * @throws KeyConflictError when `version` is not pending or `version - 1` not active (another
   *   writer promoted or rotated first); nothing changed.
   */
  promote?(kind: KeyKind, scope: string, version: number): Promise<StoredKey>;
  /**
   * Marks every version of (kind, scope) `destroyed` and erases its wrapped key material.
   * @returns the number of versions destroyed.
   */
  destroy(kind: KeyKind, scope: string): Promise<number>;
  /**
   * Replaces the wrapped material of one version if it still equals `expectedWrappedKey`
   * (compare-and-swap, for `keys rewrap`). @returns whether it was replaced.
   */
  replaceWrapped(
    keyId: string,
    version: number,
    expectedWrappedKey: string,
    wrappedKey: string,
    keyringId: string,
  ): Promise<boolean>;
}
