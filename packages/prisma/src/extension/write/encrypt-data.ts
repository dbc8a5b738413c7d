/**
 * Encrypts write data on the way in: create/update data and every nested write under a
 * relation (create, createMany, connectOrCreate, upsert, update, updateMany, set, connect,
 * disconnect, delete, deleteMany). One `RowEncryptor` (one fresh DEK) per row written,
 * under the row's scope; blind-index columns are computed here from the plaintext; bound
 * models get a client-side id so the ciphertext can name it. Null stays null.
 *
 * `readonly` fields are written as plaintext (the way out of encryption) but their blind
 * indexes are still maintained, so equality lookups keep working across rows written before
 * and after the switch.
 */
import type { FieldCrypto, RowEncryptor } from '@hushfield/core';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { isNullWrite, sealTyped } from '../../typed-values';
import { valueContext } from '../../value-context';
import { storedForm } from './canonical-values';
import { isComputedPlaceholder } from '../computed-index';
import { scopeMissing, unsupported } from '../messages';
import { asList, nestedCreates, nestedWriteParts, type NestedWriteParts } from '../query/arg-shapes';
import { CreateDraft, type RelatedRow, type RowServices, scopeString, UpdatedRow } from './relation-scope';
import type { Position } from '../query/rewrite-where';
import { generateRowId } from './row-ids';
import { type Args, isPerScopeIndex, isPlainObject, type SchemaView } from '../schema-view';
import type { WrittenEnvelopes } from './written-envelopes';

/** What the encryptor knows about the row being written. */
export interface RowContext {
  /** The scope key to use (`default` for unscoped models). */
  readonly scope: string;
  /** The row id, bound into the associated data when the model is bound. */
  readonly rowId?: string;
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

/** Where a nested write sits: the relation, whether it is to-many, how to find a to-one row. */
interface NestedWritePlace {
  readonly relation: string;
  readonly list: boolean;
  readonly locate?: RelatedLocator;
  /** The row whose relation this is: creates under it take their scope from it. */
  readonly parent: RelatedRow;
}

/** Encrypts write data; stateless apart from its collaborators. */
export class DataEncryptor {
  private readonly services: RowServices;
  /**
   * The rows this encryptor narrowed a write to, as read (a nested update's scope and id, an
   * updated row's value a create under it took): when the write then reports "not found", the
   * caller reads them again to tell a moved row (send the write again) from a missing one.
   */
  readonly guarded: GuardedWrite[] = [];

  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly rewrite: WhereRewrite,
    private readonly resolveRow: RowContextResolver,
    /** Receives every envelope sealed, so the write's own result need not decrypt it again. */
    private readonly written?: WrittenEnvelopes,
    readFields?: FieldReader,
  ) {
    this.services = {
      view,
      prepare: withoutPlaceholders,
      rewrite,
      read: readFields ?? (async () => null),
      guard: (model, guard) => this.guarded.push({ model, guard }),
    };
  }

  /** The row a create's `data` makes, for {@link DataEncryptor.create} and for an upsert's update to fall back on. */
  draft(model: ModelMeta, data: Args): CreateDraft {
    return new CreateDraft(model, data, this.services);
  }

