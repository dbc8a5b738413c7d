/**
 * Updating a row already seen. The extension remembers the scope of rows this client recently
 * wrote or read ({@link KnownScopes}), so that an `update` whose where names only the id need
 * not read the row's scope first ({@link rememberedContext}), and checks the row such an
 * update returns ({@link checkGivenContext}).
 *
 * The remembered scope is a hint, never trusted: the update is sent with it added to its
 * where, so it only matches while the row still has that scope. When the row moved to another
 * scope (or was deleted), Prisma reports no record (P2025): the hint is dropped and the update
 * runs again the usual way, reading the row first. Bounded: the oldest entries go first. Holds
 * ids and scope values only, which are stored in plaintext in the database anyway, kept exactly
 * as the database returned them, so a where built from them matches the row exactly, whatever
 * the column's collation.
 *
 * The row the update returns is still checked, as a last line: should its id or scope differ
 * from what the values were sealed for (a row deleted and re-created under an id that a
 * case-insensitive collation deems equal), the written fields are sealed again for the row's
 * real id and scope and written back at once, only if they still hold what this update wrote
 * (compare-and-swap, so a concurrent writer is never overwritten).
 */
import { boundRowId } from '../../value-context';
import type { ModelMeta } from '../../metadata';
import type { DataEncryptor, RowContext } from './encrypt-data';
import { fieldPlainOf, plainOf } from './row-sealer';
import { storedValueFilter } from './row-reader';
import { isNullWrite } from '../../typed-values';
import { narrowed } from '../query/arg-shapes';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { type AnyClient, delegate, sideQuery } from '../transaction-context';

/** How many rows are remembered at most. */
export const KNOWN_SCOPES_MAX = 10_000;

/**
 * A scope value as the database returned it: a non-empty string or a safe integer (an `Int`
 * scope column must be compared with a number in a where), else `undefined`.
 */
export type ScopeValue = string | number;

/** `value` as a {@link ScopeValue} (also the row-id forms a where can name exactly), or `undefined`. */
export function scopeValue(value: unknown): ScopeValue | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return undefined;
}

/** Recently seen (model, row id) → scope value, exactly as the database returned both. */
export class KnownScopes {
  private readonly byRow = new Map<string, ScopeValue>();
  /**
   * The eviction's hand: an iterator over the keys, kept from one eviction to the next. Every
   * key it has passed was deleted (evicted, forgotten or re-inserted as the newest), so the next
   * one is the oldest. A new iterator per eviction would first step over every slot the `Map`
   * still keeps for a deleted key (V8 frees them only when it rehashes), thousands per call once
   * it is full.
   */
  private hand: Iterator<string> | undefined;

  constructor(private readonly max: number = KNOWN_SCOPES_MAX) {}

  /** Remembers that row `rowId` of `model` has scope `scope`. */
  remember(model: ModelMeta, rowId: string, scope: ScopeValue): void {
    const key = `${model.name}\u0000${rowId}`;
    this.byRow.delete(key); // re-inserted as the newest
    this.byRow.set(key, scope);
    if (this.byRow.size <= this.max) return;
    // Over the bound: the key just set is ahead of the hand, which never runs off the end.
    this.hand ??= this.byRow.keys();
    this.byRow.delete(this.hand.next().value as string);
  }

  /** The scope value last seen for the row, if remembered. */
  recall(model: ModelMeta, rowId: string): ScopeValue | undefined {
    return this.byRow.get(`${model.name}\u0000${rowId}`);
  }

  /** Drops what is remembered of the row. */
  forget(model: ModelMeta, rowId: string): void {
    this.byRow.delete(`${model.name}\u0000${rowId}`);
  }
}

/** An update sealed for the where's id and scope, to check against the row it returns. */
export interface GivenContext {
  readonly context: RowContext;
  /** The fields the check needs in the result (id and scope field). */
  readonly fields: readonly string[];
}

/** A where value usable as a row's id: a string or an integer, compared as a string. */
export function exactValue(value: unknown): string | undefined {
  const exact = scopeValue(value);
  return exact === undefined ? undefined : String(exact);
}

/**
 * The row context an update whose where names the id of a row in {@link KnownScopes} takes
 * from it, with the where narrowed to the remembered scope value (so it only matches while the
 * row still has it), or `undefined` when nothing is remembered of the row, the where names
 * another scope, or the update moves the row to another scope (then the row is read first).
 *
 * Only remembered values are used, never the caller's: they are the database's own forms of
 * the id and scope, so the values are sealed for exactly the row the where can match, and no
 * key is created for a scope no row has.
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
  // The where names the id; the value a `@encryption(bind: f)` model binds is not remembered.
  if (model.bindField !== undefined) return undefined;
  if (plainOf(data[scopeField]) !== undefined) return undefined;
  const rowId = exactValue(where[id]);
  const scope = rowId === undefined ? undefined : known.recall(model, rowId);
  if (rowId === undefined || scope === undefined) return undefined;
  const named = where[scopeField];
  if (named !== undefined && named !== scope) return undefined;
  return {
    given: { context: { scope: String(scope), rowId: model.bindRowId ? rowId : undefined }, fields: [id, scopeField] },
    where: named === undefined ? narrowed(where, { [scopeField]: scope }) : where,
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
  const actual: RowContext = {
    scope: model.scopeField === undefined ? 'default' : String(row[model.scopeField]),
    rowId: boundRowId(model, row),
  };
  // An unbound row's context carries its id as a stand-in (rows created under it take it), but
  // nothing binds it: only a bound row's id (or bound value) must match.
  const sameRow = !model.bindRowId || actual.rowId === given.context.rowId;
  if (actual.scope === given.context.scope && sameRow) return;
  const plain: Args = {};
  const written: Args = {};
  for (const meta of view.writePlan(model).encrypted) {
    // only envelopes were bound (readonly fields are written as plaintext, never compared in SQL)
    const value = fieldPlainOf(meta, sent[meta.name]);
    if (meta.mode === 'readonly' || value === undefined || isNullWrite(meta, value)) continue;
    plain[meta.name] = data[meta.name];
    written[meta.name] = value;
  }
  if (Object.keys(written).length === 0) return;
  // The row holds none of the envelopes sent (an upsert that created it, or another writer's
  // values): nothing of this write to re-seal, no query needed. Compared on text envelopes
  // only; with typed values the conditional update below decides.
  const values = Object.entries(written);
  // A field the caller's select leaves out tells nothing: the conditional update below decides.
  if (values.every(([name, value]) => typeof value === 'string' && name in row && row[name] !== value)) return;
  const resealed = await options.encryptor.update(model, plain, actual, 'update');
  // A Json or list field is compared through `equals` (a Json field takes no bare value).
  const where: Args = {};
  for (const [name, value] of Object.entries(written))
    where[name] = storedValueFilter(view.encrypted(model, name)!, value);
  for (const field of given.fields) where[field] = row[field];
  const { count } = (await sideQuery(options.base, (client) =>
    delegate(client, view.delegateName(model)).updateMany({ where, data: resealed }),
  )) as { count: number };
  // Nothing written back (another writer's values, or an upsert that created the row): the row keeps its own.
  if (count === 0) return;
  for (const name of Object.keys(written)) {
    const value = fieldPlainOf(view.encrypted(model, name)!, resealed[name]);
    if (name in row) row[name] = value;
  }
}
