/**
 * The guard's checks on the filter of one encrypted field (or, meaning its plaintext, of its
 * blind-index column), the leaves of its where walk (`query-guard.ts`): equality, `in`, `notIn`
 * and `not` through a blind index (a truncated one only at a root position, where candidates
 * are re-checked; a per-scope one only where the where names the scope); `contains`,
 * `startsWith` and `endsWith` through a match index, at a root position; null checks only on
 * an encrypted `Json`, `Bytes` or `String[]` field. Every value looked up is a string that
 * can be encrypted. Also finds the field references a filter compares a column with.
 */
import { checkPlaintext, codePointLength, queryGrams, type MatchKind } from '@hushfield/core';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { isPrismaNull } from '../../typed-values';
import { notString, scopeRequired, unsupported } from '../messages';
import { asList, EQUALITY_OPERATORS, isRootPosition, MATCH_OPERATORS, type WherePosition } from './arg-shapes';
import { type Args, isPerScopeIndex, isPlainObject, pickMatchIndex, type SchemaView } from '../schema-view';

/** A filter on an encrypted field or (meaning its plaintext) on its blind-index column. */
export function guardFieldFilter(
  view: SchemaView,
  model: ModelMeta,
  key: string,
  filter: unknown,
  position: WherePosition,
  scoped: boolean,
): void {
  const typed = view.encrypted(model, key);
  if (typed?.type !== undefined) return typedFilter(model, typed, filter);
  const index = view.blindIndex(model, key);
  const source = index?.source ?? key;
  const indexes = index !== undefined ? [index] : view.indexesOf(model, source);
  const isNullCheck = (value: unknown) => value === null;
  const check = (operation: string, value: unknown): void => {
    if (isNullCheck(value)) return;
    if (indexes.length === 0) throw unsupported('noBlindIndex', model.name, source, operation);
    // Its index values are keyed per scope: computable only for the scope the where names.
    const used = view.lookupIndex(model, key);
    if (!scoped && used !== undefined && isPerScopeIndex(used))
      throw scopeRequired(model.name, source, model.scopeField as string);
    const truncated = indexes.every((i) => i.bits < 256);
    if (truncated && (!isRootPosition(position) || operation === 'not' || operation === 'notIn')) {
      throw unsupported('truncated', model.name, source, operation);
    }
    const values = operation === 'in' || operation === 'notIn' ? asList(value) : [value];
    for (const item of values) {
      if (typeof item !== 'string') throw notString(model.name, source);
      // A lone surrogate would be hashed as U+FFFD and match rows holding U+FFFD.
      checkPlaintext(item, `${model.name}.${source}`);
    }
  };
  if (!isPlainObject(filter)) return check('equals', filter);
  if (index === undefined && Object.keys(filter).some((operation) => MATCH_OPERATORS.has(operation))) {
    matchFilter(view, model, source, filter, position);
  }
  for (const [operation, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (index === undefined && (MATCH_OPERATORS.has(operation) || operation === 'mode')) {
      if (operation === 'mode' && !Object.keys(filter).some((key) => MATCH_OPERATORS.has(key)))
        throw unsupported('matchMode', model.name, source, 'mode');
      continue;
    }
    if (!EQUALITY_OPERATORS.has(operation)) throw unsupported('operator', model.name, source, operation);
    if (operation === 'not' && isPlainObject(value)) {
      if (Object.values(value).every(isNullCheck)) continue;
      if (indexes.length === 0) throw unsupported('noBlindIndex', model.name, source, 'not');
      guardFieldFilter(view, model, key, value, isRootPosition(position) ? 'nested' : position, scoped);
      if (indexes.every((i) => i.bits < 256)) throw unsupported('truncated', model.name, source, 'not');
      continue;
    }
    check(operation, value);
  }
}

/**
 * contains / startsWith / endsWith (and mode) on an encrypted field: answered through a match
 * index at a root position only, where the candidates can be decrypted and re-checked.
 */
function matchFilter(view: SchemaView, model: ModelMeta, source: string, filter: Args, position: WherePosition): void {
  const indexes = view.matchSpecs(model, source);
  const insensitive = filter.mode === 'insensitive';
  for (const [operation, value] of Object.entries(filter)) {
    if (value === undefined || !MATCH_OPERATORS.has(operation)) continue;
    if (indexes.length === 0) throw unsupported('noMatchIndex', model.name, source, operation);
    if (!isRootPosition(position)) throw unsupported('matchPosition', model.name, source, operation);
    if (filter.mode !== undefined && filter.mode !== 'default' && !insensitive)
      throw unsupported('matchMode', model.name, source, 'mode');
    // Insensitive equality through a blind index would depend on its normalizers: refused.
    if (insensitive && Object.keys(filter).some((key) => EQUALITY_OPERATORS.has(key)))
      throw unsupported('matchMode', model.name, source, 'mode');
    const chosen = pickMatchIndex(indexes, insensitive);
    if (chosen === undefined) throw unsupported('matchMode', model.name, source, `${operation} (mode: insensitive)`);
    if (typeof value !== 'string') throw notString(model.name, source);
    checkPlaintext(value, `${model.name}.${source}`);
    if (codePointLength(value) > chosen.spec.maxLength)
      throw unsupported('matchTooLong', model.name, source, operation);
    if (queryGrams(chosen.spec, operation as MatchKind, value) === null)
      throw unsupported('matchTooShort', model.name, source, operation);
  }
}

/** Calls `visit` with each field reference a column's filter compares the column with, and the operation. */
export function forEachReference(
  filter: unknown,
  visit: (reference: { modelName: string; name: string }, operation: string) => void,
): void {
  if (isFieldReference(filter)) visit(filter, 'equals');
  if (!isPlainObject(filter)) return;
  for (const [operation, value] of Object.entries(filter)) {
    if (operation === 'not' && isPlainObject(value)) forEachReference(value, visit);
    else for (const item of asList(value)) if (isFieldReference(item)) visit(item, operation);
  }
}

/** A Prisma field reference (`prisma.<model>.fields.<field>`), recognised by its shape. */
function isFieldReference(value: unknown): value is { modelName: string; name: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const ref = value as { modelName?: unknown; name?: unknown; typeName?: unknown };
  return typeof ref.modelName === 'string' && typeof ref.name === 'string' && typeof ref.typeName === 'string';
}

/**
 * A filter on an encrypted `Json`, `Bytes` or `String[]` field: its value is sealed whole (a
 * list element by element), so only null checks can be answered: `null` (or `{ equals: null }`,
 * `{ not: null }`) on `Bytes?`, and `Prisma.DbNull` (SQL NULL) on `Json?`. Every other filter
 * (JSON `path`, `array_contains`, `equals` on a value, list `has`/`hasSome`/`hasEvery`/`isEmpty`,
 * JsonNull and AnyNull, which would need to see into the sealed value) is refused.
 */
function typedFilter(model: ModelMeta, field: EncryptedFieldMeta, filter: unknown): void {
  const isNullCheck = (value: unknown) =>
    field.type === 'Json' ? isPrismaNull(value, 'DbNull') : field.type === 'Bytes' && value === null;
  if (filter === null && field.type !== 'Json') return;
  // A list's elements are sealed one by one, not whole: its message says so.
  const kind = field.type === 'String[]' ? 'listFilter' : 'typedFilter';
  if (!isPlainObject(filter)) throw unsupported(kind, model.name, field.name, 'equals');
  for (const [operation, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if ((operation === 'equals' || operation === 'not') && isNullCheck(value)) continue;
    const named = isPrismaNull(value) ? `${operation} ${String(value)}` : operation;
    throw unsupported(kind, model.name, field.name, named);
  }
}
