/**
 * The unique constraints that hold a blind-index column (a `@unique` index, or a `@@unique`
 * naming one, per-scope indexes included), and for a row written, the filter that finds
 * another row holding the same values under another live key version: the index root's for a
 * shared index, the row's scope key's for a per-scope one. The database's constraint sees one
 * version only, so during a rotation `unique-across-versions.ts` asks this filter instead.
 */
import type { FieldCrypto } from '@hushfield/core';
import type { BlindIndexMeta, ModelMeta } from '../../metadata';
import { isLogicalKey } from '../query/arg-shapes';
import { type Args, blindIndexSpec, isPerScopeIndex, isPlainObject } from '../schema-view';
import { fieldPlainOf, plainOf } from './row-sealer';

/** A unique constraint holding at least one blind-index column. */
export interface IndexedUnique {
  /** Its fields, as Prisma names them (index columns by their field names). */
  readonly fields: readonly string[];
  /** What a duplicate's P2002 names: the constraint's columns. */
  readonly target: readonly string[];
  /** Whether one of its index columns is per scope (keyed by the row's scope key versions). */
  readonly perScope: boolean;
  /** Whether one of its index columns is shared (keyed by the index root versions). */
  readonly shared: boolean;
}

/** A row's values of an {@link IndexedUnique} under every live version, as a filter. */
export interface Held {
  readonly unique: IndexedUnique;
  readonly where: Args;
}

const UNIQUES = new WeakMap<ModelMeta, readonly IndexedUnique[]>();

/** The unique constraints of `model` that hold a blind-index column (computed once per model). */
export function indexedUniques(model: ModelMeta): readonly IndexedUnique[] {
  let found = UNIQUES.get(model);
  if (found === undefined) {
    const list: IndexedUnique[] = [];
    for (const index of Object.values(model.blindIndexes)) {
      if (!index.unique) continue;
      const perScope = isPerScopeIndex(index);
      list.push({ fields: [index.name], target: [index.dbName], perScope, shared: !perScope });
    }
    for (const { fields } of model.uniqueIndexes) {
      const indexes = fields.map((field) => model.blindIndexes[field]).filter((index) => index !== undefined);
      if (indexes.length === 0) continue;
      const target = fields.map((field) => model.fields[field]?.dbName ?? field);
      const perScope = indexes.some(isPerScopeIndex);
      list.push({ fields, target, perScope, shared: indexes.some((index) => !isPerScopeIndex(index)) });
    }
    found = list;
    UNIQUES.set(model, found);
  }
  return found;
}

/** Whether one of `model`'s {@link indexedUniques} holds a per-scope index column. */
export function hasPerScopeUnique(model: ModelMeta): boolean {
  return indexedUniques(model).some((unique) => unique.perScope);
}

/** Whether `data` gives a source of an index column of one of `model`'s {@link indexedUniques}. */
export function writesIndexedUnique(model: ModelMeta, data: Args): boolean {
  for (const unique of indexedUniques(model)) {
    for (const field of unique.fields) {
      const index = model.blindIndexes[field];
      if (index !== undefined && data[index.source] !== undefined) return true;
    }
  }
  return false;
}

/**
 * The {@link indexedUniques} of `model` whose tuple `data` changes: it gives the source of one of
 * their index columns, or another of their fields (a compound's, whose index column then keeps
 * its value but meets other rows).
 */
export function uniquesTouched(model: ModelMeta, data: Args): IndexedUnique[] {
  return indexedUniques(model).filter((unique) =>
    unique.fields.some((field) => {
      const index = model.blindIndexes[field];
      return (index === undefined ? data[field] : data[index.source]) !== undefined;
    }),
  );
}

/** What {@link heldFor} reads a written row from. */
export interface WrittenRow {
  readonly model: ModelMeta;
  /** The caller's data for the row (plaintext sources, scalar fields). */
  readonly data: Args;
  /** The row's other values when `data` does not give them (an updated row as stored). */
  readonly known?: Args;
  /** The row's scope, which a per-scope index value is keyed by (`undefined`: unknown). */
  readonly scope?: string;
  /** Only the constraints holding an index of this kind (default: all). */
  readonly only?: 'shared' | 'perScope';
  /** Only these constraints (default: all). */
  readonly among?: readonly IndexedUnique[];
}

/** A row a write creates whatever it finds, as sealed (`out`, what is sent) and as given. */
export interface CreatedRow extends WrittenRow {
  readonly out: Args;
  /**
   * A where (rewritten) that the row is created only when it finds no row (a connectOrCreate's,
   * a nested upsert's): a duplicate is one only then.
   */
  readonly unless?: Args;
  /** Dropped from the write rather than refused when held (a `createMany`'s with `skipDuplicates`). */
  readonly skip?: true;
}

