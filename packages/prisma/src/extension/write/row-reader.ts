/**
 * The extension's own reads of a row before writing it: the id and scope an update needs to
 * encrypt (read only when the model is bound or scoped and the write touches encrypted
 * fields or the scope), and the index value a unique input must name during an index-key
 * rotation. They run in the caller's interactive transaction when there is one.
 */
import { Buffer } from 'node:buffer';
import { DbNull } from '@prisma/client/runtime/client';
import { boundField, boundRowId } from '../../value-context';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { storedForm } from './canonical-values';
import { isPrismaNull } from '../../typed-values';
import type { ResultDecryptor } from '../read/decrypt-result';
import type { RowContext } from './encrypt-data';
import { plainOf } from './row-sealer';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { type AnyClient, delegate, sideQuery } from '../transaction-context';

/**
 * A where condition no row of `model` meets (its id, or without a single id field its scope or
 * bound field, in an empty list), or `undefined` on a model with none of them.
 */
export function noRowCondition(view: SchemaView, model: ModelMeta): Args | undefined {
  const field = view.idField(model) ?? model.scopeField ?? boundField(model);
  return field === undefined ? undefined : { [field]: { in: [] } };
}

/** Reads what encryption needs from existing rows. */
export class RowReader {
  constructor(
    private readonly view: SchemaView,
    private readonly decryptor: ResultDecryptor,
    private readonly base: AnyClient,
  ) {}

  /**
   * Bound value and scope of the row a nested write's unique where names (read unless the model
   * is neither bound nor scoped), with the {@link RowGuard} of what was read.
   */
  async nestedContext(model: ModelMeta, where: Args): Promise<RowContext> {
    // An unbound, unscoped model needs nothing of the row; a bound one reads its bound value, as
    // stored (a where can match a form the database does not hold: a case-insensitive collation).
    if (model.scopeField === undefined && boundField(model) === undefined) {
      return { scope: 'default', rowId: this.givenId(model, where) };
    }
    const row = await this.read(model, where, this.idAndScope(model));
    if (row !== null) return this.guardedContextOf(model, row);
    // Prisma reports the missing row; one created in between must not take values sealed for none.
    const values = this.nothing(model);
    // A copy: the caller may narrow `where` itself before the write.
    return { scope: 'default', missing: true, guard: values && { values, row: { ...where }, absent: true } };
  }

  /** The id a where names, as a string, when it names one. */
  private givenId(model: ModelMeta, where: Args): string | undefined {
    const id = this.view.idField(model);
    return id !== undefined && typeof where[id] === 'string' ? (where[id] as string) : undefined;
  }

  private nothing(model: ModelMeta): Args | undefined {
    return noRowCondition(this.view, model);
  }

  /**
   * The id and scope of the one row an update or upsert touches, read only when needed (the
   * model is bound or scoped and encrypted fields or the scope field are written). When the
   * scope changes, the row's other encrypted values are decrypted and re-encrypted under the
   * new scope, in the same update.
   *
   * When a row was read, `guard` holds the id (of a bound model) and the scope value it had,
   * exactly as the database returned them: the write must add it to its where, so that it
   * matches nothing (rather than sealing under the old scope) should another client move the
   * row between this read and the write. When the read found no row, `absent` is set and
   * `guard` matches none: a row another client creates meanwhile is not given values sealed
   * for none.
   */
  async context(
    model: ModelMeta,
    where: Args,
    data: unknown,
  ): Promise<{ row: RowContext; data: unknown; guard?: Args; carried?: Args; absent?: true }> {
    if (!isPlainObject(data)) return { row: { scope: 'default' }, data };
    const scopeField = model.scopeField;
    const movesScope = scopeField !== undefined && plainOf(data[scopeField]) !== undefined;
    const writes = Object.keys(model.encrypted).some((name) => data[name] !== undefined);
    if (!writes && !movesScope) return { row: { scope: 'default' }, data };
    if (!model.bindRowId && scopeField === undefined) return { row: { scope: 'default' }, data };
    // The new scope is checked (a value its column would not return as written is refused) before the read.
    const given = movesScope ? plainOf(data[scopeField as string]) : undefined;
    const newScope =
      given === undefined
        ? undefined
        : typeof given === 'string'
          ? storedForm(model, scopeField as string, given)
          : String(given);
    const select = this.idAndScope(model);
    if (movesScope) for (const name of Object.keys(model.encrypted)) select[name] = true;
    const row = await this.read(model, where, select);
    if (row === null) {
      // Prisma reports the missing row; one created in between must not take values sealed for none.
      const nothing = this.nothing(model);
      return { row: { scope: newScope ?? 'default' }, data, absent: true, ...(nothing && { guard: nothing }) };
    }
    const current = this.contextOf(model, row);
    const guard = this.guardOf(model, row);
    if (newScope === undefined || newScope === current.scope) return { row: current, data, guard };
    // Every value is written back under the new scope: one that fails to decrypt must stop the
    // write, never be written back as null over what is stored. An update must also still find
    // the envelopes it read (`carried`, added to its guard: see {@link updateGuard}): a write of
    // those fields in between (another client's, or an earlier one of the same batch) would
    // otherwise be undone by the old values written back.
    const carried = this.carriedGuard(model, data, row);
    await this.decryptor.decryptOrThrow(model, row);
    const moved: Args = { ...data };
    for (const name of Object.keys(model.encrypted)) if (moved[name] === undefined) moved[name] = row[name];
    return { row: { ...current, scope: newScope }, data: moved, guard, carried };
  }

