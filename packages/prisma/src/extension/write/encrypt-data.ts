/**
 * Encrypts write data on the way in: create/update data and every nested write under a
 * relation (`nested-writes.ts`). One `RowEncryptor` (one fresh DEK) per row written, under the
 * row's scope (`row-sealer.ts` seals it and computes its blind indexes from the plaintext);
 * bound models get a client-side id so the ciphertext can name it. Null stays null.
 *
 * `readonly` fields are written as plaintext (the way out of encryption) but their blind
 * indexes are still maintained, so equality lookups keep working across rows written before
 * and after the switch.
 */
import { boundField } from '../../value-context';
import { type FieldCrypto, settleAll } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import { storedForm } from './canonical-values';
import { isComputedPlaceholder } from '../computed-index';
import { nulInBound, unsupported } from '../messages';
import { nestedCreates } from '../query/arg-shapes';
import { NestedWrites } from './nested-writes';
import {
  CreateDraft,
  type ExistingRow,
  type RelatedRow,
  type RowServices,
  scopeString,
  UpdatedRow,
} from './relation-scope';
import type { Position } from '../query/rewrite-where';
import { type CreatedRow, hasPerScopeUnique, indexedUniques, writesIndexedUnique } from './indexed-uniques';
import { plainOf, RowSealer } from './row-sealer';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import type { WrittenEnvelopes } from './written-envelopes';

/** What the encryptor knows about the row being written. */
export interface RowContext {
  /** The scope key to use (`default` for unscoped models). */
  readonly scope: string;
  /**
   * The value bound into the associated data when the model is bound: its bound field's (see
   * `boundField`: the id, or the field `@encryption(bind: f)` names); the id otherwise.
   */
  readonly rowId?: string;
  /** The row's single id as read (as a string), when the context was read from the row. */
  readonly id?: string;
  /**
   * Set when the context was read from the row before the write (see {@link RowGuard}): what
   * was read, or, when the read found no row, a guard that matches no row.
   */
  readonly guard?: RowGuard;
  /** The read found no row: the scope is `default` and nothing was read. */
  readonly missing?: true;
}

/**
 * What a write sealed for a row read beforehand adds to its where, so that it matches nothing
 * (rather than leave values sealed under the old scope) should another client move the row
 * between the read and the write, or create it when the read found none.
 */
export interface RowGuard {
  /**
   * The stored scope value, and a bound row's id, exactly as the database returned them (or
   * any other column the write's values were derived from); with `absent`, a condition no row meets.
   */
  readonly values: Args;
  /** A unique where naming the row wherever it moved, to tell a moved row from a gone one. */
  readonly row?: Args;
  /** The read found no row: a row that `row` finds now was created since. */
  readonly absent?: true;
}

/** A nested update of a unique constraint's values (see {@link DataEncryptor.updatedNested}). */
export interface NestedUpdate {
  readonly model: ModelMeta;
  /** Its data as given (plaintext). */
  readonly data: Args;
  /**
   * A filter (rewritten) for the rows it updates: its where, and the link to the parent row;
   * `undefined` when they cannot be named (then every row holding its values is a holder).
   */
  readonly where?: Args;
  /** The updated row's scope, when it was read (a per-scope index is checked under it). */
  readonly scope?: string;
}

/** A write narrowed by a {@link RowGuard}: the model of the row, and the guard. */
export interface GuardedWrite {
  readonly model: ModelMeta;
  readonly guard: RowGuard;
}

/** Reads what a nested update needs (id and scope) of the row a unique where names. */
export type RowContextResolver = (model: ModelMeta, where: Args, operation: string) => Promise<RowContext>;

/**
 * Finds the row a to-one relation of the row being updated points to (nested `update` or
 * `upsert` without a unique where), by reading the parent. Only the top-level row can do it.
 */
export type RelatedLocator = (relation: string, target: ModelMeta) => Promise<RowContext | undefined>;

/** Rewrites a where clause (see `rewrite-where.ts`). */
export type WhereRewrite = (model: ModelMeta, where: unknown, position: Position) => Promise<unknown>;

