/**
 * Keeps a `keys shred` from slipping between a bulk batch's key check and its write: the CAS
 * writers call the {@link ShredGuard} inside the transaction that writes the batch, and it
 * reads the state of the scope-key versions the batch's values were read under with those
 * key-store rows locked until the write commits.
 *
 * A shred marks every version of a scope `destroyed` with one `UPDATE` of the key-store rows.
 * PostgreSQL (`FOR SHARE`) and MySQL/MariaDB (`LOCK IN SHARE MODE`): a shred that committed
 * before the lock is read, one in progress is waited for and then read, and one that starts
 * later waits for the batch to commit. That holds at read committed, at which the CAS writers
 * run their transactions whatever the database's default (`casTransactionOptions` in
 * `cas-writer.ts`). On MySQL/MariaDB a locking read sees the latest committed row at any level;
 * on PostgreSQL at `repeatable read` or `serializable` it does not: a row changed since the
 * transaction's snapshot fails the read with a serialization error (40001) instead.
 * SQLite: the transaction first writes (a no-op `UPDATE` of those rows), which takes the
 * database's only write lock, so a shred runs wholly before or wholly after the batch.
 *
 * Only for the default key store (a `PrismaKeyStore` on the CLI's own client): a key store the
 * configuration supplies may live elsewhere, and its keys are checked just before the write
 * instead (`ModelRun.dropShredded` in `migrator.ts`).
 */
import type { HushfieldSchema } from '@hushfield/prisma';
import type { BasePrismaClient } from './config';
import type { RowWrite, WriteOutcome } from './cas-writer';
import { qualifiedTable } from './table-name';

/** What the guard sends SQL through: the batch write's transaction. */
export interface SqlRunner {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** Checks, in a batch write's transaction, that the keys the batch read under still exist. */
export interface ShredGuard {
  /**
   * Locks the key-store rows of the scope-key versions `writes` were read under (their `keys`)
   * until `tx` ends, and returns the writes (by index in `writes`) under a destroyed version,
   * each with that version's scope. Call it before the transaction's first write.
   */
  destroyed(tx: SqlRunner, writes: readonly RowWrite[]): Promise<Map<number, string>>;
}

/** How each database locks the key rows it reads: a locking clause, or a write first (SQLite). */
type Dialect = 'postgresql' | 'mysql' | 'sqlite';

/**
 * The guard for the default key store on `client`'s database, or undefined when there is none
 * to lock (a key store supplied by the configuration, no key-store model in the schema, or a
 * database the CLI does not know).
 * @param configuredKeyStore - whether the configuration supplies its own key store
 */
export function createShredGuard(
  client: BasePrismaClient,
  schema: HushfieldSchema,
  configuredKeyStore: boolean,
): ShredGuard | undefined {
  if (configuredKeyStore) return undefined;
  const model = schema.models[schema.keyStoreModel];
  if (model === undefined) return undefined;
  const provider = (client as unknown as { _activeProvider?: string })._activeProvider ?? '';
  const dialect: Dialect | undefined =
    provider === 'postgresql' || provider === 'postgres'
      ? 'postgresql'
      : provider === 'mysql'
        ? 'mysql'
        : provider === 'sqlite'
          ? 'sqlite'
          : undefined;
  if (dialect === undefined) return undefined;
  const quote =
    dialect === 'mysql'
      ? (name: string) => `\`${name.replace(/`/g, '``')}\``
      : (name: string) => `"${name.replace(/"/g, '""')}"`;
  const column = (field: string) => quote(model.fields[field]?.dbName ?? field);
  return new KeyRowGuard(dialect, qualifiedTable(model, quote), {
    keyId: column('keyId'),
    version: column('version'),
    state: column('state'),
    scope: column('scope'),
  });
}

/** The guard on the key-store table of the CLI's database. */
class KeyRowGuard implements ShredGuard {
  constructor(
    private readonly dialect: Dialect,
    private readonly table: string,
    private readonly columns: { keyId: string; version: string; state: string; scope: string },
  ) {}

  async destroyed(tx: SqlRunner, writes: readonly RowWrite[]): Promise<Map<number, string>> {
    const refs = new Map<string, { keyId: string; version: number }>();
    for (const write of writes) for (const ref of write.keys ?? []) refs.set(refId(ref), ref);
    const found = new Map<number, string>();
    if (refs.size === 0) return found;
    // Sorted, so that two batches (or a batch and a shred) lock shared rows in one order.
    const sorted = [...refs.values()].sort((a, b) =>
      a.keyId === b.keyId ? a.version - b.version : a.keyId < b.keyId ? -1 : 1,
    );
    const { keyId, version, state, scope } = this.columns;
    const values: unknown[] = [];
    const place = (value: unknown) => {
      values.push(value);
      return this.dialect === 'postgresql' ? `$${values.length}` : '?';
    };
    const where = sorted.map((ref) => `(${keyId} = ${place(ref.keyId)} AND ${version} = ${place(ref.version)})`);
    const condition = where.join(' OR ');
    if (this.dialect === 'sqlite') {
      await tx.$executeRawUnsafe(`UPDATE ${this.table} SET ${state} = ${state} WHERE ${condition}`, ...values);
    }
    const lock = this.dialect === 'postgresql' ? ' FOR SHARE' : this.dialect === 'mysql' ? ' LOCK IN SHARE MODE' : '';
    const rows = await tx.$queryRawUnsafe<{ k: string; v: number | bigint; s: string; c: string }[]>(
      `SELECT ${keyId} AS k, ${version} AS v, ${state} AS s, ${scope} AS c FROM ${this.table} ` +
        `WHERE ${condition} ORDER BY ${keyId}, ${version}${lock}`,
      ...values,
    );
    const destroyed = new Map<string, string>();
    for (const row of rows) {
      const id = refId({ keyId: row.k, version: Number(row.v) });
      // A row another key id matched (a case-insensitive collation) is not the version asked for.
      if (row.s === 'destroyed' && refs.has(id)) destroyed.set(id, row.c);
    }
    if (destroyed.size === 0) return found;
    writes.forEach((write, i) => {
      const hit = write.keys?.find((ref) => destroyed.has(refId(ref)));
      if (hit !== undefined) found.set(i, destroyed.get(refId(hit)) as string);
    });
    return found;
  }
}

/** A key version as one string (`keyId:version`). */
export function refId(ref: { readonly keyId: string; readonly version: number }): string {
  return `${ref.keyId}:${ref.version}`;
}

/**
 * Runs `write` on the writes of `writes` whose keys `guard` finds live, in the caller's
 * transaction `tx`, and returns the outcome of every row that did not lose its race (by index
 * in `writes`): applied, or shredded. Without a guard, every row is written.
 * @param write - writes the rows it is given; returns the indexes (within them) of those it wrote
 */
export async function guardedWrite(
  tx: SqlRunner,
  guard: ShredGuard | undefined,
  writes: readonly RowWrite[],
  write: (kept: readonly RowWrite[]) => Promise<ReadonlySet<number>>,
): Promise<Map<number, WriteOutcome>> {
  const outcomes = new Map<number, WriteOutcome>();
  const shredded = guard === undefined ? new Map<number, string>() : await guard.destroyed(tx, writes);
  for (const [i, scope] of shredded) outcomes.set(i, { status: 'shredded', scope });
  const at: number[] = [];
  const kept = writes.filter((_, i) => {
    if (shredded.has(i)) return false;
    at.push(i);
    return true;
  });
  if (kept.length === 0) return outcomes;
  for (const i of await write(kept)) outcomes.set(at[i], { status: 'applied' });
  return outcomes;
}
