/**
 * Compare-and-swap writes of a batch of rows: a row is updated only if every stored value the
 * CLI read (encrypted fields, blind indexes, the scope field) is still what it read, so an
 * application write that landed in between is never overwritten; that row "lost the race"
 * and is re-read later. On PostgreSQL a whole batch is one `UPDATE ... FROM unnest(...)
 * RETURNING` statement; on MySQL/MariaDB one `UPDATE ... JOIN` (`cas-writer-mysql.ts`);
 * elsewhere (SQLite) one transaction of `updateMany` calls. If the batch fails
 * (a unique blind index collides, say), rows are written one by one to isolate the culprit.
 * Given a {@link ShredGuard}, each statement runs in a transaction that first checks, with
 * the key rows locked, that no key the rows were read under was shredded (`shred-guard.ts`).
 *
 * On PostgreSQL and MySQL/MariaDB every transaction of a writer runs at read committed, whatever
 * the database's or session's default ({@link casTransactionOptions}), and on PostgreSQL a batch
 * without a guard is one statement in such a transaction: an `UPDATE` that waited for a row an
 * application changed then finds the row changed (a lost race), where under `repeatable read`
 * or `serializable` it failed the whole batch with a serialization error (40001). A
 * transaction that still fails on a write conflict or deadlock (two writers locking rows in
 * different orders) is run again, a few times, before its rows are counted failed
 * ({@link retryConflicts}): it rolled back whole, so nothing of it was written.
 */
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import type { ModelMeta } from '@hushfield/prisma';
import type { KeyVersionRef } from '@hushfield/core';
import type { BasePrismaClient } from './config';
import { MysqlCasWriter } from './cas-writer-mysql';
import { guardedWrite } from './shred-guard';
import type { ShredGuard, SqlRunner } from './shred-guard';
import { qualifiedTable } from './table-name';
import { delegateOf, keyWhere } from './walker';
import { rowKeyOf } from './row-key';

/** One row's update: its key, what was read (the CAS condition), and what to write. */
export interface RowWrite {
  readonly key: readonly unknown[];
  /** Prisma field → value as read; every one must still match for the write to apply. */
  readonly expected: Readonly<Record<string, unknown>>;
  /** Prisma field → new value. */
  readonly data: Readonly<Record<string, unknown>>;
  /**
   * The scope-key versions the row's stored envelopes name (as the planner parsed them): a
   * writer with a {@link ShredGuard} does not write the row once one of them is destroyed.
   */
  readonly keys?: readonly KeyVersionRef[];
}

/**
 * Per-row outcome, in input order. `shredded`: not written, a key its values were read under
 * was destroyed (in `scope`) before the write.
 */
export type WriteOutcome =
  | { readonly status: 'applied' }
  | { readonly status: 'lost' }
  | { readonly status: 'shredded'; readonly scope: string }
  | { readonly status: 'error'; readonly error: unknown };

/** Writes batches of rows of one model with compare-and-swap. */
export interface CasWriter {
  write(writes: readonly RowWrite[]): Promise<WriteOutcome[]>;
  /** Whether the writer checks, in each write's transaction, that the rows' keys were not shredded. */
  readonly guardsShreds?: boolean;
}

/** Options of Prisma's `$transaction`. */
interface TransactionOptions {
  readonly timeout?: number;
  readonly maxWait?: number;
  readonly isolationLevel?: string;
}

