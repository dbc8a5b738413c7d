/**
 * Nested writes under a relation of a row being created or updated (create, createMany,
 * connectOrCreate, upsert, update, updateMany, set, connect, disconnect, delete, deleteMany):
 * their wheres rewritten to blind indexes, their data sealed for the row each one writes, a
 * nested update narrowed to the scope (and bound id) read for it, a connectOrCreate to the
 * parent's scope. The rows' own data goes back through the {@link RowWriter} (the
 * `DataEncryptor` of the top-level write).
 */
import { settleAll } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import { scopeMissing } from '../messages';
import { asList, nestedWriteParts, type NestedWriteParts } from '../query/arg-shapes';
import type {
  DataEncryptor,
  RelatedLocator,
  RowContext,
  RowContextResolver,
  RowGuard,
  WhereRewrite,
} from './encrypt-data';
import { asWhereInput, indexedUniques, uniquesTouched } from './indexed-uniques';
import { type RelatedRow, type RowServices, UpdatedRow } from './relation-scope';
import { noRowCondition } from './row-reader';
import { createdRowPin } from './upsert-pin';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';

/**
 * What nested writes need of the encryptor of the top-level write: a row's own data
 * (`create`, `update`), a row being updated as the parent of its creates, and its checks.
 */
export type RowWriter = Pick<
  DataEncryptor,
  'create' | 'update' | 'updatedRow' | 'writesEncrypted' | 'needsRowContext' | 'updatedNested' | 'skipLists'
>;

/** Where a nested write sits: the relation, whether it is to-many, how to find a to-one row. */
interface NestedWritePlace {
  readonly relation: string;
  readonly list: boolean;
  readonly locate?: RelatedLocator;
  /** The row whose relation this is: creates under it take their scope from it. */
  readonly parent: RelatedRow;
}

/** Walks the nested writes of one top-level write. */
export class NestedWrites {
  constructor(
    private readonly view: SchemaView,
    private readonly writer: RowWriter,
    private readonly services: RowServices,
    private readonly rewrite: WhereRewrite,
    private readonly resolveRow: RowContextResolver,
  ) {}

