/**
 * How long a sealed value its column holds. A database refuses a longer value, or (MySQL
 * without a strict `sql_mode`) cuts it to fit, and a cut envelope never decrypts: the extension
 * and the CLI refuse to write one instead.
 */
import type { FieldMeta } from './metadata';

/**
 * What a bounded column holds: its limit (characters of a text envelope, which are ASCII, or
 * bytes of a binary one) and its type as messages name it.
 */
export interface ColumnCapacity {
  readonly limit: number;
  readonly column: string;
  /** The native type attribute of the next larger column, which messages suggest (`@db.MediumText`). */
  readonly larger: string;
}

/** The next larger MySQL type of each bounded TEXT and BLOB size. */
const LARGER_TEXT: ReadonlyMap<number, string> = new Map([
  [255, '@db.Text'],
  [65_535, '@db.MediumText'],
  [16_777_215, '@db.LongText'],
]);
const LARGER_BLOB: ReadonlyMap<number, string> = new Map([
  [255, '@db.Blob'],
  [65_535, '@db.MediumBlob'],
  [16_777_215, '@db.LongBlob'],
]);

const MYSQL_TEXT_NAMES: ReadonlyMap<number, string> = new Map([
  [255, 'TinyText'],
  [65_535, 'Text'],
  [16_777_215, 'MediumText'],
]);

/**
 * The capacity of `field`'s column, or `undefined` when it holds any envelope: a
 * `VarChar(n)`/`Char(n)` (`maxLength` characters), a MySQL TEXT type (`maxBytes` bytes, one
 * per character of an envelope) or a bounded MySQL binary type (`maxBytes` bytes of a binary
 * envelope).
 * @param field - the field's metadata (`ModelMeta.fields[name]`), or `undefined`
 * @example columnCapacity(model.fields.note) // { limit: 300, column: 'VarChar(300)', larger: '@db.Text' }
 */
export function columnCapacity(field: FieldMeta | undefined): ColumnCapacity | undefined {
  if (field?.maxLength !== undefined) {
    const type = field.fixedLength === undefined ? 'VarChar' : 'Char';
    return { limit: field.maxLength, column: `${type}(${field.maxLength})`, larger: '@db.Text' };
  }
  if (field?.maxBytes !== undefined) {
    const bytes = field.type === 'Bytes';
    const name = bytes ? 'binary' : (MYSQL_TEXT_NAMES.get(field.maxBytes) ?? 'text');
    const larger = (bytes ? LARGER_BLOB : LARGER_TEXT).get(field.maxBytes) ?? (bytes ? '@db.Blob' : '@db.Text');
    return { limit: field.maxBytes, column: `${name} (${field.maxBytes} bytes)`, larger };
  }
  return undefined;
}

/**
 * Whether a sealed value (an envelope, or a `String[]`'s envelopes, each bounded alone) is longer
 * than `capacity` holds.
 * @param sealed - what `sealTyped` or an encryptor returned for the field
 * @param capacity - the field's {@link columnCapacity}
 * @example overCapacity(['v1.…', 'v1.…'], columnCapacity(model.fields.codes)!) // false when each fits
 */
export function overCapacity(
  sealed: { readonly length: number } | readonly { readonly length: number }[],
  capacity: ColumnCapacity,
): boolean {
  return Array.isArray(sealed)
    ? sealed.some((element: { readonly length: number }) => element.length > capacity.limit)
    : sealed.length > capacity.limit;
}
