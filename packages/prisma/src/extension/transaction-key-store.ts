/**
 * The default key store, made safe inside interactive transactions. A key lookup issued
 * while the caller's transaction holds the connection must not wait for another connection:
 * on a single-connection driver (PGlite) it would wait for the transaction, which waits for
 * the lookup, forever. So while an interactive transaction of the extended client runs,
 * key-store reads go through that transaction.
 *
 * A transaction whose reads see a snapshot (`REPEATABLE READ`, MySQL's default, or
 * `SERIALIZABLE`) does not see a key committed after its first read: one this process just
 * created (below), or one a concurrent writer created first. A read there that finds nothing
 * (no active key, no such version, no key of the scope) is asked again of the base store on a
 * driver with other connections: keys are committed at once, and the loser of a race to create
 * a scope's first key must find the winner's. In a `SERIALIZABLE` transaction key-store reads
 * do not join it there at all: on MySQL such a read locks the key rows it read, or the gap where
 * a scope's missing key would go, and the key's creation on the other connection would wait for
 * the caller's transaction until it timed out. Nor do they after this process wrote the key
 * store during the transaction (created, rotated or destroyed a key): its snapshot then no
 * longer says what the key store holds, and a scope destroyed there would be read back as live
 * and its key cached again.
 *
 * Key creation does not join the caller's transaction: a key created there would vanish on
 * rollback while this process keeps it cached, and values written with it later would be
 * lost. It runs on the base client (its own connection, committed at once). On a
 * single-connection driver that is impossible inside a transaction, so it fails with a
 * `ConfigError` telling the caller to prepare the scope first (`prisma.$hushfield.prepare`),
 * with one exception: the scope of a row created in the transaction whose id, its scope
 * (`scope: id`), was generated on the client for it. No other writer can know that scope
 * before the transaction commits, so its key is written inside the transaction, and commits or
 * rolls back with the row; on a rollback the extension drops its caches, so that nothing is
 * sealed under the vanished key again.
 *
 * Inside a transaction as outside, key-store queries skip the application's query extensions
 * (a tenant filter on `$allModels` would add a field the key-store model lacks): they go to
 * the transaction client of the root PrismaClient, bound to the caller's transaction
 * (unextended-client.ts). Only when Prisma offers no way there do they go through the caller's
 * transaction client, query extensions included.
 */
import {
  ConfigError,
  type KeyFilter,
  type KeyKind,
  type KeyStore,
  type KeyVersionRef,
  type NewStoredKey,
  type StoredKey,
} from '@hushfield/core';
import { PrismaKeyStore } from '../key-store/prisma-key-store';
import { type AnyClient, anyTransaction, sideQuery, type TransactionScope } from './transaction-context';
import { unextendedClient, unextendedTransaction } from './unextended-client';

/** The isolation levels whose reads see a snapshot taken at the transaction's first read. */
const SNAPSHOT_LEVELS: ReadonlySet<string> = new Set(['RepeatableRead', 'Snapshot', 'Serializable']);

/** What a key-store write refused inside a transaction on one connection was. */
type KeyWrite = 'create' | 'rotate' | 'publish' | 'promote' | 'destroy' | 'rewrap';

const message = (write: KeyWrite, scope: string) =>
  write === 'create'
    ? `cannot create a key for scope "${scope}" inside an interactive transaction on a single-connection ` +
      'database driver; call `await prisma.$hushfield.prepare([scope])` before the transaction'
    : `cannot ${write} ${write === 'rewrap' ? 'keys' : `the key of scope "${scope}"`} inside an interactive ` +
      'transaction on a single-connection database driver (the key store is written on another connection); ' +
      'run it outside the transaction';

/**
 * The transaction client `tx` as a client whose own transactions (the key store's insert runs
 * one) are the caller's transaction: atomic already, and the only connection there is.
 */
function joined(tx: AnyClient): AnyClient {
  const run = (fn: (client: AnyClient) => Promise<unknown>) => fn(tx);
  return new Proxy(tx, { get: (target, name) => (name === '$transaction' ? run : target[name as string]) });
}

/**
 * The transaction client the key store queries inside `scope`: the root client's, bound to the
 * same transaction, when it can be reached; else the transaction client itself.
 */
function keyStoreClient(scope: TransactionScope): AnyClient {
  let client = plainClients.get(scope);
  if (client === undefined) {
    const depth = unextendedClient(scope.owner)?.depth;
    client = (depth === undefined ? undefined : unextendedTransaction(scope.tx, depth)) ?? scope.tx;
    plainClients.set(scope, client);
  }
  return client;
}

const plainClients = new WeakMap<TransactionScope, AnyClient>();

/** Routes reads through the current interactive transaction; writes through the base store. */
export class TransactionKeyStore implements KeyStore {
  /**
   * @param base - the store outside transactions, over the root PrismaClient (without the
   *   application's extensions) when it can be reached
   * @param owners - the clients (as the extension was applied to them) whose interactive
   *   transactions this store joins; the extension adds each client that shares the crypto
   * @param snapshotByDefault - whether a transaction opened without an isolation level reads a
   *   snapshot (MySQL's `REPEATABLE READ`, SQLite's `SERIALIZABLE`)
   * @param serves - whether the crypto whose extension opened a transaction
   *   ({@link TransactionScope.crypto}) is the one this store serves: another `fieldEncryption`
   *   applied to the same base client opens transactions with the same owner, and its key
   *   lookups must not see them
   */
  constructor(
    private readonly base: PrismaKeyStore,
    private readonly owners: Set<AnyClient>,
    private readonly model: string,
    private readonly singleConnection: boolean,
    private readonly snapshotByDefault: boolean,
    private readonly serves: (crypto: object) => boolean,
  ) {}

