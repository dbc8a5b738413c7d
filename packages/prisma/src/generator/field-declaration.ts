/**
 * What a DMMF field's declaration says, as the checks in `model-builder.ts` read it: the value
 * type `@encrypted` sees, the declared length of its column, how its value is generated, its
 * relation; and the sizes they are held to (the shortest envelopes, the longest index value,
 * the values per bucket of a truncated index).
 */
import { maxBlindIndexLength } from '@hushfield/core';
import type { EncryptedFieldMeta, FieldMeta, IdGeneration, ReferentialAction } from '../metadata';
import type { DmmfField } from './dmmf';
import { nanoidSize } from '../id-generation';

/**
 * Shortest envelope (core's format 1): `hfe$1$` + key id (≥ 1) + `$` + version (≥ 1) + `$` +
 * wrapped DEK (80) + `$` + sealed empty value (38). Real ones are longer: the key ids hushfield
 * creates have 12 characters, and the value adds 4/3 of its UTF-8 bytes.
 */
export const MIN_ENVELOPE_LENGTH = 6 + 1 + 1 + 1 + 1 + 80 + 1 + 38;

/** What Prisma makes of a String without `@db` on MySQL: `VARCHAR(191)`. */
export const MYSQL_DEFAULT_VARCHAR = 191;

/**
 * Longest blind-index value of `bits` (core's `maxBlindIndexLength`): `v` + root version
 * (≤ 10 digits) + `.n` + normalizer version (≤ 3 digits) + `.` + base64url of ⌈bits / 8⌉ bytes.
 */
export function maxIndexLength(bits: number): number {
  return maxBlindIndexLength(bits);
}

/** Fewest values per bucket of a truncated index below which most values are alone in theirs. */
export const MIN_VALUES_PER_BUCKET = 2;
/** Most values per bucket (candidate rows each lookup decrypts) before the generator warns. */
export const MAX_VALUES_PER_BUCKET = 1000;

/**
 * The bit counts that give `expected` distinct values 2 to 1000 values per bucket on average
 * (`expected / 2^bits`), as `[low, high]` (empty when low > high).
 */
export function suggestedBits(expected: number): [number, number] {
  const low = Math.max(1, Math.ceil(Math.log2(expected / MAX_VALUES_PER_BUCKET)));
  const high = Math.min(255, Math.floor(Math.log2(expected / MIN_VALUES_PER_BUCKET)));
  return [low, high];
}

const LENGTH_LIMITED = ['VarChar', 'Char', 'NVarChar', 'NChar'];

/**
 * The declared maximum length of a `@db.VarChar(n)`-like column, or `null`. A `@db.Char` without
 * a length is `CHAR(1)` in SQL.
 */
export function declaredLength(field: DmmfField): { type: string; length: number } | null {
  const [type, args] = field.nativeType ?? ['', []];
  const length = args.length === 0 && (type === 'Char' || type === 'NChar') ? 1 : Number(args[0]);
  return LENGTH_LIMITED.includes(type) && Number.isSafeInteger(length) ? { type, length } : null;
}

/**
 * String native types that store any ASCII text as written (some up to a length, checked apart):
 * envelopes and index values fit. Not `Uuid`, `Inet`, `Bit`, `VarBit` (they parse the value and
 * refuse an envelope), `Xml`, nor PostgreSQL's one-byte `"char"` (`CatalogSingleChar`).
 */
const TEXT_NATIVE_TYPES = [
  'Text',
  'VarChar',
  'Char',
  'NVarChar',
  'NChar',
  'NText',
  'Citext',
  'TinyText',
  'MediumText',
  'LongText',
];

/** The `@db` type of a `String` field that cannot hold an envelope or an index value, or null. */
export function nonTextNativeType(field: DmmfField): string | null {
  const native = field.nativeType?.[0];
  if (field.type !== 'String' || native === undefined) return null;
  return TEXT_NATIVE_TYPES.includes(native) ? null : native;
}

/**
 * Shortest binary envelope (core's binary-envelope.ts): `hfb` + version + key id length + key id
 * (≥ 1) + key version (4) + wrapped DEK (60) + nonce and tag of an empty value (28).
 */
export const MIN_BINARY_ENVELOPE_BYTES = 3 + 1 + 1 + 1 + 4 + 60 + 28;

/** The declared length of a binary native type: MySQL `BINARY(n)`, `VARBINARY(n)`. */
export function binaryLength(field: DmmfField): { type: string; length: number } | null {
  const [type, args] = field.nativeType ?? ['', []];
  const length = Number(args[0]);
  return (type === 'Binary' || type === 'VarBinary') && Number.isSafeInteger(length) ? { type, length } : null;
}

/** The value type of a field `@encrypted` can be on, or null: String, String[] (scalar lists), Json, Bytes. */
export function encryptedTypeOf(field: DmmfField): 'String' | NonNullable<EncryptedFieldMeta['type']> | null {
  if (field.kind !== 'scalar') return null;
  if (field.type === 'String') return field.isList ? 'String[]' : 'String';
  if (field.isList) return null;
  return field.type === 'Json' || field.type === 'Bytes' ? field.type : null;
}

