/**
 * `PrismaKeyStore`: the core {@link KeyStore} contract on a model in the application's own
 * database (`HushfieldKey`, table `hushfield_keys`; see docs/key-store.md). It holds wrapped
 * keys only. Races between processes are settled by the database: the unique constraints on
 * (kind, scope, version) and (keyId, version) refuse a second copy of a key version, and
 * state changes are conditional `updateMany`s that report whether they won.
 */
import { inspect } from 'node:util';
import {
  checkOptionsObject,
  ConfigError,
  InvalidArgumentError,
  KeyConflictError,
  type KeyFilter,
  KeyStoreError,
  type KeyKind,
  type KeyState,
  type KeyStore,
  type KeyVersionRef,
  type NewStoredKey,
  type StoredKey,
} from '@hushfield/core';
import { messages } from './messages';
import { nulRefusal } from '../text-nul';
import {
  isExpiredTransaction,
  isUniqueViolation,
  isUnstartedTransaction,
  isWriteConflict,
  tooLongColumn,
} from './prisma-errors';

/** Options of {@link PrismaKeyStore}. */
export interface PrismaKeyStoreOptions {
  /** Prisma model name of the key store; default `HushfieldKey`. */
  readonly model?: string;
  /**
   * How long one of the store's transactions may wait to start (for a connection of the
   * client's pool), in milliseconds; default 10,000, where Prisma's own default is 2,000. Keys
   * are created with an application's first writes to new scopes, when its pool is busiest, and
   * a key that could not be stored fails the write that needed it.
   */
  readonly maxWaitMs?: number;
  /**
   * How long one of the store's transactions may run once started (waiting for a lock another
   * connection holds on the key table included), in milliseconds; default 5,000 (Prisma's).
   */
  readonly timeoutMs?: number;
}

/** A key-store row as Prisma returns it. */
interface KeyRow {
  keyId: string;
  kind: string;
  scope: string;
  version: number;
  state: string;
  wrappedKey: string | null;
  keyringId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The model delegate methods the store uses (`prisma.hushfieldKey`). */
interface KeyDelegate {
  findFirst(args: object): Promise<KeyRow | null>;
  findMany(args: object): Promise<KeyRow[]>;
  create(args: object): Promise<KeyRow>;
  updateMany(args: object): Promise<{ count: number }>;
}

/** Options of an interactive transaction, as Prisma's `$transaction` takes them. */
interface TransactionOptions {
  readonly isolationLevel?: string;
  readonly maxWait: number;
  readonly timeout: number;
}

interface ClientLike {
  $transaction<T>(fn: (tx: unknown) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

const SELECT = {
  keyId: true,
  kind: true,
  scope: true,
  version: true,
  state: true,
  wrappedKey: true,
  keyringId: true,
  createdAt: true,
  updatedAt: true,
} as const;
const KINDS: readonly KeyKind[] = ['index', 'scope'];
const STATES: readonly KeyState[] = ['active', 'pending', 'retired', 'destroyed'];
const MAX_VERSION = 2 ** 31 - 1;
/**
 * The text columns of a new key that a column too short can refuse, by their default database
 * names and their field names (a schema may map them otherwise: then the error names `key`).
 */
const TEXT_COLUMNS: Readonly<Record<string, 'keyId' | 'scope' | 'wrappedKey' | 'keyringId'>> = {
  key_id: 'keyId',
  keyId: 'keyId',
  scope: 'scope',
  wrapped_key: 'wrappedKey',
  wrappedKey: 'wrappedKey',
  keyring_id: 'keyringId',
  keyringId: 'keyringId',
};
/**
 * `UPDATE`s one {@link PrismaKeyStore.destroy} sends at most: each one after the first destroys
 * only versions a rotation committed while the one before waited, and such a rotation retires a
 * version the destroy holds, which it cannot (two passes, in practice).
 */
const DESTROY_PASSES = 10;
/** Runs of {@link PrismaKeyStore.destroy}'s transaction lost to a deadlock or write conflict, the first included. */
const DESTROY_ATTEMPTS = 5;
/** Key versions one {@link PrismaKeyStore.getVersions} query asks for, or scopes one `getActives` query does. */
const KEYS_PER_QUERY = 100;
/** Default of {@link PrismaKeyStoreOptions.maxWaitMs}. */
const MAX_WAIT_MS = 10_000;
/** Default of {@link PrismaKeyStoreOptions.timeoutMs}: Prisma's own. */
const TIMEOUT_MS = 5_000;

function needs(condition: boolean, argument: string, requirement: string): void {
  if (!condition) throw new InvalidArgumentError(messages.invalidArgument(argument, requirement), argument);
}

function checkNewKey(key: NewStoredKey): void {
  needs(typeof key === 'object' && key !== null, 'key', 'must be an object');
  needs(typeof key.keyId === 'string' && key.keyId.length > 0, 'key.keyId', 'must be a non-empty string');
  needs(KINDS.includes(key.kind), 'key.kind', "must be 'scope' or 'index'");
  needs(typeof key.scope === 'string' && key.scope.length > 0, 'key.scope', 'must be a non-empty string');
  needs(
    Number.isSafeInteger(key.version) && key.version >= 1 && key.version <= MAX_VERSION,
    'key.version',
    `must be an integer from 1 to ${MAX_VERSION}`,
  );
  needs(
    typeof key.wrappedKey === 'string' && key.wrappedKey.length > 0,
    'key.wrappedKey',
    'must be a non-empty string',
  );
  needs(typeof key.keyringId === 'string' && key.keyringId.length > 0, 'key.keyringId', 'must be a non-empty string');
}

/** `value` of the option `argument`, or `fallback` when not given. */
function milliseconds(value: unknown, fallback: number, argument: string): number {
  if (value === undefined) return fallback;
  needs(
    typeof value === 'number' && Number.isSafeInteger(value) && value > 0,
    argument,
    'must be a positive whole number of milliseconds',
  );
  return value as number;
}

/** Code-point order of scopes, the same in every database collation. */
function compareKeys(a: StoredKey, b: StoredKey): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.scope !== b.scope) return a.scope < b.scope ? -1 : 1;
  return a.version - b.version;
}

/** A key store on a Prisma model. Give it the base client, not one extended by hushfield. */
export class PrismaKeyStore implements KeyStore {
  readonly #client: ClientLike;
  readonly #model: string;
  readonly #delegateName: string;
  readonly #transaction: TransactionOptions;

