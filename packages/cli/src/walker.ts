/**
 * Walks a model in row-key order (`row-key.ts`: its primary key, or a unique criterion), one
 * batch at a time, through the base Prisma client: keyset pagination (`WHERE key > last ORDER
 * BY key LIMIT n`), so memory stays flat however large the table and a cursor (the last key) is
 * all a checkpoint needs.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { delegateName } from '@hushfield/prisma';
import { messages } from './messages';

/** A model delegate of the base client, as far as the CLI uses it. */
export interface ModelDelegate {
  findMany(args: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  updateMany(args: { where: Record<string, unknown>; data: Record<string, unknown> }): Promise<{ count: number }>;
  count(args?: Record<string, unknown>): Promise<number>;
}

/** The delegate for a Prisma model name (`Customer` → `client.customer`). */
export function delegateOf(client: object, model: string): ModelDelegate {
  const delegate = (client as Record<string, unknown>)[delegateName(model)];
  if (!delegate || typeof (delegate as ModelDelegate).findMany !== 'function') {
    throw new InvalidArgumentError(messages.walk.noModel(model), 'model');
  }
  return delegate as ModelDelegate;
}

/** The row-key values of `row`, in `keyFields` order. */
export function keyOf(row: Record<string, unknown>, keyFields: readonly string[]): unknown[] {
  return keyFields.map((field) => row[field]);
}

/** Serializes a key for checkpoints and maps (JSON; bigints and dates tagged). */
export function encodeKey(values: readonly unknown[]): string {
  return JSON.stringify(
    values.map((value) => {
      if (typeof value === 'bigint') return { $bigint: value.toString() };
      if (value instanceof Date) return { $date: value.toISOString() };
      return value;
    }),
  );
}

/** Inverse of {@link encodeKey}. @throws InvalidArgumentError on a malformed cursor. */
export function decodeKey(encoded: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(encoded);
  } catch {
    throw new InvalidArgumentError(messages.walk.cursorNotJson(), 'cursor');
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError(messages.walk.cursorNotArray(), 'cursor');
  return parsed.map((value) => {
    if (value && typeof value === 'object' && '$bigint' in value) return BigInt((value as { $bigint: string }).$bigint);
    if (value && typeof value === 'object' && '$date' in value) return new Date((value as { $date: string }).$date);
    return value;
  });
}

/** `WHERE` for keys strictly after `after` in lexicographic row-key order. */
export function afterWhere(keyFields: readonly string[], after: readonly unknown[]): Record<string, unknown> {
  if (after.length !== keyFields.length) {
    throw new InvalidArgumentError(messages.walk.cursorArity(after.length, keyFields.length), 'cursor');
  }
  if (keyFields.length === 1) return { [keyFields[0]]: { gt: after[0] } };
  const branches = keyFields.map((field, i) => {
    const equal = Object.fromEntries(keyFields.slice(0, i).map((prefix, j) => [prefix, after[j]]));
    return { ...equal, [field]: { gt: after[i] } };
  });
  return { OR: branches };
}

/** `WHERE` for keys up to and including `last` in lexicographic row-key order (a range's end). */
export function throughWhere(keyFields: readonly string[], last: readonly unknown[]): Record<string, unknown> {
  if (last.length !== keyFields.length) {
    throw new InvalidArgumentError(messages.walk.cursorArity(last.length, keyFields.length), 'cursor');
  }
  if (keyFields.length === 1) return { [keyFields[0]]: { lte: last[0] } };
  const equal = (upTo: number) => Object.fromEntries(keyFields.slice(0, upTo).map((prefix, j) => [prefix, last[j]]));
  const branches = keyFields.map((field, i) => ({ ...equal(i), [field]: { lt: last[i] } }));
  return { OR: [...branches, equal(keyFields.length)] };
}

/** `WHERE` matching exactly one row key. */
export function keyWhere(keyFields: readonly string[], key: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(keyFields.map((field, i) => [field, key[i]]));
}

/** Options of {@link walkBatches}. */
export interface WalkOptions {
  readonly keyFields: readonly string[];
  /** Fields to read (the key fields are added). */
  readonly select: readonly string[];
  readonly batchSize: number;
  /** Start after this key (a checkpoint's cursor). */
  readonly after?: readonly unknown[];
  /** Stop after this key, inclusive (a range's last key). */
  readonly upTo?: readonly unknown[];
  /** Extra filter (e.g. one scope's rows). */
  readonly where?: Record<string, unknown>;
}

/** Yields the model's rows in row-key order, `batchSize` at a time. */
export async function* walkBatches(
  delegate: ModelDelegate,
  options: WalkOptions,
): AsyncGenerator<Record<string, unknown>[]> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new InvalidArgumentError(messages.walk.batchSize(), 'batch');
  }
  const select = Object.fromEntries(
    [...new Set([...options.keyFields, ...options.select])].map((field) => [field, true]),
  );
  const orderBy = options.keyFields.map((field) => ({ [field]: 'asc' }));
  let after = options.after;
  for (;;) {
    const conditions = [
      options.where,
      after ? afterWhere(options.keyFields, after) : undefined,
      options.upTo ? throughWhere(options.keyFields, options.upTo) : undefined,
    ].filter(Boolean);
    const rows = await delegate.findMany({
      where: conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : { AND: conditions },
      orderBy,
      take: options.batchSize,
      select,
    });
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < options.batchSize) return;
    after = keyOf(rows[rows.length - 1], options.keyFields);
  }
}