  /**
   * A create's data: id generated for bound models, scope from the scope field or, when the
   * data does not give it, from the related rows (see `relation-scope.ts`). A top-level
   * create knows every scope of its nested creates before it seals anything.
   * @throws InvalidArgumentError when a row's scope cannot be known
   */
  async create(model: ModelMeta, data: unknown, draft?: CreateDraft, nested = false): Promise<Args> {
    if (!isPlainObject(data)) return data as Args;
    const row = draft ?? this.draft(model, data);
    const out = row.data;
    const relations = this.writesRelations(model, out);
    if (!nested && relations) await this.knowScopes(row);
    if (this.writesEncrypted(model, data)) {
      const scope = this.givenScope(model, out) ?? (await row.scope());
      const context = { scope, rowId: this.ensureId(model, out) };
      const pending = this.sealRow(model, out, context);
      if (pending !== undefined) await pending;
    } else if (this.touchesEncrypted(model, data)) {
      const pending = this.sealRow(model, out, { scope: 'default' });
      if (pending !== undefined) await pending;
    }
    if (relations) await this.relations(model, out, undefined, row);
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
      for (const item of nestedCreates(ops, list)) pending.push(this.knowScopes(row.child(name, item)));
    }
    await Promise.all(pending);
  }

  /** Resolves the scopes of the rows an update's nested creates make under `row`. */
  private async knowNestedScopes(row: RelatedRow, data: Args): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const { name, list } of this.view.writePlan(row.model).relations) {
      const ops = data[name];
      if (!isPlainObject(ops)) continue;
      for (const item of nestedCreates(ops, list)) pending.push(this.knowScopes(row.child(name, item)));
    }
    await Promise.all(pending);
  }

  /**
   * An update's data for one row whose context (scope, id) the caller resolved. `row` is the
   * updated row as the parent of the update's nested creates (where they take their scope).
   * @throws UnsupportedQueryError when `data` changes the id of a bound model.
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
    const id = this.view.idField(model);
    if (model.bindRowId && id !== undefined && data[id] !== undefined && context?.rowId !== undefined) {
      if (plainOf(data[id]) !== context.rowId) throw unsupported('rekeyMany', model.name, id, operation);
    }
    if (this.writesEncrypted(model, data) && context === undefined) {
      const field = Object.keys(model.encrypted).find((name) => data[name] !== undefined) as string;
      throw unsupported('rowContext', model.name, field, operation);
    }
    if (relations) await this.knowNestedScopes(self, out);
    if (this.touchesEncrypted(model, data)) await this.sealRow(model, out, context ?? { scope: 'default' });
    if (relations) await this.relations(model, out, locate, self);
    return out;
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
    for (const meta of this.view.writePlan(model).encrypted) {
      const value = data[meta.name];
      if (value === undefined || isNullWrite(meta, fieldPlainOf(meta, value))) continue;
      if (meta.mode !== 'readonly' || this.view.indexesOf(model, meta.name).some(isPerScopeIndex)) return true;
    }
    return false;
  }

  /** Whether `data` writes an encrypted field at all (null included: its blind index follows). */
  touchesEncrypted(model: ModelMeta, data: Args): boolean {
    for (const meta of this.view.writePlan(model).encrypted) if (data[meta.name] !== undefined) return true;
    return false;
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

  /**
   * Encrypts the encrypted fields of `data` in place with one DEK and fills their blind indexes.
   * Synchronous when the scope key and index keys are cached (`undefined`): an await per row
   * write is a microtask hop and a cold resume between database round trips. Otherwise the
   * promise of the same work through the asynchronous (key-loading) calls.
   */
  private sealRow(model: ModelMeta, data: Args, context: RowContext): Promise<void> | undefined {
    const { encrypted } = this.view.writePlan(model);
    // The plaintexts, read before any field is replaced; `undefined` = not written, `null` = SQL NULL.
    const plains: unknown[] = new Array(encrypted.length);
    let sealsAny = false;
    for (let i = 0; i < encrypted.length; i++) {
      const value = data[encrypted[i].name];
      if (value === undefined) continue;
      const plain = fieldPlainOf(encrypted[i], value);
      plains[i] = isNullWrite(encrypted[i], plain) ? null : plain;
      if (plains[i] !== null && encrypted[i].mode !== 'readonly') sealsAny = true;
    }
    const encryptor = sealsAny ? this.crypto.cachedRowEncryptor(context.scope) : undefined;
    if (sealsAny && encryptor === undefined) return this.sealRowCold(model, data, context, plains);
    this.encryptFields(model, data, context, plains, encryptor);
    return this.fillIndexes(model, data, plains, context.scope);
  }

  /** {@link DataEncryptor.sealRow} when the scope key must be loaded (or created) first. */
  private async sealRowCold(model: ModelMeta, data: Args, context: RowContext, plains: unknown[]): Promise<void> {
    this.encryptFields(model, data, context, plains, await this.crypto.rowEncryptor(context.scope));
    await this.fillIndexes(model, data, plains, context.scope);
  }

  /** Replaces each written encrypted field with its envelope (plaintext for `readonly`); disposes `encryptor`. */
  private encryptFields(
    model: ModelMeta,
    data: Args,
    context: RowContext,
    plains: unknown[],
    encryptor: RowEncryptor | undefined,
  ): void {
    const { encrypted } = this.view.writePlan(model);
    const rowId = model.bindRowId ? context.rowId : undefined;
    try {
      for (let i = 0; i < encrypted.length; i++) {
        const plain = plains[i];
        if (plain === undefined) continue;
        const meta = encrypted[i];
        if (plain === null || meta.mode === 'readonly' || encryptor === undefined) continue;
        const ctx = valueContext(model, meta, rowId);
        if (meta.type !== undefined) {
          const stored = sealTyped(encryptor, meta, plain, ctx);
          const value = data[meta.name];
          data[meta.name] = meta.type !== 'Json' && isPlainObject(value) ? { set: stored } : stored;
          continue;
        }
        const stored = encryptor.encrypt(plain as string, ctx);
        this.written?.add(stored, plain as string, model.dbName, meta.dbName, rowId);
        const value = data[meta.name];
        data[meta.name] = isPlainObject(value) && 'set' in value ? { set: stored } : stored;
      }
    } finally {
      encryptor?.dispose();
    }
  }

  /**
   * Fills the blind and match indexes of the written fields (per-scope ones under the row's `scope`):
   * synchronously when every index key is cached.
   */
  private fillIndexes(model: ModelMeta, data: Args, plains: unknown[], scope: string): Promise<void> | undefined {
    const { encrypted } = this.view.writePlan(model);
    for (let i = 0; i < encrypted.length; i++) {
      const plain = plains[i];
      if (plain === undefined) continue;
      for (const { index, spec } of this.view.indexSpecs(model, encrypted[i].name)) {
        const value = plain === null ? null : this.crypto.cachedBlindIndex(spec, plain as string, scope);
        // A key to load: all indexes are (re)computed the asynchronous way (same values).
        if (value === undefined) return this.fillIndexesCold(model, data, plains, scope);
        data[index.name] = value;
      }
      for (const { index, spec } of this.view.matchSpecs(model, encrypted[i].name)) {
        const positions = plain === null ? [] : this.crypto.cachedMatchIndex(spec, plain as string);
        if (positions === undefined) return this.fillIndexesCold(model, data, plains, scope);
        data[index.name] = positions;
      }
    }
    return undefined;
  }

  private async fillIndexesCold(model: ModelMeta, data: Args, plains: unknown[], scope: string): Promise<void> {
    const { encrypted } = this.view.writePlan(model);
    for (let i = 0; i < encrypted.length; i++) {
      const plain = plains[i];
      if (plain === undefined) continue;
      for (const { index, spec } of this.view.indexSpecs(model, encrypted[i].name)) {
        data[index.name] = plain === null ? null : await this.crypto.blindIndex(spec, plain as string, scope);
      }
      for (const { index, spec } of this.view.matchSpecs(model, encrypted[i].name)) {
        data[index.name] = plain === null ? [] : await this.crypto.matchIndex(spec, plain as string);
      }
    }
  }

  /** The scope of a row being created when its data gives it (or the model has none), else `undefined`. */
  private givenScope(model: ModelMeta, data: Args): string | undefined {
    if (model.scopeField === undefined) return 'default';
    return scopeString(model, model.scopeField, plainOf(data[model.scopeField]));
  }

  /**
   * The scopes `rows` (creates of `model`) give in their scope field, for those that write an
   * encrypted value: what a `createMany` can look up together before sealing its rows. A value
   * that is not a valid scope is left out (its row reports it when sealed).
   */
  givenScopes(model: ModelMeta, rows: readonly unknown[]): Set<string> {
    const scopes = new Set<string>();
    if (model.scopeField === undefined) return scopes;
    for (const row of rows) {
      if (!isPlainObject(row) || !this.writesEncrypted(model, row)) continue;
      try {
        const scope = this.givenScope(model, row);
        if (scope !== undefined) scopes.add(scope);
      } catch {
        // Refused with its own error when the row is sealed.
      }
    }
    return scopes;
  }

  /** The id of a row being created, generated (and written into `data`) for bound models. */
  private ensureId(model: ModelMeta, data: Args): string | undefined {
    const id = this.view.idField(model);
    if (!model.bindRowId || id === undefined) return undefined;
    const given = data[id];
    if (given !== undefined && given !== null) {
      if (typeof given !== 'string') return String(given);
      // A caller's id is bound, and sent, in the form the database will return it in.
      const stored = storedForm(model, id, given);
      data[id] = stored;
      return stored;
    }
    const generated = generateRowId(model.idGeneration);
    if (generated === undefined) return undefined;
    data[id] = generated;
    return generated;
  }

  /** Nested writes under relation fields of `data` (modified in place with rewritten copies). */
  private async relations(
    model: ModelMeta,
    data: Args,
    locate: RelatedLocator | undefined,
    parent: RelatedRow,
  ): Promise<void> {
    // One read per relation: the context a nested update is sealed for and the one its creates
    // take their scope from must be the same read (the guard checks that one).
    const located = new Map<string, Promise<RowContext | undefined>>();
    const locateOnce: RelatedLocator | undefined =
      locate &&
      ((relation, target) => {
        let found = located.get(relation);
        if (found === undefined) {
          found = locate(relation, target);
          located.set(relation, found);
        }
        return found;
      });
    for (const { name: key, target, list } of this.view.writePlan(model).relations) {
      const value = data[key];
      if (!isPlainObject(value)) continue;
      const out: Args = {};
      for (const [op, arg] of Object.entries(value)) {
        const many = Array.isArray(arg);
        const place = { relation: key, list, locate: locateOnce, parent };
        const items = await Promise.all(asList(arg).map((item) => this.nested(target, op, item, place)));
        out[op] = many ? items : items[0];
      }
      data[key] = out;
    }
  }

  private async nested(target: ModelMeta, op: string, item: unknown, place: NestedWritePlace): Promise<unknown> {
    if (!isPlainObject(item)) return item; // `delete: true`, `disconnect: true`
    const parts = nestedWriteParts(op, item, place.list);
    const created = (data: unknown) =>
      isPlainObject(data) ? this.create(target, data, place.parent.child(place.relation, data), true) : data;
    switch (op) {
      case 'create':
        return created(item);
      case 'createMany':
        return { ...item, data: await Promise.all(parts.creates.map(created)) };
      case 'connect':
      case 'set':
      case 'disconnect':
      case 'delete':
      case 'deleteMany':
        return this.rewrite(target, item, (parts.where as NonNullable<NestedWriteParts['where']>).position);
      case 'connectOrCreate': {
        const scoped = await this.inParentScope(target, item.where, place);
        const where = await this.rewrite(
          target,
          scoped,
          (parts.where as NonNullable<NestedWriteParts['where']>).position,
        );
        return { where, create: await created(item.create) };
      }
      case 'upsert':
        return this.nestedUpsert(target, item, place, parts);
      case 'update':
        return this.nestedUpdate(target, item, place, parts);
      case 'updateMany':
        return this.nestedUpdateMany(target, item, parts);
      default:
        return item;
    }
  }

  private async nestedUpsert(
    target: ModelMeta,
    item: Args,
    place: NestedWritePlace,
    parts: NestedWriteParts,
  ): Promise<Args> {
    const where =
      parts.where === undefined ? undefined : await this.rewrite(target, parts.where.value, parts.where.position);
    const draft = isPlainObject(item.create) ? place.parent.child(place.relation, item.create) : undefined;
    const row = place.list ? this.updatedRow(target, where, draft) : this.locatedRow(target, place);
    let context = await this.contextFor(target, where, item.update, 'upsert', place);
    // The read found no row to update: one another client creates before the upsert runs would
    // take the update branch. It is sealed for the row the create makes, and the where narrowed
    // to that row's scope (and bound id), so that any other row sends the upsert to its create
    // branch instead (which fails with P2002 where that row holds the where's unique value).
    const pinned =
      place.list && draft !== undefined && context?.missing === true ? await this.createdRow(draft) : undefined;
    if (pinned !== undefined) context = pinned.context;
    const update = await this.update(target, item.update, context, 'upsert', undefined, row);
    const out: Args = {
      ...item,
      create: draft === undefined ? item.create : await this.create(target, item.create, draft, true),
      update,
    };
    if (where !== undefined) out.where = where;
    if (pinned !== undefined && isPlainObject(out.where)) {
      out.where = { ...out.where, AND: [...asList(out.where.AND), pinned.values] };
    }
    return out;
  }

  /**
   * The context and stored values (scope, bound id) of the row `draft` creates, or `undefined`
   * when they cannot be known before the write.
   */
  private async createdRow(draft: CreateDraft): Promise<{ context: RowContext; values: Args } | undefined> {
    const { model } = draft;
    const values: Args = {};
    const id = this.view.idField(model);
    let rowId: string | undefined;
    if (model.bindRowId && id !== undefined) {
      const value = await draft.value(id);
      if (value === undefined || value === null) return undefined;
      values[id] = value;
      rowId = typeof value === 'string' ? storedForm(model, id, value) : String(value);
    }
    const field = model.scopeField;
    if (field === undefined) return { context: { scope: 'default', rowId }, values };
    const value = await draft.value(field);
    const scope = scopeString(model, field, value);
    if (scope === undefined) return undefined;
    values[field] = value;
    return { context: { scope, rowId }, values };
  }

  private async nestedUpdate(
    target: ModelMeta,
    item: Args,
    place: NestedWritePlace,
    parts: NestedWriteParts,
  ): Promise<Args> {
    const located = this.locatedRow(target, place);
    // A to-one update given as the data itself (not `{ where?, data }`).
    if (parts.update === item) {
      const context = await this.contextFor(target, undefined, item, 'update', place);
      const data = await this.update(target, item, context, 'update', undefined, located);
      const guard = context?.guard ?? located.locatedGuard;
      // Wrapped as `{ where, data }` to carry the guard, unless the target has a field of that name.
      const wrappable = target.fields.data === undefined && target.fields.where === undefined;
      return guard !== undefined && wrappable ? this.narrowed(target, { data }, guard) : data;
    }
    const where =
      parts.where === undefined ? undefined : await this.rewrite(target, parts.where.value, parts.where.position);
    const row = place.list ? this.updatedRow(target, where) : located;
    const context = await this.contextFor(target, where, item.data, 'update', place);
    const data = await this.update(target, item.data, context, 'update', undefined, row);
    const out: Args = { ...item, data };
    if (where !== undefined) out.where = where;
    const guard = context?.guard ?? (place.list ? undefined : located.locatedGuard);
    return guard === undefined ? out : this.narrowed(target, out, guard);
  }

  /**
   * A nested update of a row whose scope (and bound id) were read first, narrowed to them: if
   * another client moves the row in between, the write matches nothing and fails instead of
   * leaving values sealed under the old scope's key. (A row the read did not find is narrowed
   * to match none, so that one created in between is not written with values sealed for none.)
   */
  private narrowed(target: ModelMeta, item: Args, guard: RowGuard): Args {
    this.guarded.push({ model: target, guard });
    const where = isPlainObject(item.where) ? item.where : undefined;
    return {
      ...item,
      where: where === undefined ? { ...guard.values } : { ...where, AND: [...asList(where.AND), guard.values] },
    };
  }

  private async nestedUpdateMany(target: ModelMeta, item: Args, parts: NestedWriteParts): Promise<Args> {
    const where = await this.rewrite(target, item.where, parts.where?.position ?? 'nested');
    const data = isPlainObject(item.data) ? item.data : {};
    const context = this.needsRowContext(target) ? undefined : { scope: 'default' };
    return { ...item, where, data: await this.update(target, data, context, 'updateMany') };
  }

  /**
   * A nested connectOrCreate's where, when the relation sets the linked row's scope field:
   * narrowed to the parent's value, so that it links only a row already in that scope (and
   * otherwise creates one) instead of moving a row from another scope without re-encrypting it.
   */
  private async inParentScope(target: ModelMeta, where: unknown, place: NestedWritePlace): Promise<unknown> {
    const scope = target.scopeField;
    if (scope === undefined || !isPlainObject(where) || Object.keys(target.encrypted).length === 0) return where;
    const back = this.view.backRelation(place.parent.model, place.relation)?.field;
    const index = back?.relationFromFields?.indexOf(scope) ?? -1;
    const referenced = index >= 0 ? back?.relationToFields?.[index] : undefined;
    if (referenced === undefined) return where;
    const value = await place.parent.value(referenced);
    if (value === undefined) throw scopeMissing(target.name, scope);
    return { ...where, AND: [...asList(where.AND), { [scope]: value }] };
  }

  /** A to-one related row being updated through its parent (no unique where of its own). */
  private locatedRow(target: ModelMeta, place: NestedWritePlace): UpdatedRow {
    const locate = place.locate;
    return new UpdatedRow(target, this.services, { locate: locate && (() => locate(place.relation, target)) });
  }

  /** Row context for a nested update of `target`: only resolved when encrypted fields are written. */
  private async contextFor(
    target: ModelMeta,
    where: unknown,
    data: unknown,
    operation: string,
    place: NestedWritePlace,
  ): Promise<RowContext | undefined> {
    if (!isPlainObject(data) || !this.writesEncrypted(target, data)) return undefined;
    // unbound, unscoped models need nothing from the row
    if (!this.needsRowContext(target)) return { scope: 'default' };
    if (!place.list) return place.locate?.(place.relation, target); // to-one: through the parent
    if (!isPlainObject(where)) return undefined;
    return this.resolveRow(target, where, operation);
  }
}

/** A copy of `data` without {@link computedBlindIndex} placeholders (the columns are computed from their sources). */
function withoutPlaceholders(model: ModelMeta, data: Args): Args {
  const out: Args = { ...data };
  for (const name of Object.keys(model.blindIndexes)) if (isComputedPlaceholder(out[name])) delete out[name];
  return out;
}

/** The plaintext of a write value: `v` or `{ set: v }`. */
export function plainOf(value: unknown): unknown {
  return isPlainObject(value) && 'set' in value ? value.set : value;
}

/** The plaintext of a write to an encrypted field: as {@link plainOf}, but a `Json` value is the value itself. */
export function fieldPlainOf(meta: EncryptedFieldMeta, value: unknown): unknown {
  return meta.type === 'Json' ? value : plainOf(value);
}
