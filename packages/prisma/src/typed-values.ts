/**
 * The plaintext forms of encrypted fields beyond `String`, and their stored forms: how a `Json`,
 * `Bytes` or `String[]` value is sealed under a row's DEK and opened again. Shared by the
 * extension and the CLI, so that values written by one open under the other.
 *
 * - `Json`: the value is serialized (`JSON.stringify`, as Prisma serializes it) and sealed as
 *   one text envelope bound as `json`; the column holds that envelope as a JSON string, valid
 *   in `json`/`jsonb`. `Prisma.JsonNull` is sealed as the JSON text `null` (the database cannot
 *   tell it from any other value); `Prisma.DbNull` stays SQL NULL, like null in other fields.
 * - `Bytes`: one binary envelope (core's binary-envelope.ts), bound as `bytes`.
 * - `String[]`: each element sealed as a text envelope bound as `list` with its position and
 *   the list's length, so reordering, truncating or extending a stored list fails to decrypt.
 *   The number of elements (and each element's length) stays visible, as a string's length does.
 */
import { Buffer } from 'node:buffer';
import type { DecryptItem, FieldContext, RowEncryptor } from '@hushfield/core';
import type { EncryptedFieldMeta } from './metadata';

/** Whether `value` is one of Prisma's null markers named `name` (`JsonNull`, `DbNull`, `AnyNull`). */
export function isPrismaNull(value: unknown, name?: 'JsonNull' | 'DbNull' | 'AnyNull'): boolean {
  if (value === null || typeof value !== 'object') return false;
  const marker = value as { _getNamespace?: unknown; _getName?: unknown };
  if (typeof marker._getNamespace !== 'function' || typeof marker._getName !== 'function') return false;
  if ((marker._getNamespace as () => string)() !== 'NullTypes') return false;
  return name === undefined || (marker._getName as () => string)() === name;
}

/**
 * Whether a written value means SQL NULL for this field: `null`, or `Prisma.DbNull` for `Json`.
 * (A `Json` field's `Prisma.JsonNull` is a value, sealed like any other.)
 */
export function isNullWrite(field: EncryptedFieldMeta, value: unknown): boolean {
  return value === null || (field.type === 'Json' && isPrismaNull(value, 'DbNull'));
}

/**
 * The JSON text a `Json` value is sealed as: `Prisma.JsonNull` is `null`; anything else is
 * `JSON.stringify(value)` (whose output is always well-formed UTF-16), or `undefined` when the
 * value has no JSON form (a function, a symbol...). A byte array (`Buffer`, `Uint8Array`, any
 * `ArrayBuffer` view) anywhere in the value is written as its base64 text, as Prisma writes it
 * to a plain `Json` column (rather than a Buffer's `toJSON` form or a typed array's index keys).
 * @throws TypeError from `JSON.stringify` (a BigInt, a cycle): callers turn it into a typed error
 */
export function jsonText(value: unknown): string | undefined {
  if (isPrismaNull(value, 'JsonNull')) return 'null';
  // A Decimal given as the whole value is a JSON number to Prisma (inside an object or a list,
  // its `toJSON` string, as JSON.stringify writes it): its digits in plain notation.
  if (isDecimal(value) && value.isFinite()) return value.toFixed();
  return JSON.stringify(value, prismaJsonReplacer) as string | undefined;
}

/** Whether `value` is a decimal.js `Decimal` (`Prisma.Decimal`), recognized as Prisma recognizes one. */
function isDecimal(value: unknown): value is { toFixed(): string; isFinite(): boolean } {
  if (value === null || typeof value !== 'object') return false;
  const d = value as { s?: unknown; e?: unknown; d?: unknown; toFixed?: unknown; isFinite?: unknown };
  return (
    typeof d.s === 'number' &&
    typeof d.e === 'number' &&
    Array.isArray(d.d) &&
    typeof d.toFixed === 'function' &&
    typeof d.isFinite === 'function'
  );
}

