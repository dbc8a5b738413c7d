/**
 * A top-level `update` whose unique where already names the row's id (bound models) and scope
 * (scoped models), e.g. `where: { id, tenantId }`, needs no read of the row before it is
 * written: its values are sealed for the id and scope the where gives.
 *
 * The database decides which row that where matches, and it may compare more loosely than
 * the associated data does (a case-insensitive collation, a `uuid` column accepting upper
 * case). So the row the update returns is checked: when its id or scope differ from what the
 * values were sealed for, the written fields are sealed again for the row's real id and scope
 * and written back at once, only if they still hold what this update wrote (compare-and-swap,
 * so a concurrent writer is never overwritten). The caller gets its plaintext either way.
 */
import type { ModelMeta } from '../metadata';
import type { DataEncryptor, RowContext } from './encrypt-data';
import { plainOf } from './encrypt-data';
import type { KnownScopes } from './known-scopes';
import { asList } from './query-guard';
import { type Args, isPlainObject, type SchemaView } from './schema-view';
import { type AnyClient, delegate, sideQuery } from './side-channel';

/** An update sealed for the where's id and scope, to check against the row it returns. */
export interface GivenContext {
  readonly context: RowContext;
  /** The fields the check needs in the result (id and scope field). */
  readonly fields: readonly string[];
}

/** A where value usable as a row's id or scope: a string or an integer, compared as a string. */
export function exactValue(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/**
 * The row context an update's where gives, or `undefined` when the row must be read (the where
 * lacks the id or the scope, or the update moves the row to another scope).
 */
export function givenContext(view: SchemaView, model: ModelMeta, where: unknown, data: unknown): GivenContext | undefined {
  if (!isPlainObject(where) || !isPlainObject(data)) return undefined;
  const fields: string[] = [];
  let rowId: string | undefined;
  if (model.bindRowId) {
    const id = view.idField(model);
    rowId = id === undefined ? undefined : exactValue(where[id]);
    if (id === undefined || rowId === undefined) return undefined;
    fields.push(id);
  }
  let scope = 'default';
  if (model.scopeField !== undefined) {
    if (plainOf(data[model.scopeField]) !== undefined) return undefined; // a scope move re-encrypts the row
    const given = exactValue(where[model.scopeField]);
    if (given === undefined) return undefined;
    scope = given;
    fields.push(model.scopeField);
  }
  return { context: { scope, rowId }, fields };
}

/**
 * The row context an update whose where names only the id takes from {@link KnownScopes}, with
 * the where narrowed to that scope (so it only matches while the row still has it), or
 * `undefined` when nothing is remembered of the row or it must be read (a scope move).
 */
export function rememberedContext(
  view: SchemaView,
  model: ModelMeta,
  where: unknown,
  data: unknown,
  known: KnownScopes,
): { given: GivenContext; where: Args } | undefined {
  const id = view.idField(model);
  const scopeField = model.scopeField;
  if (id === undefined || scopeField === undefined || !isPlainObject(where) || !isPlainObject(data)) return undefined;
  if (plainOf(data[scopeField]) !== undefined || where[scopeField] !== undefined) return undefined;
  const rowId = exactValue(where[id]);
  const scope = rowId === undefined ? undefined : known.recall(model, rowId);
  if (rowId === undefined || scope === undefined) return undefined;
  return {
    given: { context: { scope, rowId: model.bindRowId ? rowId : undefined }, fields: [id, scopeField] },
    where: { ...where, AND: [...asList(where.AND), { [scopeField]: scope }] },
  };
}

/**
 * Checks the row an update returned against the context its values were sealed for; on a
 * mismatch re-seals the written encrypted fields for the row's real id and scope, writes them
 * if they are still this update's, and puts the new envelopes into `row` (so the caller's
 * result decrypts to its plaintext).
 */
export async function checkGivenContext(options: {
  view: SchemaView;
  base: AnyClient;
  encryptor: DataEncryptor;
  model: ModelMeta;
  given: GivenContext;
  /** The update's plaintext data and what was sent in its place. */
  data: Args;
  sent: Args;
  row: unknown;
}): Promise<void> {
  const { view, model, given, data, sent, row } = options;
  if (!isPlainObject(row)) return;
  const id = view.idField(model);
  const actual: RowContext = {
    scope: model.scopeField === undefined ? 'default' : String(row[model.scopeField]),
    rowId: model.bindRowId && id !== undefined ? String(row[id]) : undefined,
  };
  if (actual.scope === given.context.scope && actual.rowId === given.context.rowId) return;
  const plain: Args = {};
  const written: Args = {};
  for (const meta of view.writePlan(model).encrypted) {
    // only envelopes were bound (readonly fields are written as plaintext, never compared in SQL)
    const value = plainOf(sent[meta.name]);
    if (meta.mode === 'readonly' || typeof value !== 'string') continue;
    plain[meta.name] = data[meta.name];
    written[meta.name] = value;
  }
  if (Object.keys(written).length === 0) return;
  const resealed = await options.encryptor.update(model, plain, actual, 'update');
  const where: Args = { ...written };
  for (const field of given.fields) where[field] = row[field];
  await sideQuery(options.base, (client) => delegate(client, view.delegateName(model)).updateMany({ where, data: resealed }));
  for (const name of Object.keys(written)) {
    const value = plainOf(resealed[name]);
    if (name in row) row[name] = value;
  }
}
