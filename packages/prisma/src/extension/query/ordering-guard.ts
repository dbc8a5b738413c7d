/**
 * The guard's checks on what a read orders, groups or aggregates by (`orderBy`, `distinct`,
 * `groupBy` `by` and `having`, `_min`/`_max`), called from its walk (`query-guard.ts`): never
 * an encrypted field, whose ciphertext orders and groups nothing; in orderBy and having no
 * blind- or match-index column either (but for its `_count`); in distinct and `by` a blind-index column only at full
 * length and, when it is keyed per scope, only where groups cannot span scopes.
 */
import type { ModelMeta } from '../../metadata';
import { unsupported } from '../messages';
import { AGGREGATES, asList } from './arg-shapes';
import { type Args, isPerScopeIndex, isPlainObject, type SchemaView } from '../schema-view';
import { scopeOfWhere } from './where-scope';

/**
 * A read's `orderBy`, through to-one relations: by no protected field (see {@link isProtected}),
 * directly, in `_relevance` or in an aggregate other than `_count`.
 */
export function guardOrderBy(view: SchemaView, model: ModelMeta, orderBy: unknown): void {
  for (const item of asList(orderBy)) {
    if (!isPlainObject(item)) continue;
    for (const [key, value] of Object.entries(item)) {
      if (isProtected(view, model, key)) throw unsupported('ordering', model.name, key, 'orderBy');
      if (key === '_relevance' && isPlainObject(value)) {
        for (const field of asList(value.fields)) {
          if (typeof field === 'string' && isProtected(view, model, field)) {
            throw unsupported('ordering', model.name, field, 'orderBy _relevance');
          }
        }
      }
      if (AGGREGATES.has(key) && isPlainObject(value)) {
        for (const field of Object.keys(value)) {
          if (key !== '_count' && isProtected(view, model, field))
            throw unsupported('ordering', model.name, field, `orderBy ${key}`);
        }
      }
      const target = view.relationTarget(model, key);
      if (target !== undefined && !view.isListRelation(model, key)) guardOrderBy(view, target, value);
    }
  }
}

/**
 * A read's `distinct` (see {@link grouping}).
 * @param oneScope - a nested read along a relation whose foreign key holds the scope field
 */
export function guardDistinct(
  view: SchemaView,
  model: ModelMeta,
  distinct: unknown,
  where: unknown,
  oneScope: boolean,
): void {
  grouping(view, model, asList(distinct), where, 'distinct', oneScope);
}

/** A groupBy's `by` (see {@link grouping}), `having` and aggregates. */
export function guardGroupBy(view: SchemaView, model: ModelMeta, args: Args): void {
  grouping(view, model, asList(args.by), args.where, 'groupBy by');
  if (isPlainObject(args.having)) guardHaving(view, model, args.having);
  guardAggregate(view, model, args);
}

/**
 * Fields a read groups rows by (`distinct`, `groupBy` `by`). Never an encrypted field (that
 * groups by ciphertext); a blind-index column only at full length (a truncated one merges
 * groups by collision) and, when it is keyed per scope, only where groups cannot span scopes:
 * the scope field is grouped by too, the where pins one scope, or (`oneScope`) a nested read
 * loads the rows of one parent along the relation that holds the scope. Equal values of different
 * scopes have different per-scope index values, so one group would come back split; and while
 * the index is still `migrating` from the shared one, even within one scope.
 */
function grouping(
  view: SchemaView,
  model: ModelMeta,
  fields: readonly unknown[],
  where: unknown,
  operation: string,
  oneScope = false,
): void {
  const scopeField = model.scopeField;
  const withinScope = () =>
    scopeField !== undefined && (oneScope || fields.includes(scopeField) || scopeOfWhere(model, where) !== undefined);
  for (const field of fields) {
    if (typeof field !== 'string') continue;
    if (view.encrypted(model, field)) throw unsupported('ordering', model.name, field, operation);
    const index = view.blindIndex(model, field);
    if (index === undefined) continue;
    if (index.bits < 256) throw unsupported('truncated', model.name, field, operation);
    // Still moving from the shared index: a scope's rows hold values of either family.
    if (index.perScope === 'migrating') throw unsupported('migratingGroup', model.name, field, operation);
    if (isPerScopeIndex(index) && !withinScope()) throw unsupported('scopeGroup', model.name, field, operation);
  }
}

/**
 * A groupBy's `having`: no protected field (see {@link isProtected}) but through `_count`, which
 * counts a group's non-null values, what the stored column shows of each row anyway; any other
 * condition on it (equality, a range, `_min`/`_max`) would compare ciphertext or index values.
 */
function guardHaving(view: SchemaView, model: ModelMeta, having: Args): void {
  for (const [key, value] of Object.entries(having)) {
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      for (const item of asList(value)) if (isPlainObject(item)) guardHaving(view, model, item);
    } else if (isProtected(view, model, key) && !countsOnly(value)) {
      throw unsupported('ordering', model.name, key, 'groupBy having');
    }
  }
}

/** Whether a field's `having` condition is on its `_count` alone (`{ _count: { gt: 1 } }`). */
function countsOnly(condition: unknown): boolean {
  if (!isPlainObject(condition)) return false;
  const keys = Object.keys(condition);
  return keys.length > 0 && keys.every((key) => key === '_count');
}

/** The `_min` and `_max` of an aggregate or groupBy: never of an encrypted field. */
export function guardAggregate(view: SchemaView, model: ModelMeta, args: Args): void {
  for (const key of ['_min', '_max']) {
    const selection = args[key];
    if (!isPlainObject(selection)) continue;
    for (const [field, on] of Object.entries(selection)) {
      if (on && view.encrypted(model, field)) throw unsupported('aggregate', model.name, field, key);
    }
  }
}

/** Whether `field` stores ciphertext, a blind index or a match index: ordering or aggregating it is meaningless. */
export function isProtected(view: SchemaView, model: ModelMeta, field: string): boolean {
  return (
    view.encrypted(model, field) !== undefined ||
    view.blindIndex(model, field) !== undefined ||
    view.matchIndex(model, field) !== undefined
  );
}