/** Reads `fields` of the row a rewritten unique where names (see `relation-scope.ts`). */
export type FieldReader = (model: ModelMeta, where: Args, fields: readonly string[]) => Promise<Args | null>;

/** Encrypts write data; stateless apart from its collaborators. */
export class DataEncryptor {
  private readonly services: RowServices;
  private readonly sealer: RowSealer;
  private readonly nested: NestedWrites;
  /**
   * The rows this encryptor narrowed a write to, as read (a nested update's scope and id, an
   * updated row's value a create under it took): when the write then reports "not found", the
   * caller reads them again to tell a moved row (send the write again) from a missing one.
   */
  readonly guarded: GuardedWrite[] = [];
  /**
   * The rows this encryptor's write creates (a connectOrCreate's and a nested upsert's with the
   * where that must find no row; not a top-level upsert's), of models with a unique constraint
   * on a blind index: checked for a duplicate held under another live key version before the
   * write is sent (`unique-across-versions.ts`).
   */
  readonly created: CreatedRow[] = [];
  /**
   * The scopes of the rows this encryptor's write updates (at any depth) with a value of a
   * unique constraint holding a per-scope index: such an update is checked across the scope's
   * live key versions once its scope is known (`unique-across-versions.ts`).
   */
  readonly updatedScopes: { readonly model: ModelMeta; readonly scope: string }[] = [];
  /**
   * The rows this encryptor's write updates under a relation (a nested update, updateMany or
   * upsert's update) with a value of a unique constraint holding a blind index: checked across
   * the live key versions before the write is sent (`unique-across-versions.ts`).
   */
  readonly updatedNested: NestedUpdate[] = [];
  /**
   * The data lists of this encryptor's nested `createMany`s with `skipDuplicates` (their rows
   * are in {@link created}, marked `skip`): rows held under another live key version are
   * dropped from them ({@link DataEncryptor.dropCreated}).
   */
  readonly skipLists: unknown[][] = [];

  /**
   * @param written - receives every envelope sealed, so the write's own result need not
   *   decrypt it again
   */
  constructor(
    private readonly view: SchemaView,
    crypto: FieldCrypto,
    rewrite: WhereRewrite,
    resolveRow: RowContextResolver,
    written?: WrittenEnvelopes,
    readFields?: FieldReader,
    /** Why the database cannot store text holding U+0000 as written (see `nulRefusal`), if it cannot. */
    private readonly nulRefused?: string,
  ) {
    this.services = {
      view,
      prepare: withoutPlaceholders,
      rewrite,
      read: readFields ?? (async () => null),
      guard: (model, guard) => this.guarded.push({ model, guard }),
    };
    this.sealer = new RowSealer(view, crypto, written);
    this.nested = new NestedWrites(view, this, this.services, rewrite, resolveRow);
  }

  /**
   * The row a create's `data` makes, for {@link DataEncryptor.create} and for an upsert's update to fall back on.
   * @param existing - the row an upsert found to update, which its create stands in for
   */
  draft(model: ModelMeta, data: Args, existing?: ExistingRow): CreateDraft {
    return new CreateDraft(model, data, this.services, undefined, existing);
  }

  /**
   * A create's data: id generated for bound models, scope from the scope field or, when the
   * data does not give it, from the related rows (see `relation-scope.ts`). A top-level
   * create knows every scope of its nested creates before it seals anything.
   * @param unless - for a row created only when a row is not found: the where (rewritten) that
   *   must find none (a connectOrCreate's, a nested upsert's), kept in {@link created} with it;
   *   `true` when there is none to ask (a top-level upsert's create, checked on its own): then
   *   not in {@link created}; `'skip'` for a row of a nested createMany with `skipDuplicates`,
   *   kept in {@link created} to be dropped rather than refused
   * @throws InvalidArgumentError when a row's scope cannot be known
   */
  async create(
    model: ModelMeta,
    data: unknown,
    draft?: CreateDraft,
    nested = false,
    unless?: Args | true | 'skip',
  ): Promise<Args> {
    if (!isPlainObject(data)) return data as Args;
    const row = draft ?? this.draft(model, data);
    const out = row.data;
    const relations = this.writesRelations(model, out);
    if (!nested && relations) await this.knowScopes(row);
    if (this.writesEncrypted(model, data)) {
      const scope = this.givenScope(model, out) ?? (await row.scope());
      const context = { scope, rowId: await this.ensureBound(model, out, row) };
      const pending = this.sealer.seal(model, out, context);
      if (pending !== undefined) await pending;
      if (unless !== true && indexedUniques(model).length > 0) {
        const when = unless === undefined ? {} : unless === 'skip' ? { skip: true as const } : { unless };
        this.created.push({ model, data, scope, out, ...when });
      }
    } else if (this.touchesEncrypted(model, data)) {
      const pending = this.sealer.seal(model, out, { scope: 'default' });
      if (pending !== undefined) await pending;
    }
    if (relations) await this.nested.write(model, out, undefined, row);
    return out;
  }