interface RawClient extends SqlRunner {
  $transaction(queries: readonly Promise<unknown>[], options?: TransactionOptions): Promise<unknown[]>;
  $transaction<T>(work: (tx: RawClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  _activeProvider?: string;
}

/** How long a batch's transaction may wait for a connection and run (a shred it waits for is short). */
const TRANSACTION_OPTIONS = { timeout: 120_000, maxWait: 60_000 };

/** Runs of a transaction that failed on a write conflict or deadlock, the first included. */
const CONFLICT_ATTEMPTS = 5;

/**
 * The isolation of a CAS writer's transactions on `client`'s database: read committed on
 * PostgreSQL, whatever the default (`default_transaction_isolation`), so that a statement that
 * waited for a row sees the row as committed, and a lock the shred guard waited for is read as
 * the shred left it. Nothing elsewhere: on MySQL/MariaDB a locking read and an `UPDATE` read the
 * latest committed row at any level (test/cli/cas-isolation.test.ts passes there at the default
 * and `SERIALIZABLE`), and read committed would make a statement-based binary log refuse the
 * writes; SQLite's transactions are serializable, the writer's first statement takes its one
 * write lock.
 */
export function casTransactionOptions(client: unknown): { isolationLevel?: 'ReadCommitted' } {
  const provider = (client as { _activeProvider?: string } | null)?._activeProvider;
  return provider === 'postgresql' || provider === 'postgres' ? { isolationLevel: 'ReadCommitted' } : {};
}

/**
 * Whether `error` is a transaction lost to a concurrent one: a serialization failure or a
 * deadlock (PostgreSQL 40001, 40P01; MySQL/MariaDB 1213), which rolled the transaction back.
 * Prisma reports it as P2034, or (a raw statement) with the driver's error kind.
 */
export function isWriteConflict(error: unknown): boolean {
  const { code, meta } = (error ?? {}) as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
  };
  if (code === 'P2034') return true;
  const cause = meta?.driverAdapterError?.cause;
  return cause?.kind === 'TransactionWriteConflict' || ['40001', '40P01', '1213'].includes(String(cause?.originalCode));
}

/**
 * Runs `transaction` again (after a short random pause) while it fails on a write conflict or
 * deadlock ({@link isWriteConflict}), at most {@link CONFLICT_ATTEMPTS} times in all; any other
 * failure, or the last one, is thrown. Only for a transaction that rolls back whole on failure.
 */
export async function retryConflicts<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= CONFLICT_ATTEMPTS || !isWriteConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/** Rows per statement: bounds the size of one array parameter and of one failed statement's redo. */
const MAX_ROWS_PER_STATEMENT = 5_000;

/**
 * The fastest CAS writer the client's database supports.
 * @param guard - checks, in each write's transaction, that no key the rows were read under was shredded
 */
export async function createCasWriter(
  client: BasePrismaClient,
  model: ModelMeta,
  guard?: ShredGuard,
): Promise<CasWriter> {
  const raw = client as unknown as RawClient;
  const provider = raw._activeProvider ?? '';
  if ((provider === 'postgresql' || provider === 'postgres') && typeof raw.$queryRawUnsafe === 'function') {
    const { types, collations } = await columnCatalog(raw, model);
    if (types.size > 0) return new PostgresCasWriter(raw, model, types, collations, guard);
  }
  if (provider === 'mysql' && typeof raw.$queryRawUnsafe === 'function') {
    return new MysqlCasWriter(client as never, model, guard);
  }
  return new PrismaCasWriter(client, model, guard);
}

/**
 * One `updateMany` per row, all in one transaction (any Prisma database): a batch transaction,
 * or with a guard an interactive one that checks the rows' keys first.
 *
 * SQLite compares a Json column as text, with the JSON text Prisma makes of the value: a value
 * another tool wrote (`{"a": 1}`, spaced) never matched the value read, and its row was a lost
 * race on every pass. There each row's Json values are read again in the transaction, which
 * holds the database's write lock, and compared by value before its `updateMany`.
 */
export class PrismaCasWriter implements CasWriter {
  readonly guardsShreds: boolean;
  /** The model's Json fields, compared by value here rather than by Prisma (SQLite). */
  readonly #jsonByValue: ReadonlySet<string>;
  /** The fields a write's `key` holds (see `row-key.ts`). */
  private readonly key: readonly string[];

  constructor(
    private readonly client: BasePrismaClient,
    private readonly model: ModelMeta,
    private readonly guard?: ShredGuard,
  ) {
    this.guardsShreds = guard !== undefined;
    this.key = rowKeyOf(model);
    const sqlite = (client as unknown as RawClient)._activeProvider === 'sqlite';
    const json = Object.values(model.fields).filter((field) => field.type === 'Json' && !field.isList);
    this.#jsonByValue = new Set(sqlite ? json.map((field) => field.name) : []);
  }