  /**
   * The envelopes, as read, of the encrypted fields a scope move writes back without the caller
   * giving them, in the form a where compares them (see {@link storedValueFilter}).
   */
  private carriedGuard(model: ModelMeta, data: Args, row: Args): Args {
    const carried: Args = {};
    for (const meta of Object.values(model.encrypted)) {
      const value = row[meta.name];
      if (data[meta.name] !== undefined || value === undefined) continue;
      // A list read empty may be SQL NULL or '{}' (Prisma reads both as []); one filter cannot
      // match both, so it is not compared (a list written in between is then undone).
      if (meta.type === 'String[]' && Array.isArray(value) && value.length === 0) continue;
      carried[meta.name] = storedValueFilter(meta, value);
    }
    return carried;
  }

  /**
   * Whether the row `where` names no longer has the values of `guard` (see {@link context}):
   * then a write narrowed to `guard` found nothing because the row moved, not because it is
   * gone or something else failed. A missing row is not a moved one; with `absent` (the first
   * read found no row), a row found now is.
   */
  async moved(model: ModelMeta, where: Args, guard: Args, absent = false): Promise<boolean> {
    const select = this.idAndScope(model);
    for (const field of Object.keys(guard)) select[field] = true;
    const row = await this.read(model, where, select);
    if (row === null) return false;
    // A row the first read did not find has been created since.
    if (absent) return true;
    return Object.entries(guard).some(([field, value]) => !sameValue(row[field], value));
  }

  /** The read values a write sealed for them must still find: the scope value, and a bound row's bound value. */
  private guardOf(model: ModelMeta, row: Args): Args | undefined {
    const guard: Args = {};
    const bound = boundField(model);
    if (bound !== undefined && row[bound] != null) guard[bound] = row[bound];
    if (model.scopeField !== undefined) guard[model.scopeField] = row[model.scopeField];
    return Object.keys(guard).length === 0 ? undefined : guard;
  }

  /**
   * Id and scope of the row the to-one `relation` of the row `where` names points to, or
   * `undefined`, with the {@link RowGuard} of what was read.
   */
  async relatedContext(
    model: ModelMeta,
    where: Args,
    relation: string,
    target: ModelMeta,
  ): Promise<RowContext | undefined> {
    const parent = await this.read(model, where, { [relation]: { select: this.idAndScope(target) } });
    const child = parent?.[relation];
    return isPlainObject(child) ? this.guardedContextOf(target, child) : undefined;
  }

  /**
   * {@link RowReader.contextOf}, with the guard a write sealed for it adds to its where: the
   * scope value, and the id whether or not the model is bound (a to-one row found through its
   * parent is the parent's no longer when the parent was pointed at another row meanwhile).
   */
  private guardedContextOf(model: ModelMeta, row: Args): RowContext {
    const id = this.view.idField(model);
    const named = id !== undefined && row[id] != null ? { [id]: row[id] } : undefined;
    const values = { ...this.guardOf(model, row), ...named };
    if (Object.keys(values).length === 0) return this.contextOf(model, row);
    return { ...this.contextOf(model, row), guard: { values, row: named } };
  }

