/**
 * Compare-and-swap writes on MySQL/MariaDB: a batch is one `UPDATE t JOIN (SELECT ? AS i, ...
 * UNION ALL SELECT ...) AS v ON <key> SET ... WHERE <every value read still there>`, in a
 * transaction with, when needed, a read-back that tells which rows it wrote.
 *
 * MySQL reports how many rows an `UPDATE` matched, not which (there is no `RETURNING` on
 * `UPDATE`). When the count is the batch's size every row applied, when it is zero none did;
 * in between (some rows lost a race with an application write) the rows are read back in the
 * same transaction, under the locks the `UPDATE` took: a row holding the values just written
 * applied, any other lost. The new values carry fresh ciphertext (a random IV), so a row an
 * application wrote cannot hold them by chance; were every written column deterministic (a
 * blind index alone), a row holding them holds what this write would have left, which is as good.
 *
 * String values are compared as bytes (`CAST(... AS BINARY)`): under a case- or
 * accent-insensitive collation, or a PAD SPACE one, `'Alice' = 'alice '` holds, and an
 * application write changing only that would be overwritten. The value read (UTF-8, as the
 * driver returned it) is converted into the column's character set before its bytes are
 * compared with the column's: a legacy `latin1` (or `cp1250`...) column then compares by its
 * text, and a byte its character set does not map (which the driver read as `?`) never
 * matches, so such a row counts as a lost race and is left as it is. NULLs compare with `<=>`.
 * Text values travel as their UTF-8 bytes, read back with `CONVERT(? USING utf8mb4)`: MariaDB
 * cuts a text parameter of the derived table to its length modulo 64 KiB without a word, which
 * lost every value over 64 KiB (an envelope cut, or a value read that never matched).
 *
 * A batch with a Json field is written row by row, each in its own transaction: the row's
 * String columns are read `FOR UPDATE` and compared exactly in JavaScript, then `updateMany`
 * with every condition (Prisma's own JSON comparison) writes it, the row still locked.
 *
 * Given a {@link ShredGuard}, each transaction first checks (the key rows locked for share)
 * that no key the rows were read under was shredded (`shred-guard.ts`).
 *
 * Every transaction runs at the session's isolation level (not read committed, which a server
 * logging statements, `binlog_format=STATEMENT`, refuses writes under): a locking read and an
 * `UPDATE` read the latest committed row at any level (`casTransactionOptions` in `cas-writer.ts`).
 * One lost to a deadlock is run again (`retryConflicts`).
 */
import { Buffer } from 'node:buffer';
import type { ModelMeta } from '@hushfield/prisma';
import { casColumns, casConditions, retryConflicts, writeInStatements } from './cas-writer';
import type { CasWriter, RowWrite, WriteOutcome } from './cas-writer';
import { messages } from './messages';
import { rowKeyOf } from './row-key';
import { guardedWrite } from './shred-guard';
import { qualifiedTable } from './table-name';
import type { ShredGuard } from './shred-guard';
import { delegateOf, keyWhere } from './walker';

interface RawClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $transaction<T>(
    work: (tx: RawClient) => Promise<T>,
    options?: { timeout?: number; maxWait?: number; isolationLevel?: string },
  ): Promise<T>;
}

/** Parameters per statement: below the protocol's 65,535 placeholders. */
const MAX_PARAMS_PER_STATEMENT = 60_000;

/** Rows per statement at most, whatever the row's width. */
const MAX_ROWS_PER_STATEMENT = 2_000;

/** Quotes a MySQL identifier (backticks, doubling embedded ones). */
export function quoteMysqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A character set name as `information_schema` gives it, safe to write into `CONVERT(... USING name)`. */
const CHARSET_NAME = /^[a-z0-9_]{1,64}$/;

/** One `UPDATE ... JOIN (SELECT ... UNION ALL ...)` per batch (MySQL/MariaDB). */
export class MysqlCasWriter implements CasWriter {
  /** Column name (lower case) → character set of the table's columns (null: not text), read once. */
  #charsets: Promise<Map<string, string | null>> | undefined;
  readonly guardsShreds: boolean;
  /** The fields a write's `key` holds (see `row-key.ts`). */
  private readonly key: readonly string[];

  constructor(
    private readonly client: RawClient,
    private readonly model: ModelMeta,
    private readonly guard?: ShredGuard,
  ) {
    this.guardsShreds = guard !== undefined;
    this.key = rowKeyOf(model);
  }