  async write(writes: readonly RowWrite[]): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    const raw = this.client as unknown as RawClient;
    const options = { ...TRANSACTION_OPTIONS, ...casTransactionOptions(raw) };
    const update = (client: unknown, write: RowWrite) =>
      delegateOf(client as BasePrismaClient, this.model.name).updateMany({
        where: { ...keyWhere(this.key, write.key), ...this.conditions(write.expected) },
        data: { ...write.data },
      });
    const request = async (client: unknown, write: RowWrite) =>
      (await this.jsonUnchanged(client, write)) ? update(client, write) : { count: 0 };
    const { guard } = this;
    if (guard === undefined && writes.some((write) => this.jsonCompared(write).length > 0)) {
      // An interactive transaction that takes the write lock before it reads (as the guard does).
      const locked = (rows: readonly RowWrite[]) =>
        retryConflicts(() =>
          raw.$transaction(async (tx) => {
            await this.takeWriteLock(tx);
            const applied = new Set<number>();
            for (const [i, write] of rows.entries()) if ((await request(tx, write)).count === 1) applied.add(i);
            return applied;
          }, options),
        );
      try {
        const outcomes = await locked(writes);
        return writes.map((_, i) => (outcomes.has(i) ? { status: 'applied' } : { status: 'lost' }));
      } catch {
        return writeOneByOne(writes, async (write) =>
          (await locked([write])).has(0) ? { status: 'applied' } : { status: 'lost' },
        );
      }
    }
    if (guard !== undefined) {
      const guarded = (rows: readonly RowWrite[]) =>
        retryConflicts(() =>
          raw.$transaction(
            (tx) =>
              guardedWrite(tx, guard, rows, async (kept) => {
                const applied = new Set<number>();
                for (const [i, write] of kept.entries()) if ((await request(tx, write)).count === 1) applied.add(i);
                return applied;
              }),
            options,
          ),
        );
      try {
        const outcomes = await guarded(writes);
        return writes.map((_, i) => outcomes.get(i) ?? { status: 'lost' });
      } catch {
        return writeOneByOne(writes, async (write) => (await guarded([write])).get(0) ?? { status: 'lost' });
      }
    }
    // A batch transaction takes the isolation level, not the timeouts, of an interactive one.
    const { isolationLevel } = options;
    const batch = (rows: readonly RowWrite[]) =>
      retryConflicts(
        async () =>
          (await raw.$transaction(
            rows.map((write) => update(this.client, write)),
            isolationLevel === undefined ? undefined : { isolationLevel },
          )) as { count: number }[],
      );
    try {
      const results = await batch(writes);
      return results.map((result) => (result.count === 1 ? { status: 'applied' } : { status: 'lost' }));
    } catch {
      return writeOneByOne(writes, async (write) =>
        (await batch([write]))[0].count === 1 ? { status: 'applied' } : { status: 'lost' },
      );
    }
  }

