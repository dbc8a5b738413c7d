/**
 * The form in which the database will hold a row's id or scope value, so that what the
 * extension binds into the associated data (the row id) or picks a key by (the scope) is what
 * a later read gets back. `@db.Uuid` columns rewrite what they are given: PostgreSQL
 * accepts upper case, braces and missing hyphens but stores and returns the canonical
 * lower-case hyphenated form, which the extension uses instead. A `@db.Char(n)` column returns
 * some values in another form (padded, or without trailing spaces), and a `VarChar(n)` cuts
 * trailing spaces beyond `n` (a MySQL TEXT type, in a session without a strict `sql_mode`,
 * whatever is beyond its byte limit): those values are refused, so that a scope is always named as
 * the caller wrote it. Other columns store the value as written.
 */
import { Buffer } from 'node:buffer';
import { columnCapacity } from '../../column-capacity';
import type { FieldMeta, ModelMeta } from '../../metadata';
import { notAsStored, notUuid } from '../messages';

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
 * @throws InvalidArgumentError when the column would not return it as written and the extension
 *   cannot give the form it would: not a UUID for a `@db.Uuid` column (it would fail in the
 *   database anyway), longer than a `VarChar(n)` or `Char(n)` holds (or, in bytes, a MySQL
 *   `TinyText`/`Text`/`MediumText`), shorter than a PostgreSQL
 *   `Char(n)` (padded when read), or ending in a space for a MySQL `Char(n)` (stripped when
 *   read). These fail before anything is sealed or sent: a value sealed for a scope or row id
 *   the row then reads back in another form could never be decrypted.
 */
export function storedForm(model: ModelMeta, field: string, value: string): string {
  const meta = model.fields[field];
  if (meta === undefined) return value;
  if (meta.uuid === true) {
    const canonical = canonicalUuid(value);
    if (canonical === undefined) throw notUuid(model.name, field);
    return canonical;
  }
  if (meta.maxLength !== undefined) checkLength(model, field, value, meta.maxLength, meta.fixedLength);
  if (meta.maxBytes !== undefined && meta.type !== 'Bytes') checkBytes(model, field, value, meta.maxBytes);
  return value;
}

/**
 * Refuses `value` where a MySQL TEXT-family column of `maxBytes` bytes (`TinyText`: 255) would
 * cut it, or refuse it: its limit is in bytes of utf8mb4, so a value of few characters may
 * outgrow it, and the key table's `VARCHAR(191)` (counted in characters) takes its scope.
 */
function checkBytes(model: ModelMeta, field: string, value: string, maxBytes: number): void {
  // A string of n UTF-16 units is at most 3n bytes of UTF-8: count only when it may not fit.
  if (value.length * 3 <= maxBytes || Buffer.byteLength(value, 'utf8') <= maxBytes) return;
  const column = columnCapacity(model.fields[field])?.column ?? `text (${maxBytes} bytes)`;
  throw notAsStored(
    model.name,
    field,
    column,
    `the value has more than ${maxBytes} bytes in UTF-8, which the database refuses or cuts to fit`,
  );
}

/** Refuses `value` where a column of `maxLength` characters (fixed-length as `fixed` says) would change it. */
function checkLength(
  model: ModelMeta,
  field: string,
  value: string,
  maxLength: number,
  fixed: FieldMeta['fixedLength'],
): void {
  const column = `${fixed === undefined ? 'VarChar' : 'Char'}(${maxLength})`;
  const refuse = (why: string) => notAsStored(model.name, field, column, why);
  // Both databases count characters (code points); a string has at least as many UTF-16 units.
  const counted = value.length > maxLength || fixed === 'pads' || fixed === 'either';
  const characters = counted ? [...value].length : value.length;
  if (characters > maxLength)
    throw refuse(`the value has more than ${maxLength} characters, which the database refuses or cuts to fit`);
  // With the provider unknown (`either`), both databases' changes are refused, each named.
  if ((fixed === 'pads' || fixed === 'either') && characters < maxLength)
    throw refuse(
      `${fixed === 'pads' ? 'the database' : 'PostgreSQL'} pads a value of fewer than ${maxLength} characters ` +
        `with spaces when it returns it; give all ${maxLength}, or declare the column VarChar(${maxLength})`,
    );
  if ((fixed === 'trims' || fixed === 'either') && value.endsWith(' '))
    throw refuse(
      `${fixed === 'trims' ? 'the database returns' : 'MySQL and MariaDB return'} a Char value without its ` +
        `trailing spaces; give one that does not end in a space, or declare the column VarChar(${maxLength})`,
    );
}

/**
 * The form in which the rows that an equality filter on `model.field` with `value` matches hold
 * the value, for picking a where's scope key (a per-scope index lookup): a PostgreSQL `Char(n)`
 * compares a shorter value padded with spaces (`acme` matches `acme    `), MySQL and MariaDB
 * compare a `CHAR` without its trailing spaces, a uuid column in its canonical form. Unlike
 * {@link storedForm} it refuses nothing a filter may give: a read names no key a write would create.
 * @throws InvalidArgumentError when the column is `@db.Uuid` and `value` is not a UUID (the
 *   database would refuse the query)
 */
export function filteredForm(model: ModelMeta, field: string, value: string): string {
  const meta = model.fields[field];
  if (meta === undefined) return value;
  if (meta.uuid === true) return storedForm(model, field, value);
  if (meta.maxLength === undefined) return value;
  if (meta.fixedLength === 'trims') return value.replace(/ +$/, '');
  if (meta.fixedLength !== 'pads' || value.length >= meta.maxLength * 2) return value;
  const characters = [...value].length;
  return characters < meta.maxLength ? value + ' '.repeat(meta.maxLength - characters) : value;
}