  /** `fields` of the row a (rewritten) unique where names, or `null`: the value a related create takes. */
  fields(model: ModelMeta, where: Args, fields: readonly string[]): Promise<Args | null> {
    return this.read(model, where, Object.fromEntries(fields.map((field) => [field, true])));
  }

  /** What a row's context is read from: its id, its bound field, its scope field. */
  private idAndScope(model: ModelMeta): Args {
    const select: Args = {};
    const id = this.view.idField(model);
    if (id !== undefined) select[id] = true;
    const bound = boundField(model);
    if (bound !== undefined) select[bound] = true;
    if (model.scopeField !== undefined) select[model.scopeField] = true;
    return select;
  }

  private contextOf(model: ModelMeta, row: Args): RowContext {
    const idField = this.view.idField(model);
    const id = idField !== undefined && row[idField] != null ? String(row[idField]) : undefined;
    const bound = boundField(model);
    // An unbound row's id stands in: nothing binds it, and rows created under this one take it.
    const rowId = bound === undefined || bound === idField ? id : boundRowId(model, row);
    return { scope: model.scopeField === undefined ? 'default' : String(row[model.scopeField]), rowId, id };
  }

  private read(model: ModelMeta, where: Args, select: Args): Promise<Args | null> {
    return sideQuery(this.base, (client) =>
      delegate(client, this.view.delegateName(model)).findUnique({ where, select }),
    ) as Promise<Args | null>;
  }

  /**
   * During an index rotation: the index value a unique input must name (the row's own), else
   * the current one. `also`: the other parts of a compound unique input, which the row holds too.
   */
  async storedIndexValue(
    model: ModelMeta,
    column: string,
    candidates: readonly string[],
    also: Args = {},
  ): Promise<string> {
    const row = (await sideQuery(this.base, (client) =>
      delegate(client, this.view.delegateName(model)).findFirst({
        where: { ...also, [column]: { in: candidates } },
        select: { [column]: true },
      }),
    )) as Args | null;
    return typeof row?.[column] === 'string' ? (row[column] as string) : candidates[0];
  }
}

/**
 * The where filter matching exactly the stored value `value` of the encrypted field `meta`: the
 * value itself for text and `Bytes`; `equals` for a `Json` field (which takes no bare value, and
 * SQL NULL as `Prisma.DbNull`) and a list (`isEmpty` for an empty one, which `equals` misses on
 * PostgreSQL).
 */
export function storedValueFilter(meta: EncryptedFieldMeta, value: unknown): unknown {
  if (meta.type === undefined || (meta.type === 'Bytes' && value === null)) return value;
  if (meta.type === 'String[]' && Array.isArray(value) && value.length === 0) return { isEmpty: true };
  return { equals: value === null && meta.type === 'Json' ? DbNull : value };
}

/**
 * Whether a value read now is the one a guard holds: a plain value, or an `equals` filter of
 * {@link storedValueFilter} (a guard never holds its `isEmpty`: a list read empty is not compared).
 */
function sameValue(read: unknown, guarded: unknown): boolean {
  const expected = isPlainObject(guarded) && 'equals' in guarded ? guarded.equals : guarded;
  if (isPrismaNull(expected, 'DbNull')) return read === null;
  if (read instanceof Uint8Array)
    return expected instanceof Uint8Array && Buffer.compare(Buffer.from(read), Buffer.from(expected)) === 0;
  if (Array.isArray(read)) return JSON.stringify(read) === JSON.stringify(expected);
  return String(read) === String(expected);
}

/**
 * The guard an update (not an upsert) of a row read by {@link RowReader.context} is narrowed to:
 * its id and scope, and for a scope move the envelopes it carries to the new scope. An upsert
 * takes the id and scope alone: narrowed to envelopes that changed, it would create a row.
 */
export function updateGuard(context: { guard?: Args; carried?: Args }): Args | undefined {
  return context.carried === undefined || context.guard === undefined
    ? context.guard
    : { ...context.guard, ...context.carried };
}