  /** The row's CAS conditions Prisma checks: all but the Json values compared by value. */
  private conditions(expected: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const conditions = casConditions(this.model, expected);
    for (const name of this.#jsonByValue) delete conditions[name];
    return conditions;
  }

  /** The Json fields of `write` compared by value: those read non-null (`casConditions` compares no null). */
  private jsonCompared(write: RowWrite): string[] {
    return [...this.#jsonByValue].filter((name) => write.expected[name] !== undefined && write.expected[name] !== null);
  }

  /** Whether the row still holds, by value, the Json values `write` read (true when it compares none). */
  private async jsonUnchanged(client: unknown, write: RowWrite): Promise<boolean> {
    const fields = this.jsonCompared(write);
    if (fields.length === 0) return true;
    const row = (await delegateOf(client as BasePrismaClient, this.model.name).findMany({
      where: keyWhere(this.key, write.key),
      select: Object.fromEntries(fields.map((name) => [name, true])),
      take: 1,
    })) as Record<string, unknown>[];
    return row.length === 1 && fields.every((name) => isDeepStrictEqual(row[0][name], write.expected[name]));
  }

  /** Takes SQLite's write lock in `tx` with a write that changes nothing, before its first read. */
  private async takeWriteLock(tx: SqlRunner): Promise<void> {
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const id = quote(this.model.fields[this.key[0]]?.dbName ?? this.key[0]);
    await tx.$executeRawUnsafe(`UPDATE ${qualifiedTable(this.model, quote)} SET ${id} = ${id} WHERE 0`);
  }
}

/**
 * The CAS conditions of a row as Prisma filters: a value as read, through `equals` for Json,
 * Bytes and list fields (a Json field takes no bare value). A null Json is not compared: Prisma
 * reads SQL NULL and JSON null alike, and its filter must name which (the envelopes beside it
 * still are compared). Strings compare under the column's collation.
 */
export function casConditions(model: ModelMeta, expected: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(expected)) {
    const field = model.fields[name];
    const typed = field !== undefined && (field.type === 'Json' || field.type === 'Bytes' || field.isList);
    if (!typed) out[name] = value;
    else if (value !== null || field.type !== 'Json') out[name] = { equals: value };
  }
  return out;
}

/** One `UPDATE ... FROM unnest(...) RETURNING` statement per batch (PostgreSQL). */
export class PostgresCasWriter implements CasWriter {
  readonly guardsShreds: boolean;
  /** The fields a write's `key` holds (see `row-key.ts`). */
  private readonly key: readonly string[];

  constructor(
    private readonly client: RawClient,
    private readonly model: ModelMeta,
    private readonly types: ReadonlyMap<string, string>,
    /** Column name → its collation as SQL (`"schema"."name"`), for columns declared with one. */
    private readonly collations: ReadonlyMap<string, string> = new Map(),
    private readonly guard?: ShredGuard,
  ) {
    this.guardsShreds = guard !== undefined;
    this.key = rowKeyOf(model);
  }

  write(writes: readonly RowWrite[]): Promise<WriteOutcome[]> {
    const { guard } = this;
    const options = { ...TRANSACTION_OPTIONS, isolationLevel: 'ReadCommitted' };
    return writeInStatements(writes, MAX_ROWS_PER_STATEMENT, (chunk) =>
      // The key check and the statement in one transaction: a shred waits for it, or is seen.
      // Without a guard the statement alone, still in a transaction at read committed: sent on
      // its own it would run at the database's default.
      this.client.$transaction((tx) => guardedWrite(tx, guard, chunk, (kept) => this.statement(tx, kept)), options),
    );
  }

