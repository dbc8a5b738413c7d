/**
 * The form in which the database will hold a row's id or scope value, so that what the
 * extension binds into the associated data (the row id) or picks a key by (the scope) is what
 * a later read gets back. Only `@db.Uuid` columns rewrite what they are given: PostgreSQL
 * accepts upper case, braces and missing hyphens but stores and returns the canonical
 * lower-case hyphenated form. Other columns store the value as written.
 */
import type { ModelMeta } from '../../metadata';
import { notUuid } from '../messages';

const HEX32 = /^[0-9a-f]{32}$/;

/**
 * The canonical form PostgreSQL gives `value` as a `uuid`, or `undefined` when it is not one
 * it accepts: 32 hex digits in any case, optionally in braces, with hyphens only between
 * groups of four digits.
 */
export function canonicalUuid(value: string): string | undefined {
  let text = value.toLowerCase();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  if (text.startsWith('-') || text.endsWith('-') || text.includes('--')) return undefined;
  const groups = text.split('-');
  if (groups.some((group) => group.length % 4 !== 0)) return undefined;
  const hex = groups.join('');
  if (!HEX32.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `value` of `model.field` as the database will hold it.
 * @throws InvalidArgumentError when the column is `@db.Uuid` and `value` is not a UUID (it
 *   would fail in the database anyway; this fails before anything is sealed or sent)
 */
export function storedForm(model: ModelMeta, field: string, value: string): string {
  if (model.fields[field]?.uuid !== true) return value;
  const canonical = canonicalUuid(value);
  if (canonical === undefined) throw notUuid(model.name, field);
  return canonical;
}