/**
 * `JSON.stringify`'s replacer mirroring Prisma's serialization of JSON input: an `ArrayBuffer`
 * view becomes base64. Read from the holder (`this[key]`), since `JSON.stringify` has already
 * replaced a Buffer by its `toJSON()` form when the replacer sees `value`.
 */
function prismaJsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (ArrayBuffer.isView(original)) {
    return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
  }
  return value;
}

/**
 * Seals one field's plaintext value into its stored form under the row's DEK. The value was
 * checked by the query guard (or the CLI) already; not for nulls.
 */
export function sealTyped(
  encryptor: RowEncryptor,
  field: EncryptedFieldMeta,
  plain: unknown,
  ctx: FieldContext,
): string | Buffer | string[] {
  switch (field.type) {
    case 'Json':
      return encryptor.encrypt(jsonText(plain) as string, { ...ctx, kind: 'json' });
    case 'Bytes':
      return encryptor.encryptBytes(plain as Uint8Array, { ...ctx, kind: 'bytes' });
    case 'String[]': {
      const list = plain as readonly string[];
      const count = list.length;
      return list.map((item, index) => encryptor.encrypt(item, { ...ctx, kind: 'list', index, count }));
    }
    default:
      return encryptor.encrypt(plain as string, ctx);
  }
}

/**
 * Whether a stored value of `field` is sealed: a text envelope (`String`, and a `Json` value
 * that is a string), a binary envelope, or a list whose elements are all envelopes.
 * `isEnvelope` is core's prefix test; an empty list counts as sealed (nothing to seal).
 */
export function isSealedValue(
  field: EncryptedFieldMeta,
  stored: unknown,
  isEnvelope: (value: string) => boolean,
  isBinary: (value: Uint8Array) => boolean,
): boolean {
  switch (field.type) {
    case 'Bytes':
      return stored instanceof Uint8Array && isBinary(stored);
    case 'String[]':
      return Array.isArray(stored) && stored.every((item) => typeof item === 'string' && isEnvelope(item));
    default:
      return typeof stored === 'string' && isEnvelope(stored);
  }
}

/**
 * The decrypt items of one sealed stored value (as {@link isSealedValue} decided): one per list
 * element, each bound to its position and the list's length as read; one otherwise.
 */
export function typedItems(field: EncryptedFieldMeta, stored: unknown, ctx: FieldContext): DecryptItem[] {
  switch (field.type) {
    case 'Json':
      return [{ value: stored as string, ctx: { ...ctx, kind: 'json' } }];
    case 'Bytes':
      return [{ value: stored as Uint8Array, ctx: { ...ctx, kind: 'bytes' } }];
    case 'String[]': {
      const list = stored as string[];
      const count = list.length;
      return list.map((value, index) => ({ value, ctx: { ...ctx, kind: 'list', index, count } }));
    }
    default:
      return [{ value: stored as string, ctx }];
  }
}

/** How many decrypt items a sealed stored value makes ({@link typedItems}' length). */
export function itemCount(field: EncryptedFieldMeta, stored: unknown): number {
  return field.type === 'String[]' ? (stored as unknown[]).length : 1;
}

/**
 * The plaintext value of a field from its decrypted items (in {@link typedItems}' order):
 * `Json` parsed back (a sealed `JsonNull` reads as `null`, as Prisma reads a JSON null),
 * `Bytes` as a `Uint8Array`, `String[]` as the list.
 * @throws SyntaxError when a `Json` plaintext is not JSON (it authenticated, so it was written so)
 */
export function typedPlain(field: EncryptedFieldMeta, opened: readonly (string | Buffer)[]): unknown {
  switch (field.type) {
    case 'Json':
      return JSON.parse(opened[0] as string);
    case 'Bytes':
      return asUint8Array(opened[0] as Buffer);
    case 'String[]':
      return [...opened];
    default:
      return opened[0];
  }
}

/** `buffer` as a plain `Uint8Array` (what Prisma returns for `Bytes`), over its own memory. */
function asUint8Array(buffer: Buffer): Uint8Array {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength)
    return new Uint8Array(buffer.buffer, 0, buffer.byteLength);
  const copy = new Uint8Array(buffer);
  buffer.fill(0);
  return copy;
}