/**
 * Yields what `source` yields, but asks it for the next item as soon as the current one is
 * handed out, so the next batch's query runs while the caller works on this one. Holds at
 * most one item beyond the caller's, so memory stays flat.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const item = await next;
      if (item.done) return;
      next = iterator.next();
      // Awaited on the next turn; if the caller stops first, its failure must not go unhandled.
      next.catch(() => undefined);
      yield item.value;
    }
  } finally {
    // Close the source once its read in flight settles, without making a stopping caller wait for it.
    void iterator.return?.().catch(() => undefined);
  }
}

/**
 * Splits the model's rows, in row-key order, into ranges of `rowsPerRange` rows: returns
 * the last key of every full range (encoded), found with one `OFFSET` step per range from the
 * previous boundary (an index-only walk of the table, once per run). The last range, from the
 * final boundary to the end of the table, also takes rows inserted later.
 */
export async function rangeBoundaries(
  delegate: ModelDelegate,
  keyFields: readonly string[],
  rowsPerRange: number,
): Promise<string[]> {
  const select = Object.fromEntries(keyFields.map((field) => [field, true]));
  const orderBy = keyFields.map((field) => ({ [field]: 'asc' }));
  const boundaries: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const [row] = await delegate.findMany({
      where: after ? afterWhere(keyFields, after) : undefined,
      orderBy,
      skip: rowsPerRange - 1,
      take: 1,
      select,
    });
    if (!row) return boundaries;
    after = keyOf(row, keyFields);
    // A range ending on the table's very last row would leave an empty last range: harmless.
    boundaries.push(encodeKey(after));
  }
}

/** Re-reads the rows with the given keys (for retrying lost races), in key order. */
export async function fetchByKeys(
  delegate: ModelDelegate,
  keyFields: readonly string[],
  keys: readonly (readonly unknown[])[],
  select: readonly string[],
): Promise<Record<string, unknown>[]> {
  if (keys.length === 0) return [];
  const where =
    keyFields.length === 1
      ? { [keyFields[0]]: { in: keys.map((key) => key[0]) } }
      : { OR: keys.map((key) => keyWhere(keyFields, key)) };
  return delegate.findMany({
    where,
    orderBy: keyFields.map((field) => ({ [field]: 'asc' })),
    select: Object.fromEntries([...new Set([...keyFields, ...select])].map((field) => [field, true])),
  });
}