  /**
   * Runs one statement; returns the indexes (within `writes`) of rows it updated. Values travel
   * as one array parameter per column (`unnest($1::type[], ...)`), so the statement text and
   * the parameter count do not grow with the batch.
   */
  private async statement(client: SqlRunner, writes: readonly RowWrite[]): Promise<Set<number>> {
    const { expected, set } = casColumns(writes);
    const keyFields = this.key;
    const params: unknown[] = [];
    const param = (value: unknown, field: string | null, array: boolean) => {
      params.push(array && field !== null ? (value as unknown[]).map(this.carrier(field).encode) : value);
      const type = field === null ? 'int4' : this.carrier(field).type;
      return `$${params.length}::${quoteIdent(type)}${array ? '[]' : ''}`;
    };
    const nullable = (value: unknown) => (value === undefined ? null : value);
    const arrays = [
      param(
        writes.map((_, index) => index),
        null,
        true,
      ),
      ...keyFields.map((field, i) =>
        param(
          writes.map((write) => write.key[i]),
          field,
          true,
        ),
      ),
      ...expected.map((field) =>
        param(
          writes.map((write) => nullable(write.expected[field])),
          field,
          true,
        ),
      ),
      // An unchanged column is written back with the value the CAS condition just matched.
      ...set.map((field) =>
        param(
          writes.map((write) => nullable(field in write.data ? write.data[field] : write.expected[field])),
          field,
          true,
        ),
      ),
    ];
    const names = [
      'i',
      ...keyFields.map((_, i) => `k${i}`),
      ...expected.map((_, i) => `o${i}`),
      ...set.map((_, i) => `n${i}`),
    ];
    const column = (field: string) => quoteIdent(this.dbName(field));
    // Bounding the key by the batch's smallest and largest (in the key column's own order,
    // whatever order the writes come in) lets PostgreSQL use the primary-key index instead of
    // hashing the whole table for every batch.
    const range: string[] = [];
    if (keyFields.length === 1) {
      const key = `t.${column(keyFields[0])}`;
      const keys = arrays[1];
      // A text key declared with its own collation is compared in it: the bounds are sorted in
      // the same one, or a batch whose keys sort differently would match nothing.
      const collation = this.collations.get(this.dbName(keyFields[0]));
      const k = collation === undefined ? 'k' : `k COLLATE ${collation}`;
      // ORDER BY, not min()/max(): PostgreSQL 15 has no min(uuid).
      const bound = (order: string) => `(SELECT k FROM unnest(${keys}) AS k ORDER BY ${k} ${order} LIMIT 1)`;
      range.push(`${key} >= ${bound('ASC')}`, `${key} <= ${bound('DESC')}`);
    }
    const sql =
      `UPDATE ${qualifiedTable(this.model, quoteIdent)} AS t SET ` +
      set.map((field, i) => `${column(field)} = ${this.carrier(field).value(`v.n${i}`)}`).join(', ') +
      ` FROM unnest(${arrays.join(', ')}) AS v(${names.join(', ')}) WHERE ` +
      [
        ...keyFields.map((field, i) => `t.${column(field)} = v.k${i}`),
        ...expected.map((field, i) => this.carrier(field).matches(`t.${column(field)}`, `v.o${i}`)),
        ...range,
      ].join(' AND ') +
      ' RETURNING v.i';
    const rows = await client.$queryRawUnsafe<{ i: number }[]>(sql, ...params);
    return new Set(rows.map((row) => Number(row.i)));
  }

  private dbName(field: string): string {
    return this.model.fields[field]?.dbName ?? field;
  }

  private typeOf(field: string): string {
    return this.types.get(this.dbName(field)) ?? 'text';
  }

  /**
   * How a column's values travel in the unnest arrays and are read back in SQL. Most travel as
   * themselves; a Json value as JSON text, bytes as hex text, a list as a JSON array (one array
   * parameter cannot hold lists of different lengths): as `text`, which every driver sends alike.
   */
  private carrier(field: string): Carrier {
    const meta = this.model.fields[field];
    const type = this.typeOf(field);
    const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
    if (meta?.isList) {
      const list = (ref: string) =>
        `(CASE WHEN ${ref} IS NULL THEN NULL ELSE ARRAY(SELECT e FROM jsonb_array_elements_text(${ref}::jsonb) ` +
        `WITH ORDINALITY AS a(e, n) ORDER BY n)::${quoteIdent(type)} END)`;
      return {
        type: 'text',
        encode: json,
        value: list,
        // Prisma reads a NULL list as [], which is what a reference then holds.
        matches: (column, ref) => `coalesce(${column}, '{}') IS NOT DISTINCT FROM ${list(ref)}`,
      };
    }
    if (meta?.type === 'Json')
      return {
        type: 'text',
        encode: json,
        value: (ref) => `${ref}::jsonb::${quoteIdent(type)}`,
        // Prisma reads a JSON null as null: either null matches a value read as null.
        matches: (column, ref) =>
          `(${column}::jsonb IS NOT DISTINCT FROM ${ref}::jsonb OR (${ref} IS NULL AND ${column}::jsonb = 'null'::jsonb))`,
      };
    if (meta?.type === 'Bytes') {
      const bytes = (ref: string) => `decode(${ref}, 'hex')`;
      return {
        type: 'text',
        encode: (value) => (value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value),
        value: bytes,
        matches: (column, ref) => `${column} IS NOT DISTINCT FROM ${bytes(ref)}`,
      };
    }
    return {
      type,
      encode: (value) => value,
      value: (ref) => ref,
      matches: (column, ref) => `${column} IS NOT DISTINCT FROM ${ref}`,
    };
  }
}

/** How the values of one column travel in the PostgreSQL writer's statement (see `PostgresCasWriter.carrier`). */
interface Carrier {
  /** The parameter's element type. */
  readonly type: string;
  /** A value as sent in the parameter array. */
  readonly encode: (value: unknown) => unknown;
  /** The SQL for the column's value from a parameter reference. */
  readonly value: (ref: string) => string;
  /** The SQL condition that the column still holds the value a reference names. */
  readonly matches: (column: string, ref: string) => string;
}

/**
 * Writes `writes` in statements of at most `size` rows through `statement`, which returns the
 * outcome of each row (by index within the rows it got) that did not lose its race: applied, or
 * shredded. A statement lost to a write conflict or deadlock is run again
 * ({@link retryConflicts}); one that fails otherwise is redone row by row (each row's retried
 * so too), so one bad row fails alone.
 * @param statement - writes the rows it is given in one transaction, which rolls back whole on failure
 */
export async function writeInStatements(
  writes: readonly RowWrite[],
  size: number,
  statement: (rows: readonly RowWrite[]) => Promise<ReadonlyMap<number, WriteOutcome>>,
): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = [];
  for (let at = 0; at < writes.length; at += size) {
    const chunk = writes.slice(at, at + size);
    try {
      const done = await retryConflicts(() => statement(chunk));
      outcomes.push(...chunk.map((_, i): WriteOutcome => done.get(i) ?? { status: 'lost' }));
    } catch {
      outcomes.push(
        ...(await writeOneByOne(
          chunk,
          async (write) => (await retryConflicts(() => statement([write]))).get(0) ?? { status: 'lost' },
        )),
      );
    }
  }
  return outcomes;
}