/** How a single id field gets its value, from its `@default`. */
export function idGenerationOf(field: DmmfField): IdGeneration {
  const d = field.default;
  if (!field.hasDefaultValue || d === undefined) return 'none';
  // A literal default or an unknown function is chosen outside the extension's view: not bindable.
  if (typeof d !== 'object' || Array.isArray(d) || !('name' in d)) return 'database';
  switch (d.name) {
    case 'ulid':
    case 'autoincrement':
      return d.name;
    case 'uuid':
      return d.args[0] === 7 ? 'uuid7' : 'uuid';
    case 'cuid':
      return d.args[0] === 2 ? 'cuid2' : 'cuid';
    case 'nanoid': {
      const size = d.args[0];
      return typeof size === 'number' && size !== nanoidSize('nanoid') ? `nanoid(${size})` : 'nanoid';
    }
    default:
      return 'database';
  }
}

/** What the metadata keeps of a relation field: the related model, and the foreign key when this side holds it. */
export function relationOf(
  field: DmmfField,
): Pick<FieldMeta, 'relationModel' | 'relationName' | 'relationFromFields' | 'relationToFields' | 'relationOnUpdate'> {
  const from = field.relationFromFields ?? [];
  const to = field.relationToFields ?? [];
  const onUpdate = REFERENTIAL_ACTIONS.find((action) => action === field.relationOnUpdate);
  return {
    relationModel: field.type,
    ...(field.relationName ? { relationName: field.relationName } : {}),
    ...(from.length > 0 && from.length === to.length
      ? {
          relationFromFields: [...from],
          relationToFields: [...to],
          ...(onUpdate ? { relationOnUpdate: onUpdate } : {}),
        }
      : {}),
  };
}

const REFERENTIAL_ACTIONS: readonly ReferentialAction[] = ['Cascade', 'Restrict', 'NoAction', 'SetNull', 'SetDefault'];

/** The bytes MySQL's bounded TEXT and BLOB types hold (`LONG...`, 4 GiB, are left out: no value is that long). */
const MYSQL_TEXT_BYTES: ReadonlyMap<string, number> = new Map([
  ['TinyText', 255],
  ['Text', 65_535],
  ['MediumText', 16_777_215],
]);
const MYSQL_BLOB_BYTES: ReadonlyMap<string, number> = new Map([
  ['TinyBlob', 255],
  ['Blob', 65_535],
  ['MediumBlob', 16_777_215],
]);

/**
 * The bytes a `Bytes` field's MySQL column holds (`FieldMeta.maxBytes`: `VarBinary(n)` or a
 * bounded BLOB), or nothing for other fields and providers.
 */
export function binaryColumnOf(field: DmmfField, provider: string | undefined): Pick<FieldMeta, 'maxBytes'> {
  if (provider !== 'mysql' || field.kind !== 'scalar' || field.type !== 'Bytes' || field.isList) return {};
  const declared = binaryLength(field);
  const bytes = declared?.type === 'VarBinary' ? declared.length : MYSQL_BLOB_BYTES.get(field.nativeType?.[0] ?? '');
  return bytes === undefined ? {} : { maxBytes: bytes };
}

/** Providers whose `CHAR(n)` returns a shorter value padded with spaces to `n`. */
const PADDING_PROVIDERS = ['postgresql', 'postgres', 'cockroachdb', 'sqlserver'];

/**
 * What the metadata keeps of a `String` column's declared length (see `FieldMeta.maxLength`,
 * `FieldMeta.fixedLength`, `FieldMeta.maxBytes`); empty for other fields. `provider` decides what a `Char(n)` does
 * to a shorter value; when it is not known, the extension refuses what either would change.
 */
export function textColumnOf(
  field: DmmfField,
  provider: string | undefined,
): Pick<FieldMeta, 'maxLength' | 'fixedLength' | 'maxBytes'> {
  // A list's bound is its elements' (PostgreSQL `varchar(n)[]`); MySQL has no list columns.
  if (field.kind !== 'scalar' || field.type !== 'String') return {};
  const bytes = provider === 'mysql' ? MYSQL_TEXT_BYTES.get(field.nativeType?.[0] ?? '') : undefined;
  if (bytes !== undefined) return { maxBytes: bytes };
  const declared = declaredLength(field);
  if (declared === null) return {};
  if (declared.type !== 'Char' && declared.type !== 'NChar') return { maxLength: declared.length };
  return { maxLength: declared.length, fixedLength: shorterCharValues(provider) };
}

/** What `provider`'s `CHAR(n)` returns for a value shorter than `n`. */
function shorterCharValues(provider: string | undefined): NonNullable<FieldMeta['fixedLength']> {
  if (provider === 'mysql') return 'trims';
  return provider !== undefined && PADDING_PROVIDERS.includes(provider) ? 'pads' : 'either';
}