  /**
   * @param client a base (unextended) PrismaClient whose schema has the key-store model.
   * @param options `model`: the key-store model's name, default `HushfieldKey`; `maxWaitMs` and
   *   `timeoutMs`: how long the store's transactions may wait to start and run.
   * @throws ConfigError when the client has no such model.
   * @throws InvalidArgumentError when `options` is not an object, `options.model` not a model
   *   name, or `options.maxWaitMs` or `options.timeoutMs` not a positive integer.
   * @example const keyStore = new PrismaKeyStore(prisma);
   */
  constructor(client: unknown, options: PrismaKeyStoreOptions = {}) {
    checkOptionsObject(options, 'PrismaKeyStore');
    const model = options.model ?? 'HushfieldKey';
    needs(typeof model === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(model), 'options.model', 'must be a model name');
    this.#model = model;
    this.#delegateName = model[0].toLowerCase() + model.slice(1);
    this.#transaction = {
      maxWait: milliseconds(options.maxWaitMs, MAX_WAIT_MS, 'options.maxWaitMs'),
      timeout: milliseconds(options.timeoutMs, TIMEOUT_MS, 'options.timeoutMs'),
    };
    const delegate = (client as Record<string, unknown> | null)?.[this.#delegateName] as
      Partial<KeyDelegate> | undefined;
    if (
      typeof (client as Partial<ClientLike> | null)?.$transaction !== 'function' ||
      typeof delegate?.updateMany !== 'function'
    ) {
      throw new ConfigError(messages.noModel(model));
    }
    this.#client = client as ClientLike;
  }