  /** Resolves the scope of every row `row` creates (itself and nested creates at any depth) that writes a value. */
  private async knowScopes(row: RelatedRow): Promise<void> {
    const pending: Promise<unknown>[] = [];
    if (
      row instanceof CreateDraft &&
      this.writesEncrypted(row.model, row.data) &&
      this.givenScope(row.model, row.data) === undefined
    ) {
      pending.push(row.scope());
    }
    const data = row instanceof CreateDraft ? row.data : undefined;
    for (const { name, list } of data === undefined ? [] : this.view.writePlan(row.model).relations) {
      const ops = (data as Args)[name];
      if (!isPlainObject(ops)) continue;
      for (const item of nestedCreates(ops, list)) {
        pending.push(this.knowScopes(row.child(name, item.data, item.existing)));
      }
    }
    await settleAll(pending);
  }

  /** Resolves the scopes of the rows an update's nested creates make under `row`. */
  private async knowNestedScopes(row: RelatedRow, data: Args): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const { name, list } of this.view.writePlan(row.model).relations) {
      const ops = data[name];
      if (!isPlainObject(ops)) continue;
      for (const item of nestedCreates(ops, list)) {
        pending.push(this.knowScopes(row.child(name, item.data, item.existing)));
      }
    }
    await settleAll(pending);
  }

  /**
   * An update's data for one row whose context (scope, id) the caller resolved. `row` is the
   * updated row as the parent of the update's nested creates (where they take their scope).
   * @throws UnsupportedQueryError when `data` changes the field a bound model's values are bound to.
   */
  async update(
    model: ModelMeta,
    data: unknown,
    context: RowContext | undefined,
    operation: string,
    locate?: RelatedLocator,
    row?: RelatedRow,
  ): Promise<Args> {
    if (!isPlainObject(data)) return data as Args;
    const out = withoutPlaceholders(model, data);
    const relations = this.writesRelations(model, out);
    const self = row ?? new UpdatedRow(model, this.services);
    const bound = boundField(model);
    if (bound !== undefined && data[bound] !== undefined && context?.rowId !== undefined) {
      if (plainOf(data[bound]) !== context.rowId) throw unsupported('rekeyMany', model.name, bound, operation);
    }
    if (this.writesEncrypted(model, data) && context === undefined) {
      const field = Object.keys(model.encrypted).find((name) => data[name] !== undefined) as string;
      throw unsupported('rowContext', model.name, field, operation);
    }
    if (relations) await this.knowNestedScopes(self, out);
    if (context !== undefined && hasPerScopeUnique(model) && writesIndexedUnique(model, data)) {
      this.updatedScopes.push({ model, scope: context.scope });
    }
    if (this.touchesEncrypted(model, data)) await this.sealer.seal(model, out, context ?? { scope: 'default' });
    if (relations) await this.nested.write(model, out, locate, self);
    return out;
  }

  /** Drops `dropped` (rows {@link created} marked `skip`) from the lists of {@link skipLists}. */
  dropCreated(dropped: ReadonlySet<Args>): void {
    for (const list of this.skipLists) {
      for (let i = list.length - 1; i >= 0; i--) if (dropped.has(list[i] as Args)) list.splice(i, 1);
    }
  }

  /** A row being updated, as the parent of its nested creates: `where` names it (rewritten). */
  updatedRow(model: ModelMeta, where: unknown, fallback?: CreateDraft): UpdatedRow {
    return new UpdatedRow(model, this.services, { where: isPlainObject(where) ? where : undefined, fallback });
  }

  /**
   * Whether `data` writes a non-null value that needs the row's scope: to an encrypted (not
   * `readonly`) field (a DEK is needed), or to any source of a per-scope blind index.
   */
  writesEncrypted(model: ModelMeta, data: Args): boolean {
    return this.sealer.writesEncrypted(model, data);
  }

  /** Whether `data` writes an encrypted field at all (null included: its blind index follows). */
  touchesEncrypted(model: ModelMeta, data: Args): boolean {
    return this.sealer.touchesEncrypted(model, data);
  }

  /** Whether `data` writes under a sensitive relation (a nested write to walk). */
  private writesRelations(model: ModelMeta, data: Args): boolean {
    for (const { name } of this.view.writePlan(model).relations) if (isPlainObject(data[name])) return true;
    return false;
  }

  /** Whether a write to `model` must know the row (bound id or scope field) to encrypt. */
  needsRowContext(model: ModelMeta): boolean {
    return model.bindRowId || model.scopeField !== undefined;
  }

  /** The scope of a row being created when its data gives it (or the model has none), else `undefined`. */
  private givenScope(model: ModelMeta, data: Args): string | undefined {
    if (model.scopeField === undefined) return 'default';
    return scopeString(model, model.scopeField, plainOf(data[model.scopeField]));
  }

  /**
   * The scopes `rows` (creates of `model`) give in their scope field, for those that write an
   * encrypted value: what a `createMany` can look up together before sealing its rows.
   * @throws InvalidArgumentError for a value its column would not hold as written (see
   *   `storedForm`): here, before any row is sealed and any scope key is made for one
   */
  givenScopes(model: ModelMeta, rows: readonly unknown[]): Set<string> {
    const scopes = new Set<string>();
    if (model.scopeField === undefined) return scopes;
    for (const row of rows) {
      if (!isPlainObject(row) || !this.writesEncrypted(model, row)) continue;
      const scope = this.givenScope(model, row);
      if (scope !== undefined) scopes.add(scope);
    }
    return scopes;
  }

  /**
   * The value a row being created binds its values to (its id, or the field `@encryption(bind: f)`
   * names): given, else generated and written into `data`, else the related row's value the
   * database fills it with when it is a foreign key (a profile's id that is its user's: the create
   * nested under the user, or connecting it, gives none); `undefined` for unbound models.
   * @throws UnsupportedQueryError when the model is bound and the value is not known before the
   *   write (a note keyed by its ticket's id, created nested under a ticket whose id the database
   *   assigns): sealed without it, the values would never open
   * @throws InvalidArgumentError for a value holding U+0000 where the database cannot store it
   *   as written (PostgreSQL, libSQL): refused here, before anything is sealed or sent
   */
  private async ensureBound(model: ModelMeta, data: Args, row: CreateDraft): Promise<string | undefined> {
    const field = boundField(model);
    if (field === undefined) return undefined;
    const given = data[field];
    if (given !== undefined && given !== null) {
      if (typeof given !== 'string') return String(given);
      if (this.nulRefused !== undefined && given.includes('\u0000'))
        throw nulInBound(model.name, field, this.nulRefused);
      // A caller's value is bound, and sent, in the form the database will return it in.
      const stored = storedForm(model, field, given);
      data[field] = stored;
      return stored;
    }
    const value = await row.value(field);
    if (value === undefined || value === null) throw unsupported('bindingUnknown', model.name, field, 'create');
    // Bound in the form this row's column will return it in (a @db.Uuid canonical, ...).
    return typeof value === 'string' ? storedForm(model, field, value) : String(value);
  }
}

/** A copy of `data` without {@link computedBlindIndex} placeholders (the columns are computed from their sources). */
function withoutPlaceholders(model: ModelMeta, data: Args): Args {
  const out: Args = { ...data };
  for (const name of Object.keys(model.blindIndexes)) if (isComputedPlaceholder(out[name])) delete out[name];
  return out;
}
