/**
 * The scope a where clause pins its rows to, for lookups through per-scope blind indexes
 * (`@blindIndex(perScope: true)`): their index values are keyed by each row's scope key, so a
 * lookup can only be computed for a scope the where names, and every row it could match must
 * be in that scope. That holds for an equality on the scope field in the same where object, in
 * an `AND` of it (at any depth), or in a compound unique input holding the scope field; and
 * then for everything nested in that where (`AND`, `OR`, `NOT` below it), since the equality
 * is a conjunct of all of them. It does not hold across a relation filter (another model).
 */
import type { ModelMeta } from '../../metadata';
import { filteredForm } from '../write/canonical-values';
import { asList } from './arg-shapes';
import { isPlainObject } from '../schema-view';

/**
 * The scope `where` names exactly for `model` (as the key store names it: the form the rows it
 * matches hold, see `filteredForm`), or `undefined`.
 * @throws InvalidArgumentError when a `@db.Uuid` scope column is given a value that is not a UUID
 */
export function scopeOfWhere(model: ModelMeta, where: unknown): string | undefined {
  const field = model.scopeField;
  if (field === undefined || !isPlainObject(where)) return undefined;
  const direct = filteredScope(model, field, equalityValue(where[field]));
  if (direct !== undefined) return direct;
  for (const unique of model.uniqueIndexes) {
    const compound = where[unique.name];
    if (!unique.fields.includes(field) || !isPlainObject(compound)) continue;
    const part = filteredScope(model, field, compound[field]);
    if (part !== undefined) return part;
  }
  for (const conjunct of asList(where.AND)) {
    const inner = scopeOfWhere(model, conjunct);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** The scope key name the rows a filter's `value` for the scope field matches have, if it names one. */
function filteredScope(model: ModelMeta, field: string, value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return filteredForm(model, field, value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * The one value a filter on the scope field is equal to: `v` or `{ equals: v }` (not with
 * `mode`, which would match other spellings, hence other scopes).
 */
function equalityValue(filter: unknown): unknown {
  if (!isPlainObject(filter)) return filter;
  return filter.mode === undefined ? filter.equals : undefined;
}