  /** The transactions during which this process wrote the key store (see {@link read}). */
  private readonly written = new WeakSet<TransactionScope>();

  async getActive(kind: KeyKind, scope: string): Promise<StoredKey | null> {
    const found = await this.read((store) => store.getActive(kind, scope));
    return found === null && this.beyondSnapshot() ? this.base.getActive(kind, scope) : found;
  }

  async getVersion(keyId: string, version: number): Promise<StoredKey | null> {
    const found = await this.read((store) => store.getVersion(keyId, version));
    return found === null && this.beyondSnapshot() ? this.base.getVersion(keyId, version) : found;
  }

  // A key these leave out is asked for again with getActive or getVersion (below).
  getActives(kind: KeyKind, scopes: readonly string[]): Promise<StoredKey[]> {
    return this.read((store) => store.getActives(kind, scopes));
  }

  getVersions(refs: readonly KeyVersionRef[]): Promise<StoredKey[]> {
    return this.read((store) => store.getVersions(refs));
  }

  async list(filter?: KeyFilter): Promise<StoredKey[]> {
    const found = await this.read((store) => store.list(filter));
    return found.length === 0 && this.beyondSnapshot() ? this.base.list(filter) : found;
  }

  insert(key: NewStoredKey): Promise<StoredKey> {
    const transaction = this.transaction();
    if (
      transaction !== undefined &&
      this.singleConnection &&
      key.kind === 'scope' &&
      transaction.generatedScopes.has(key.scope)
    ) {
      // The scope of a row being created with an id generated for it: the key is written with
      // the row, on the one connection, and rolls back with it (see the top of this file).
      transaction.createdKeys = true;
      return sideQuery(transaction.owner, () =>
        new PrismaKeyStore(joined(keyStoreClient(transaction)), { model: this.model }).insert(key),
      );
    }
    this.beforeWrite('create', key.scope);
    return this.base.insert(key);
  }

  rotate(next: NewStoredKey): Promise<StoredKey> {
    this.beforeWrite('rotate', next.scope);
    return this.base.rotate(next);
  }

  addPending(next: NewStoredKey): Promise<StoredKey> {
    this.beforeWrite('publish', next.scope);
    return this.base.addPending(next);
  }

  promote(kind: KeyKind, scope: string, version: number): Promise<StoredKey> {
    this.beforeWrite('promote', scope);
    return this.base.promote(kind, scope, version);
  }

  destroy(kind: KeyKind, scope: string): Promise<number> {
    this.beforeWrite('destroy', scope);
    return this.base.destroy(kind, scope);
  }

  replaceWrapped(
    keyId: string,
    version: number,
    expected: string,
    wrapped: string,
    keyringId: string,
  ): Promise<boolean> {
    this.beforeWrite('rewrap', '*');
    return this.base.replaceWrapped(keyId, version, expected, wrapped, keyringId);
  }

  /**
   * The caller's transaction, when reads made now join it and see its snapshot (`REPEATABLE
   * READ`, `SERIALIZABLE`, or the database's default when that is one): the key hierarchy then
   * caches nothing they answer for the process (a version added since would stay unseen
   * outside the transaction).
   */
  currentSnapshot(): object | undefined {
    const scope = this.joined();
    if (scope === undefined) return undefined;
    const level = scope.isolationLevel;
    return (level === undefined ? this.snapshotByDefault : SNAPSHOT_LEVELS.has(level)) ? scope : undefined;
  }

  private read<T>(fn: (store: PrismaKeyStore) => Promise<T>): Promise<T> {
    const scope = this.joined();
    if (scope === undefined) return fn(this.base);
    return sideQuery(scope.owner, () => fn(new PrismaKeyStore(keyStoreClient(scope), { model: this.model })));
  }

  /** The current transaction, when key-store reads join it (see the top of this file). */
  private joined(): TransactionScope | undefined {
    const scope = this.transaction();
    if (
      scope === undefined ||
      (!this.singleConnection && (scope.isolationLevel === 'Serializable' || this.written.has(scope)))
    ) {
      return undefined;
    }
    return scope;
  }

  /**
   * The current interactive transaction, when one of the clients this store serves opened it: a
   * `crypto` shared between clients (option `crypto`) reads its keys through this one store, and
   * on a single-connection driver a read outside the caller's transaction would wait for it.
   */
  private transaction(): TransactionScope | undefined {
    const scope = anyTransaction();
    return scope !== undefined && this.owners.has(scope.owner) && this.serves(scope.crypto) ? scope : undefined;
  }

  /**
   * Whether a read that found nothing in the current transaction is asked again outside it: on a
   * driver with other connections, inside a transaction this store joins (whose snapshot may
   * predate the key).
   */
  private beyondSnapshot(): boolean {
    return !this.singleConnection && this.transaction() !== undefined;
  }

  /** Refuses a key-store write inside a transaction on one connection; notes one on several. */
  private beforeWrite(write: KeyWrite, scope: string): void {
    const transaction = this.transaction();
    if (transaction === undefined) return;
    if (this.singleConnection) throw new ConfigError(message(write, scope));
    this.written.add(transaction);
  }

  /** Prints no client internals. */
  toJSON(): string {
    return 'TransactionKeyStore';
  }
}