  /** Nested writes under relation fields of `data` (modified in place with rewritten copies). */
  async write(model: ModelMeta, data: Args, locate: RelatedLocator | undefined, parent: RelatedRow): Promise<void> {
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
        const items = await settleAll(asList(arg).map((item) => this.nested(target, op, item, place)));
        out[op] = many ? items : items[0];
      }
      data[key] = out;
    }
  }

  private async nested(target: ModelMeta, op: string, item: unknown, place: NestedWritePlace): Promise<unknown> {
    if (!isPlainObject(item)) return item; // `delete: true`, `disconnect: true`
    const parts = nestedWriteParts(op, item, place.list);
    const created = (data: unknown, existing?: Args, unless?: Args | true | 'skip') =>
      isPlainObject(data)
        ? this.writer.create(target, data, place.parent.child(place.relation, data, existing), true, unless)
        : data;
    switch (op) {
      case 'create':
        return created(item);
      case 'createMany': {
        // No rows given (no data, null, a string) is Prisma's to refuse: sent as given.
        if (!Array.isArray(item.data) && !isPlainObject(item.data)) return item;
        // With skipDuplicates, a row held under another live key version is dropped (after the check).
        const skip = item.skipDuplicates === true;
        const data = await settleAll(parts.creates.map((row) => created(row, undefined, skip ? 'skip' : undefined)));
        if (skip && indexedUniques(target).length > 0) this.writer.skipLists.push(data);
        return { ...item, data };
      }
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
        const given = isPlainObject(item.where) ? item.where : undefined;
        return { where, create: await created(item.create, given, isPlainObject(where) ? where : true) };
      }
      case 'upsert':
        return this.nestedUpsert(target, item, place, parts);
      case 'update':
        return this.nestedUpdate(target, item, place, parts);
      case 'updateMany':
        return this.nestedUpdateMany(target, item, place, parts);
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
    const row = place.list ? this.writer.updatedRow(target, where, draft) : this.locatedRow(target, place);
    // The row it updates when there is one: a to-many upsert's where, a to-one's related row
    // (only asked for a model with a unique blind index: its update and create are checked).
    const updates = indexedUniques(target).length > 0 ? this.updatedRows(target, where, place) : undefined;
    let context = await this.contextFor(target, where, item.update, 'upsert', place);
    // The read found no row to update (a to-many where that names none, or a to-one relation
    // that holds none, its parent read): see createdRowPin. Not when the foreign key is the
    // parent's: Prisma does not link the row that an upsert with a where creates there.
    const none = place.list
      ? context?.missing === true
      : context === undefined &&
        place.locate !== undefined &&
        this.holdsKey(place) &&
        isPlainObject(item.update) &&
        this.writer.writesEncrypted(target, item.update);
    const pinned = none && draft !== undefined ? await createdRowPin(draft) : undefined;
    if (pinned !== undefined) context = pinned.context;
    const update = await this.writer.update(target, item.update, context, 'upsert', undefined, row);
    this.noteUpdate(target, item.update, () => updates, context);
    // Its create runs when that row is not found (unknown: checked as if it ran).
    const unless = place.list ? (isPlainObject(where) ? where : true) : updates;
    const out: Args = {
      ...item,
      create: draft === undefined ? item.create : await this.writer.create(target, item.create, draft, true, unless),
      update,
    };
    if (where !== undefined) out.where = where;
    if (pinned !== undefined) {
      // A to-one upsert may have no where: the pin is its where then.
      out.where = isPlainObject(out.where)
        ? { ...out.where, AND: [...asList(out.where.AND), pinned.values] }
        : { ...pinned.values };
    }
    return out;
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
      // Wrapped as `{ where, data }` to carry the guard, unless the target has a field of that name.
      const wrappable = target.fields.data === undefined && target.fields.where === undefined;
      const context = await this.toOneContext(target, item, place, wrappable);
      const data = await this.writer.update(target, item, context, 'update', undefined, located);
      this.noteUpdate(target, item, () => this.updatedRows(target, undefined, place), context);
      const guard = context?.guard ?? located.locatedGuard;
      return guard !== undefined && wrappable ? this.narrowed(target, { data }, guard) : data;
    }
    const where =
      parts.where === undefined ? undefined : await this.rewrite(target, parts.where.value, parts.where.position);
    const row = place.list ? this.writer.updatedRow(target, where) : located;
    const context = place.list
      ? await this.contextFor(target, where, item.data, 'update', place)
      : await this.toOneContext(target, item.data, place, true);
    const data = await this.writer.update(target, item.data, context, 'update', undefined, row);
    this.noteUpdate(target, item.data, () => this.updatedRows(target, where, place), context);
    const out: Args = { ...item, data };
    if (where !== undefined) out.where = where;
    const guard = context?.guard ?? (place.list ? undefined : located.locatedGuard);
    return guard === undefined ? out : this.narrowed(target, out, guard);
  }

  /**
   * The row context of a to-one nested update that writes `data`: read through the parent. When
   * the parent holds no related row, Prisma answers the update with "record not found" (P2025):
   * the values are sealed for no row (scope `default`) and the update narrowed to match none
   * (see {@link narrowed}), so that Prisma still answers it, and a row linked in between is not
   * written with them. Left unresolved (refused, `rowContext`) where the update cannot be
   * narrowed (`narrowable` false, or a model without a field to narrow by) or its parent cannot
   * be read (deeper than the top-level row's own relations).
   */
  private async toOneContext(
    target: ModelMeta,
    data: unknown,
    place: NestedWritePlace,
    narrowable: boolean,
  ): Promise<RowContext | undefined> {
    const context = await this.contextFor(target, undefined, data, 'update', place);
    if (context !== undefined || place.locate === undefined || !narrowable || !isPlainObject(data)) return context;
    if (!this.writer.writesEncrypted(target, data)) return undefined;
    const none = noRowCondition(this.view, target);
    return none && { scope: 'default', missing: true, guard: { values: none, absent: true } };
  }

  /**
   * A nested update of a row whose scope (and bound id) were read first, narrowed to them: if
   * another client moves the row in between, the write matches nothing and fails instead of
   * leaving values sealed under the old scope's key. (A row the read did not find is narrowed
   * to match none, so that one created in between is not written with values sealed for none.)
   */
  private narrowed(target: ModelMeta, item: Args, guard: RowGuard): Args {
    this.services.guard(target, guard);
    const where = isPlainObject(item.where) ? item.where : undefined;
    return {
      ...item,
      where: where === undefined ? { ...guard.values } : { ...where, AND: [...asList(where.AND), guard.values] },
    };
  }

  private async nestedUpdateMany(
    target: ModelMeta,
    item: Args,
    place: NestedWritePlace,
    parts: NestedWriteParts,
  ): Promise<Args> {
    const where = await this.rewrite(target, item.where, parts.where?.position ?? 'nested');
    const context = this.writer.needsRowContext(target) ? undefined : { scope: 'default' };
    // Data that is not an object (a string, a list, none) is Prisma's to refuse: sent as given.
    const out = { ...item, where, data: await this.writer.update(target, item.data, context, 'updateMany') };
    this.noteUpdate(target, item.data, () => this.updatedRows(target, where, place, true), context);
    return out;
  }

  /**
   * A filter for the rows of `target` a nested update writes: its where (rewritten) and the link
   * to the parent row, `{ <back relation>: { is | some: <the parent's filter> } }`. A to-one
   * related row is named by the link alone; a to-many where by itself when the parent cannot be
   * named (it is unique), but not an updateMany's (`many`). `undefined` when the rows cannot
   * be named.
   */
  private updatedRows(target: ModelMeta, where: unknown, place: NestedWritePlace, many = false): Args | undefined {
    const link = this.linkTo(place);
    const own = isPlainObject(where) ? (asWhereInput(target, where) as Args) : undefined;
    if (link === undefined) return place.list && !many ? own : undefined;
    return own === undefined ? link : { AND: [own, link] };
  }

  /** A filter for the rows under the parent's relation `place.relation`, when the parent can be named. */
  private linkTo(place: NestedWritePlace): Args | undefined {
    const parent = place.parent instanceof UpdatedRow ? place.parent.filter : undefined;
    const back = this.view.backRelation(place.parent.model, place.relation)?.field;
    if (parent === undefined || back === undefined) return undefined;
    return { [back.name]: back.isList ? { some: parent } : { is: parent } };
  }

  /**
   * Keeps a nested update that writes a value of a unique constraint holding a blind index, to
   * be checked across the live key versions once the write is prepared (no I/O here). `rows`
   * (see {@link updatedRows}) is asked only then.
   */
  private noteUpdate(target: ModelMeta, data: unknown, rows: () => Args | undefined, context?: RowContext): void {
    if (!isPlainObject(data) || uniquesTouched(target, data).length === 0) return;
    const where = rows();
    this.writer.updatedNested.push({
      model: target,
      data,
      ...(where === undefined ? {} : { where }),
      ...(context === undefined || context.missing === true ? {} : { scope: context.scope }),
    });
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

  /** Whether the rows under a relation hold its foreign key (not the parent, as a to-one relation may). */
  private holdsKey(place: NestedWritePlace): boolean {
    const back = this.view.backRelation(place.parent.model, place.relation)?.field;
    return (back?.relationFromFields?.length ?? 0) > 0;
  }

  /** A to-one related row being updated through its parent (no unique where of its own). */
  private locatedRow(target: ModelMeta, place: NestedWritePlace): UpdatedRow {
    const locate = place.locate;
    return new UpdatedRow(target, this.services, {
      locate: locate && (() => locate(place.relation, target)),
      filter: () => this.linkTo(place),
    });
  }

  /** Row context for a nested update of `target`: only resolved when encrypted fields are written. */
  private async contextFor(
    target: ModelMeta,
    where: unknown,
    data: unknown,
    operation: string,
    place: NestedWritePlace,
  ): Promise<RowContext | undefined> {
    if (!isPlainObject(data) || !this.writer.writesEncrypted(target, data)) return undefined;
    // unbound, unscoped models need nothing from the row
    if (!this.writer.needsRowContext(target)) return { scope: 'default' };
    if (!place.list) return place.locate?.(place.relation, target); // to-one: through the parent
    if (!isPlainObject(where)) return undefined;
    return this.resolveRow(target, where, operation);
  }
}
