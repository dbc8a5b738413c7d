/**
 * The rows a `createMany` with `skipDuplicates` will skip. Every row is sent sealed, and the
 * database skips those that repeat a unique value of a row already there. A skipped row of a
 * `scope: id` model that leaves its id to the default was sealed for a freshly generated id: a
 * scope key for an id no row will ever have, per skipped row and call (a seed script run on
 * every deploy). Such a row stands in for the row whose unique value it repeats, and takes that
 * row's id (see {@link ExistingRow}): it is skipped all the same, and sealed under a key there is.
 *
 * Matched on single-field unique constraints of plain fields (`@unique`; not encrypted fields,
 * whose values are never sent in a where, nor blind indexes). A row repeating only a compound
 * unique, or a value the database compares differently (a case-insensitive collation), takes
 * a fresh id and makes a key, as before.
 */
import type { ModelMeta } from '../../metadata';
import { generatedLength } from '../../id-generation';
import type { ExistingRow } from './relation-scope';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';

/** How many values one read's `in` list holds, far below every database's parameter limit. */
const CHUNK = 1000;

/** Reads `fields` of the rows `where` matches. */
export type RowsReader = (model: ModelMeta, where: Args, fields: readonly string[]) => Promise<Args[]>;

/**
 * The row each of `rows` (a `createMany`'s data) stands in for, by index, read on first use
 * with one query per {@link CHUNK} values; `undefined` when no row of `model` can stand in
 * (its scope is not its id, generated on the client, or it has no plain unique field).
 */
export function skippedRows(
  view: SchemaView,
  model: ModelMeta,
  rows: readonly unknown[],
  read: RowsReader,
): ((index: number) => ExistingRow) | undefined {
  const id = view.idField(model);
  const generated = generatedLength(model.idGeneration) !== undefined;
  if (id === undefined || model.scopeField !== id || !generated) return undefined;
  const uniques = Object.values(model.fields)
    .filter((field) => field.isUnique === true && field.name !== id)
    .map((field) => field.name)
    .filter((name) => model.encrypted[name] === undefined && model.blindIndexes[name] === undefined);
  if (uniques.length === 0) return undefined;
  let found: Promise<(Args | undefined)[]> | undefined;
  const matches = () => (found ??= matchRows(model, rows, id, uniques, read));
  return (index) => async (field) => (await matches())[index]?.[field];
}

/** For each row, the stored row that holds one of its unique values, if any. */
async function matchRows(
  model: ModelMeta,
  rows: readonly unknown[],
  id: string,
  uniques: readonly string[],
  read: RowsReader,
): Promise<(Args | undefined)[]> {
  // A row that gives its id stands in for nothing: it is sealed for that id.
  const open = rows.filter((row) => isPlainObject(row) && row[id] === undefined);
  const stored = new Map<string, Map<string, Args>>();
  for (const field of uniques) {
    const values = [...new Set(open.map((row) => exactScalar(row, field)).filter((v) => v !== undefined))];
    const byValue = new Map<string, Args>();
    for (let start = 0; start < values.length; start += CHUNK) {
      const found = await read(model, { [field]: { in: values.slice(start, start + CHUNK) } }, [id, field]);
      for (const row of found) byValue.set(String(row[field]), row);
    }
    stored.set(field, byValue);
  }
  return rows.map((row) => {
    for (const field of uniques) {
      const value = exactScalar(row, field);
      const match = value === undefined ? undefined : stored.get(field)?.get(String(value));
      if (match !== undefined) return match;
    }
    return undefined;
  });
}

/** The string or number a row's data gives `field` outright, else `undefined`. */
function exactScalar(row: unknown, field: string): string | number | bigint | undefined {
  if (!isPlainObject(row)) return undefined;
  const value = row[field];
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? value : undefined;
}