/**
 * Whether {@link heldFor} may find anything for `row`, without I/O: false while this process
 * knows one live version of every key its unique indexes are keyed by (the usual case), so
 * that a write queries, awaits and computes nothing more.
 */
export function mayHold(crypto: FieldCrypto, row: WrittenRow): boolean {
  for (const unique of indexedUniques(row.model)) {
    if (unique.shared && crypto.cachedIndexVersionCount() !== 1) return true;
    if (unique.perScope && row.scope !== undefined && crypto.cachedScopeIndexVersionCount(row.scope) !== 1) return true;
  }
  return false;
}

/**
 * For each of the row's {@link indexedUniques} whose index value it writes while several key
 * versions of that index are live, the filter for rows holding the same values under any live
 * version. None (and no I/O) while this process knows one live version: the constraint covers
 * it. A constraint is left out when a value it needs is not known here (a field given through
 * a relation, a per-scope index of a row whose scope is not known).
 */
export async function heldFor(crypto: FieldCrypto, row: WrittenRow): Promise<Held[]> {
  const held: Held[] = [];
  for (const unique of indexedUniques(row.model)) {
    if (row.only !== undefined && !unique[row.only]) continue;
    if (row.among !== undefined && !row.among.includes(unique)) continue;
    const where = await uniqueWhere(crypto, row, unique);
    if (where !== undefined) held.push({ unique, where });
  }
  return held;
}

async function uniqueWhere(crypto: FieldCrypto, row: WrittenRow, unique: IndexedUnique): Promise<Args | undefined> {
  const { model, data, known, scope } = row;
  const where: Args = {};
  let versions = false;
  for (const field of unique.fields) {
    const index = model.blindIndexes[field];
    const source = index === undefined ? undefined : model.encrypted[index.source];
    if (index !== undefined && source !== undefined && data[index.source] !== undefined) {
      const plain = fieldPlainOf(source, data[index.source]);
      if (typeof plain !== 'string') return undefined; // null holds nothing
      const values = await liveValues(crypto, model, index, plain, scope);
      if (values === undefined) return undefined;
      where[field] = { in: values };
      versions = true;
      continue;
    }
    // Never an encrypted field's plaintext in a query (the generator keeps them out of uniques).
    if (model.encrypted[field] !== undefined) return undefined;
    const value = scalar(data[field]) ?? scalar(known?.[field]) ?? (field === model.scopeField ? scope : undefined);
    if (value === undefined) return undefined;
    where[field] = value;
  }
  return versions ? where : undefined;
}

/**
 * The index values of `plain` under every live version, or `undefined` when one version is
 * live (known without I/O while cached) or a per-scope index's scope is not known.
 */
async function liveValues(
  crypto: FieldCrypto,
  model: ModelMeta,
  index: BlindIndexMeta,
  plain: string,
  scope: string | undefined,
): Promise<string[] | undefined> {
  let values: string[];
  if (isPerScopeIndex(index)) {
    if (scope === undefined || crypto.cachedScopeIndexVersionCount(scope) === 1) return undefined;
    values = await crypto.blindIndexAll(blindIndexSpec(model, index), plain, scope);
  } else {
    if (crypto.cachedIndexVersionCount() === 1) return undefined;
    values = await crypto.blindIndexAll(blindIndexSpec(model, index), plain);
  }
  return values.length > 1 ? values : undefined;
}

/** The scope a write's data gives in the model's scope field (`default` for an unscoped model). */
export function givenScope(model: ModelMeta, data: Args): string | undefined {
  if (model.scopeField === undefined) return 'default';
  return stringOf(plainOf(data[model.scopeField]));
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
}

/** A scalar field's value as written (`{ set: v }` in an update), or `undefined`. */
function scalar(value: unknown): string | number | bigint | boolean | undefined {
  const plain = plainOf(value);
  return typeof plain === 'string' ||
    typeof plain === 'number' ||
    typeof plain === 'bigint' ||
    typeof plain === 'boolean'
    ? plain
    : undefined;
}

/** Whether `row` (its fields of `unique` read back) matches `held`'s filter. */
export function holds(held: Held, row: Args): boolean {
  return held.unique.fields.every((field) => {
    const wanted = held.where[field];
    const value = row[field];
    if (isPlainObject(wanted)) return (wanted.in as unknown[]).includes(value);
    return value !== null && value !== undefined && String(value) === String(wanted);
  });
}

/**
 * A unique where as a filter: a compound unique input (`provider_externalIdIdx: { ... }`),
 * which a filter does not take, spread into its fields.
 */
export function asWhereInput(model: ModelMeta, where: unknown): unknown {
  if (!isPlainObject(where)) return where;
  const out: Args = {};
  for (const [key, value] of Object.entries(where)) {
    if (!isLogicalKey(key) && model.fields[key] === undefined && isPlainObject(value)) Object.assign(out, value);
    else out[key] = value;
  }
  return out;
}