  async write(writes: readonly RowWrite[]): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    // Read before the first batch; a failed read fails this batch (as any query of it would) and
    // is not kept: the next batch reads again.
    this.#charsets ??= this.columnCharsets();
    try {
      await this.#charsets;
    } catch (error) {
      this.#charsets = undefined;
      throw error;
    }
    const { expected, set } = casColumns(writes);
    if ([...expected, ...set].some((field) => this.model.fields[field]?.type === 'Json')) {
      const outcomes: WriteOutcome[] = [];
      for (const write of writes) {
        try {
          outcomes.push(await this.writeLocked(write));
        } catch (error) {
          outcomes.push({ status: 'error', error });
        }
      }
      return outcomes;
    }
    const perRow = 1 + this.key.length + expected.length + set.length;
    const size = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS_PER_STATEMENT / perRow)));
    return writeInStatements(writes, size, (chunk) => this.statement(chunk));
  }

  /**
   * One row of a batch with a Json field, in its own transaction: its String columns as read
   * must be exactly those locked now (`FOR UPDATE`), then `updateMany` checks every condition
   * (Json as Prisma compares it) and writes. @returns its outcome
   */
  private async writeLocked(write: RowWrite): Promise<WriteOutcome> {
    const strings = Object.keys(write.expected).filter((field) => {
      const meta = this.model.fields[field];
      return meta?.type === 'String' && !meta.isList;
    });
    const column = (field: string) => quoteMysqlIdent(this.model.fields[field]?.dbName ?? field);
    const lock =
      `SELECT ${['1 AS found', ...strings.map((field, i) => `${column(field)} AS s${i}`)].join(', ')} ` +
      `FROM ${qualifiedTable(this.model, quoteMysqlIdent)} WHERE ` +
      this.key.map((field) => `${column(field)} = ?`).join(' AND ') +
      ' FOR UPDATE';
    const outcomes = await retryConflicts(() =>
      this.client.$transaction(
        (tx) =>
          guardedWrite(tx, this.guard, [write], async () => {
            const [row] = await tx.$queryRawUnsafe<Record<string, string | null>[]>(lock, ...write.key);
            if (row === undefined) return new Set<number>();
            if (strings.some((field, i) => (row[`s${i}`] ?? null) !== (write.expected[field] ?? null)))
              return new Set<number>();
            const { count } = await delegateOf(tx, this.model.name).updateMany({
              where: { ...keyWhere(this.key, write.key), ...casConditions(this.model, write.expected) },
              data: { ...write.data },
            });
            return new Set<number>(count === 1 ? [0] : []);
          }),
        { timeout: 60_000, maxWait: 60_000 },
      ),
    );
    return outcomes.get(0) ?? { status: 'lost' };
  }

  /**
   * The character set of each column of the model's table (in its `@@schema` database, else the
   * connection's), by lower-case name (MySQL's column names are not case-sensitive); null for a
   * column without one.
   * @throws Error naming the character set when it is not a plain name (never written into SQL)
   */
  private async columnCharsets(): Promise<Map<string, string | null>> {
    const rows = await this.client.$queryRawUnsafe<{ name: string; charset: string | null }[]>(
      'SELECT COLUMN_NAME AS name, CHARACTER_SET_NAME AS charset FROM information_schema.COLUMNS ' +
        'WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
      this.model.schema ?? null,
      this.model.dbName,
    );
    const charsets = new Map<string, string | null>();
    for (const { name, charset } of rows) {
      const lower = charset === null ? null : charset.toLowerCase();
      if (lower !== null && !CHARSET_NAME.test(lower)) throw new Error(messages.migrate.oddCharset(name, lower));
      charsets.set(name.toLowerCase(), lower);
    }
    return charsets;
  }

  /**
   * Writes `writes` in one transaction (the guard's check first); returns the outcome of each row
   * (by index within `writes`) that did not lose its race.
   */
  private statement(writes: readonly RowWrite[]): Promise<Map<number, WriteOutcome>> {
    return this.client.$transaction((tx) => guardedWrite(tx, this.guard, writes, (kept) => this.update(tx, kept)), {
      timeout: 120_000,
      maxWait: 60_000,
    });
  }

  /** In `tx`, writes `writes`; returns the indexes (within `writes`) of the rows written. */
  private async update(tx: RawClient, writes: readonly RowWrite[]): Promise<Set<number>> {
    const { expected, set } = casColumns(writes);
    const keyFields = this.key;
    const nullable = (value: unknown) => (value === undefined ? null : value);
    const newValue = (write: RowWrite, field: string) =>
      nullable(field in write.data ? write.data[field] : write.expected[field]);
    const column = (field: string) => quoteMysqlIdent(this.model.fields[field]?.dbName ?? field);
    const table = qualifiedTable(this.model, quoteMysqlIdent);
    const keyJoin = keyFields.map((field, i) => `t.${column(field)} = v.k${i}`);
    // A column written is compared too (`casColumns`), so `o` holds its old value and `n` its new one.
    // The value as the column's own character set holds it: a legacy `latin1` column holds other
    // bytes for the same text than the UTF-8 the driver sent and read.
    const charsets = (await this.#charsets) as Map<string, string | null>;
    const same = (field: string, ref: string) => {
      if (this.model.fields[field]?.type !== 'String') return `t.${column(field)} <=> ${ref}`;
      const name = this.model.fields[field]?.dbName ?? field;
      const charset = charsets.get(name.toLowerCase());
      // A column the catalog does not list cannot be compared safely: refuse the batch.
      if (charset === undefined) throw new Error(messages.migrate.unknownColumn(this.model.dbName, name));
      const value = charset === null ? ref : `CONVERT(${ref} USING ${charset})`;
      return `CAST(t.${column(field)} AS BINARY) <=> CAST(${value} AS BINARY)`;
    };

    // A text value travels as its UTF-8 bytes: MariaDB cuts a text parameter of a UNION ALL
    // derived table to its length modulo 64 KiB, silently (a binary one it keeps whole).
    const text = (field: string) => this.model.fields[field]?.type === 'String';
    const placeholder = (field: string) => (text(field) ? 'CONVERT(? USING utf8mb4)' : '?');
    const carried = (field: string, value: unknown) =>
      text(field) && typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const updateValues: unknown[] = [];
    const updateRows = writes.map((write, index) => {
      updateValues.push(
        index,
        ...keyFields.map((_, i) => write.key[i]),
        ...expected.map((field) => carried(field, nullable(write.expected[field]))),
        ...set.map((field) => carried(field, newValue(write, field))),
      );
      const columns = [...expected, ...set].map(placeholder);
      return index === 0
        ? 'SELECT ? AS i, ' +
            [
              ...keyFields.map((_, i) => `? AS k${i}`),
              ...expected.map((_, i) => `${columns[i]} AS o${i}`),
              ...set.map((_, i) => `${columns[expected.length + i]} AS n${i}`),
            ].join(', ')
        : `SELECT ${['?', ...keyFields.map(() => '?'), ...columns].join(', ')}`;
    });
    const update =
      `UPDATE ${table} AS t JOIN (${updateRows.join(' UNION ALL ')}) AS v ON ${keyJoin.join(' AND ')} SET ` +
      set.map((field, i) => `t.${column(field)} = v.n${i}`).join(', ') +
      ' WHERE ' +
      expected.map((field, i) => same(field, `v.o${i}`)).join(' AND ');

    const matched = await tx.$executeRawUnsafe(update, ...updateValues);
    if (matched === writes.length) return new Set(writes.map((_, i) => i));
    if (matched === 0) return new Set<number>();
    // Some rows lost: which ones hold what was just written (still locked by this transaction)?
    const readValues: unknown[] = [];
    const readRows = writes.map((write, index) => {
      readValues.push(
        index,
        ...keyFields.map((_, i) => write.key[i]),
        ...set.map((field) => carried(field, newValue(write, field))),
      );
      return index === 0
        ? 'SELECT ? AS i, ' +
            [...keyFields.map((_, i) => `? AS k${i}`), ...set.map((field, i) => `${placeholder(field)} AS n${i}`)].join(
              ', ',
            )
        : `SELECT ${['?', ...keyFields.map(() => '?'), ...set.map(placeholder)].join(', ')}`;
    });
    const read =
      `SELECT v.i AS i FROM ${table} AS t JOIN (${readRows.join(' UNION ALL ')}) AS v ON ${keyJoin.join(' AND ')} ` +
      `WHERE ${set.map((field, i) => same(field, `v.n${i}`)).join(' AND ')}`;
    const rows = await tx.$queryRawUnsafe<{ i: number | bigint }[]>(read, ...readValues);
    return new Set(rows.map((row) => Number(row.i)));
  }
}