/** The rows a statement wrote (by index) as their outcomes. */
export function applied(indexes: ReadonlySet<number>): Map<number, WriteOutcome> {
  return new Map([...indexes].map((i) => [i, { status: 'applied' }]));
}

/**
 * The fields a batch compares (`expected`) and writes (`set`), sorted. A field written is also
 * compared, so its old value is always among the expected ones.
 */
export function casColumns(writes: readonly RowWrite[]): { expected: string[]; set: string[] } {
  const set = new Set<string>();
  const expected = new Set<string>();
  for (const write of writes) {
    for (const field of Object.keys(write.data)) set.add(field);
    for (const field of Object.keys(write.expected)) expected.add(field);
  }
  for (const field of set) expected.add(field);
  return { expected: [...expected].sort(), set: [...set].sort() };
}

/** Writes rows one at a time (a batch failed): each row's outcome, an error kept as its own. */
export async function writeOneByOne(
  writes: readonly RowWrite[],
  one: (write: RowWrite) => Promise<WriteOutcome>,
): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = [];
  for (const write of writes) {
    try {
      outcomes.push(await one(write));
    } catch (error) {
      outcomes.push({ status: 'error', error });
    }
  }
  return outcomes;
}

/**
 * For a model's table (in its `@@schema`, else the current schema): column name → PostgreSQL
 * type name (`udt_name`), and column name → collation as SQL for the columns declared with a
 * collation other than the database's default (`information_schema` names those only).
 */
async function columnCatalog(
  client: RawClient,
  model: Pick<ModelMeta, 'dbName' | 'schema'>,
): Promise<{ types: Map<string, string>; collations: Map<string, string> }> {
  const rows = await client.$queryRawUnsafe<
    { column_name: string; udt_name: string; collation_schema: string | null; collation_name: string | null }[]
  >(
    'SELECT column_name, udt_name, collation_schema, collation_name FROM information_schema.columns ' +
      'WHERE table_schema = COALESCE($2::text, current_schema()) AND table_name = $1',
    model.dbName,
    model.schema ?? null,
  );
  const collations = new Map<string, string>();
  for (const row of rows) {
    if (row.collation_name === null) continue;
    const schema = row.collation_schema === null ? '' : `${quoteIdent(row.collation_schema)}.`;
    collations.set(row.column_name, `${schema}${quoteIdent(row.collation_name)}`);
  }
  return { types: new Map(rows.map((row) => [row.column_name, row.udt_name])), collations };
}

/** Quotes an SQL identifier (doubling embedded quotes). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