  /** The active version of (kind, scope), or `null`. */
  async getActive(kind: KeyKind, scope: string): Promise<StoredKey | null> {
    this.#checkScope(scope, 'scope');
    const row = await this.#keys().findFirst({
      where: { kind, scope, state: 'active' },
      orderBy: { version: 'desc' },
      select: SELECT,
    });
    return row === null ? null : this.#toStored(row);
  }

  /** One version by key id, or `null`. */
  async getVersion(keyId: string, version: number): Promise<StoredKey | null> {
    if (!Number.isSafeInteger(version) || version < 1 || version > MAX_VERSION) return null;
    const row = await this.#keys().findFirst({ where: { keyId, version }, select: SELECT });
    return row === null ? null : this.#toStored(row);
  }

  /**
   * The active versions of several scopes of `kind`, in queries of up to 100 scopes, in any
   * order; scopes without one are left out.
   */
  async getActives(kind: KeyKind, scopes: readonly string[]): Promise<StoredKey[]> {
    needs(KINDS.includes(kind), 'kind', "must be 'scope' or 'index'");
    const asked = [...new Set(scopes.filter((scope) => typeof scope === 'string' && scope.length > 0))];
    for (const scope of asked) this.#checkScope(scope, 'scopes');
    const found: StoredKey[] = [];
    for (let i = 0; i < asked.length; i += KEYS_PER_QUERY) {
      const where = { kind, state: 'active', scope: { in: asked.slice(i, i + KEYS_PER_QUERY) } };
      const rows = await this.#keys().findMany({ where, select: SELECT });
      for (const row of rows) found.push(this.#toStored(row));
    }
    return found;
  }

  /**
   * Several versions by key id, in queries of up to 100, in any order; those not found (or not
   * valid versions) are left out.
   */
  async getVersions(refs: readonly KeyVersionRef[]): Promise<StoredKey[]> {
    const valid = refs.filter(
      ({ keyId, version }) =>
        typeof keyId === 'string' && Number.isSafeInteger(version) && version >= 1 && version <= MAX_VERSION,
    );
    const found: StoredKey[] = [];
    for (let i = 0; i < valid.length; i += KEYS_PER_QUERY) {
      const or = valid.slice(i, i + KEYS_PER_QUERY).map(({ keyId, version }) => ({ keyId, version }));
      const rows = await this.#keys().findMany({ where: { OR: or }, select: SELECT });
      for (const row of rows) found.push(this.#toStored(row));
    }
    return found;
  }

  /** All versions matching `filter`, ordered by kind, scope (code points), version. */
  async list(filter: KeyFilter = {}): Promise<StoredKey[]> {
    this.#checkScope(filter.scope, 'filter.scope');
    const where = { kind: filter.kind, scope: filter.scope, state: filter.state };
    const rows = await this.#keys().findMany({ where, select: SELECT });
    return rows.map((row) => this.#toStored(row)).sort(compareKeys);
  }

  /**
   * Inserts `key` as the active version of its (kind, scope).
   * @throws KeyConflictError when that version or key-id version exists, or (kind, scope)
   *   already has an active version; KeyStoreError when the store's own transaction timed out
   *   (nothing stored).
   */
  async insert(key: NewStoredKey): Promise<StoredKey> {
    checkNewKey(key);
    this.#checkScope(key.scope, 'key.scope');
    return this.#conflictsAsKeyConflict(key, 'insert', () =>
      this.#inTransaction(async (tx) => {
        const keys = this.#keys(tx);
        // Written before it reads: on SQLite with a rollback journal, transactions that read and
        // then write deadlock each other (each one's read lock keeps the other from committing).
        const created = this.#created(key, 'insert', await keys.create({ data: this.#row(key), select: SELECT }));
        const active = await keys.findFirst({
          where: { kind: key.kind, scope: key.scope, state: 'active', NOT: { version: key.version } },
          select: { version: true },
        });
        if (active !== null) throw new KeyConflictError(messages.alreadyActive(key.kind, key.scope));
        return created;
      }),
    );
  }

  /**
   * In one transaction: retires the active version `next.version - 1` and inserts `next`.
   * @throws KeyConflictError when that version is not the active one (another writer rotated
   *   first) or `next` already exists; KeyStoreError when the store's own transaction timed out
   *   (nothing stored).
   */
  async rotate(next: NewStoredKey): Promise<StoredKey> {
    checkNewKey(next);
    this.#checkScope(next.scope, 'next.scope');
    needs(next.version >= 2, 'next.version', 'must be at least 2 (rotation follows version 1)');
    return this.#conflictsAsKeyConflict(next, 'rotate', () =>
      this.#inTransaction(async (tx) => {
        const keys = this.#keys(tx);
        const retired = await keys.updateMany({
          where: { kind: next.kind, scope: next.scope, version: next.version - 1, state: 'active' },
          data: { state: 'retired', updatedAt: new Date() },
        });
        if (retired.count !== 1) {
          throw new KeyConflictError(messages.rotateLost(next.kind, next.scope, next.version));
        }
        return this.#created(next, 'rotate', await keys.create({ data: this.#row(next), select: SELECT }));
      }),
    );
  }

  /**
   * In one transaction: inserts `next` as `pending`, after the active version `next.version - 1`,
   * which stays active (see core's `KeyStore.addPending`).
   * @throws KeyConflictError when `next` already exists (a version already pending, or another
   *   writer rotated) or `next.version - 1` is not the active version; KeyStoreError when the
   *   store's own transaction timed out (nothing stored).
   */
  async addPending(next: NewStoredKey): Promise<StoredKey> {
    checkNewKey(next);
    this.#checkScope(next.scope, 'next.scope');
    needs(next.version >= 2, 'next.version', 'must be at least 2 (a pending version follows an active one)');
    return this.#conflictsAsKeyConflict(next, 'publish', () =>
      this.#inTransaction(async (tx) => {
        const keys = this.#keys(tx);
        const where = { kind: next.kind, scope: next.scope, state: 'active', version: next.version - 1 };
        // Written before it reads, as insert is (SQLite's rollback journal). The active version
        // is locked first, as rotate's retiring it does: a shred (or rotation) holding it is
        // waited for, and then nothing is active; one coming after waits for this commit, and a
        // shred then destroys the pending version too. Inserting first and only reading the
        // active version would answer from before a shred not yet committed, whose last pass did
        // not see the insert: the pending key would outlive it.
        await keys.updateMany({ where, data: { state: 'active' } });
        const created = this.#created(
          next,
          'publish',
          await keys.create({ data: this.#row(next, 'pending'), select: SELECT }),
        );
        const active = await keys.findFirst({ where, select: { version: true } });
        if (active === null) throw new KeyConflictError(messages.rotateLost(next.kind, next.scope, next.version));
        return created;
      }),
    );
  }

  /**
   * In one transaction: retires the active version `version - 1` of (kind, scope) and makes the
   * pending `version` active (see core's `KeyStore.promote`).
   * @throws KeyConflictError when `version` is not pending or `version - 1` not active (another
   *   writer promoted or rotated first): nothing changed.
   */
  async promote(kind: KeyKind, scope: string, version: number): Promise<StoredKey> {
    needs(KINDS.includes(kind), 'kind', "must be 'scope' or 'index'");
    this.#checkScope(scope, 'scope');
    needs(
      Number.isSafeInteger(version) && version >= 2 && version <= MAX_VERSION,
      'version',
      `must be an integer from 2 to ${MAX_VERSION}`,
    );
    // Named as a missing key is (the key id is read inside the transaction).
    const slot = { keyId: `${kind}:${scope}`, kind, scope, version };
    return this.#conflictsAsKeyConflict(slot, 'promote', () =>
      this.#inTransaction(async (tx) => {
        const keys = this.#keys(tx);
        const now = new Date();
        const retired = await keys.updateMany({
          where: { kind, scope, version: version - 1, state: 'active' },
          data: { state: 'retired', updatedAt: now },
        });
        const promoted = await keys.updateMany({
          where: { kind, scope, version, state: 'pending' },
          data: { state: 'active', updatedAt: now },
        });
        if (retired.count !== 1 || promoted.count !== 1) {
          throw new KeyConflictError(messages.promoteLost(kind, scope, version));
        }
        const row = await keys.findFirst({ where: { kind, scope, version, state: 'active' }, select: SELECT });
        if (row === null || row.kind !== kind || row.scope !== scope) {
          throw new KeyConflictError(messages.promoteLost(kind, scope, version));
        }
        return this.#toStored(row);
      }),
    );
  }

  /**
   * Marks every version of (kind, scope) destroyed and erases its wrapped key, in one transaction
   * (on PostgreSQL at read committed, whatever the database's default). A rotation of the scope
   * in progress is waited for, and the version it adds is destroyed too: the `UPDATE` is sent
   * again until one finds nothing left (PostgreSQL's waited for the retired version, but its
   * snapshot, taken before the wait, did not hold the new one; at `repeatable read` or
   * `serializable` it failed with a serialization error instead).
   * @returns how many versions it destroyed
   */
  async destroy(kind: KeyKind, scope: string): Promise<number> {
    this.#checkScope(scope, 'scope');
    const where = { kind, scope, OR: [{ state: { not: 'destroyed' } }, { wrappedKey: { not: null } }] };
    const destroy = () =>
      this.#inTransaction(async (tx) => {
        let destroyed = 0;
        for (let pass = 1; ; pass++) {
          const { count } = await this.#keys(tx).updateMany({
            where,
            data: { state: 'destroyed', wrappedKey: null, updatedAt: new Date() },
          });
          destroyed += count;
          // Each pass holds what it destroyed: a rotation must retire one of those, and cannot.
          if (count === 0 || pass >= DESTROY_PASSES) return destroyed;
        }
      }, this.#readCommitted());
    // A deadlock with a bulk write locking the same key rows (in another order) rolled the whole
    // transaction back: it is run again, a few times, before the error is thrown.
    for (let attempt = 1; ; attempt++) {
      try {
        return await destroy();
      } catch (error) {
        if (attempt >= DESTROY_ATTEMPTS || !isWriteConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  /** Compare-and-swap of one live version's wrapped key. @returns whether it was replaced. */
  async replaceWrapped(
    keyId: string,
    version: number,
    expectedWrappedKey: string,
    wrappedKey: string,
    keyringId: string,
  ): Promise<boolean> {
    needs(typeof wrappedKey === 'string' && wrappedKey.length > 0, 'wrappedKey', 'must be a non-empty string');
    needs(typeof keyringId === 'string' && keyringId.length > 0, 'keyringId', 'must be a non-empty string');
    if (typeof expectedWrappedKey !== 'string' || expectedWrappedKey.length === 0) return false;
    const result = await this.#keys().updateMany({
      where: { keyId, version, wrappedKey: expectedWrappedKey, state: { not: 'destroyed' } },
      data: { wrappedKey, keyringId, updatedAt: new Date() },
    });
    return result.count === 1;
  }

  /**
   * @internal Whether this store queries `client` itself (and, given `model`, that key-store
   * model): the store the extension and the CLI would make by default, written out. The
   * extension applied to that client then routes its lookups through the client's interactive
   * transactions; the CLI's bulk runs keep their shred guard on it.
   */
  isOver(client: unknown, model?: string): boolean {
    return this.#client === client && (model === undefined || this.#model === model);
  }

  /** @internal The key-store model's name. */
  get model(): string {
    return this.#model;
  }

  /**
   * @internal The {@link PrismaKeyStoreOptions.maxWaitMs} and `timeoutMs` this store's
   * transactions run under: the extension makes its default store over the root client with them.
   */
  get limits(): { readonly maxWaitMs: number; readonly timeoutMs: number } {
    return { maxWaitMs: this.#transaction.maxWait, timeoutMs: this.#transaction.timeout };
  }

  /** Names the model only. */
  toJSON(): object {
    return { model: this.#model };
  }

  /** Names the model only, never the client or any row. */
  [inspect.custom](): string {
    return `PrismaKeyStore { model: '${this.#model}' }`;
  }

  /**
   * Refuses a scope holding U+0000 where the database cannot store it in text (PostgreSQL,
   * CockroachDB: the query fails with the database's own error, 22021) or the driver cuts text
   * at it (libSQL: the key would be stored under another scope, which the check of what came
   * back refuses only after the write was sent). MySQL, MariaDB and SQLite through better-sqlite3
   * store it like any character.
   * @throws InvalidArgumentError naming `argument` (never the scope)
   */
  #checkScope(scope: unknown, argument: string): void {
    if (typeof scope !== 'string' || !scope.includes('\u0000')) return;
    const why = nulRefusal(this.#client);
    if (why !== undefined) needs(false, argument, messages.nulInScope(why));
  }

  /**
   * Options of the store's transaction that must see what the transactions it waited for
   * committed: read committed on PostgreSQL, whose `repeatable read` and `serializable` answer
   * from a snapshot taken before the wait. Nothing elsewhere: an `UPDATE` on MySQL/MariaDB reads
   * the latest committed rows at any level (and read committed would need a row-based binary
   * log there), SQLite has one writer.
   */
  #readCommitted(): { isolationLevel: string } | undefined {
    const client = this.#client as { _activeProvider?: unknown; _engineConfig?: { activeProvider?: unknown } };
    const provider = client._activeProvider ?? client._engineConfig?.activeProvider;
    return provider === 'postgresql' || provider === 'postgres' ? { isolationLevel: 'ReadCommitted' } : undefined;
  }

  /** Runs `fn` in one of the client's interactive transactions, with the store's wait and run limits. */
  #inTransaction<T>(fn: (tx: unknown) => Promise<T>, isolation?: { isolationLevel: string }): Promise<T> {
    return this.#client.$transaction(fn, { ...this.#transaction, ...isolation });
  }

  #keys(tx: unknown = this.#client): KeyDelegate {
    return (tx as Record<string, KeyDelegate>)[this.#delegateName];
  }

  #row(key: NewStoredKey, state: 'active' | 'pending' = 'active'): object {
    return {
      keyId: key.keyId,
      kind: key.kind,
      scope: key.scope,
      version: key.version,
      state,
      wrappedKey: key.wrappedKey,
      keyringId: key.keyringId,
    };
  }

  /**
   * `row`, the key just created from `key` as the database returned it.
   * @throws InvalidArgumentError when it holds any of `key`'s texts otherwise than given: MySQL
   *   without a strict `sql_mode` cuts a value longer than its column (a scope cut so would name
   *   another scope's key). Thrown inside the write's transaction, so nothing is stored.
   */
  #asGiven(key: NewStoredKey, row: KeyRow): KeyRow {
    for (const property of ['keyId', 'scope', 'wrappedKey', 'keyringId'] as const) {
      if (row[property] === key[property]) continue;
      const argument = `key.${property}`;
      throw new InvalidArgumentError(
        messages.storedOtherwise(this.#model, argument, [...key[property]].length),
        argument,
      );
    }
    return row;
  }

  async #conflictsAsKeyConflict(
    key: Pick<NewStoredKey, 'keyId' | 'kind' | 'scope' | 'version'> & Partial<NewStoredKey>,
    operation: 'insert' | 'rotate' | 'publish' | 'promote',
    write: () => Promise<StoredKey>,
  ): Promise<StoredKey> {
    try {
      return await write();
    } catch (error) {
      if (isExpiredTransaction(error)) {
        const message = isUnstartedTransaction(error)
          ? messages.notStarted(operation, key.kind, key.scope, key.version, this.#transaction.maxWait)
          : messages.expired(operation, key.kind, key.scope, key.version, this.#transaction.timeout);
        throw new KeyStoreError(message, key, {}, { cause: error });
      }
      if (isUniqueViolation(error)) {
        throw new KeyConflictError(messages.versionExists(operation, key.kind, key.scope, key.version), {
          cause: error,
        });
      }
      // Lost to another transaction, which may have written that version or anything else.
      if (isWriteConflict(error)) {
        throw new KeyConflictError(messages.writeConflict(operation, key.kind, key.scope, key.version), {
          cause: error,
        });
      }
      const column = tooLongColumn(error);
      if (column !== undefined) {
        const property = TEXT_COLUMNS[column];
        const argument = property === undefined ? 'key' : `key.${property}`;
        const length = property === undefined ? undefined : [...(key[property] ?? '')].length;
        throw new InvalidArgumentError(messages.tooLong(this.#model, argument, length), argument);
      }
      throw error;
    }
  }

  /**
   * The row `create` returned. On MySQL a create still waiting when its transaction timed out
   * returns `null` instead of failing: the transaction rolled back, nothing was stored.
   */
  #created(key: NewStoredKey, operation: 'insert' | 'rotate' | 'publish', row: KeyRow | null): StoredKey {
    if (row === null) {
      const message = messages.expired(operation, key.kind, key.scope, key.version, this.#transaction.timeout);
      throw new KeyStoreError(message, key);
    }
    return this.#toStored(this.#asGiven(key, row));
  }

  #toStored(row: KeyRow): StoredKey {
    if (!KINDS.includes(row.kind as KeyKind) || !STATES.includes(row.state as KeyState)) {
      throw new ConfigError(messages.badRow(this.#model, row.keyId, row.version));
    }
    return Object.freeze({
      keyId: row.keyId,
      kind: row.kind as KeyKind,
      scope: row.scope,
      version: row.version,
      state: row.state as KeyState,
      wrappedKey: row.wrappedKey,
      keyringId: row.keyringId,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    });
  }
}
