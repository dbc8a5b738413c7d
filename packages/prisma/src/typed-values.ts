/**
 * The plaintext forms of encrypted fields beyond `String`, and their stored forms: how a `Json`,
 * `Bytes` or `String[]` value is sealed under a row's DEK and opened again. Shared by the
 * extension and the CLI, so that values written by one open under the other.
 *
 * - `Json`: the value is serialized as Prisma serializes it for a plain `Json` column
 *   (json-input.ts) and sealed as one text envelope bound as `json`; the column holds that
 *   envelope as a JSON string, valid in `json`/`jsonb`. `null` and `Prisma.JsonNull` are sealed
 *   as the JSON text `null` (the database cannot tell it from any other value);
 *   `Prisma.DbNull` stays SQL NULL, like null in other fields.
 * - `Bytes`: one binary envelope (core's binary-envelope.ts), bound as `bytes`.
 * - `String[]`: each element sealed as a text envelope bound as `list` with its position and
 *   the list's length, so reordering, truncating or extending a stored list fails to decrypt.
 *   The number of elements (and each element's length) stays visible, as a string's length does.
 */
import { Buffer } from 'node:buffer';
import type { DecryptItem, FieldContext, RowEncryptor } from '@hushfield/core';
import { isNullMarker, prismaJsonText } from './json-input';
import type { EncryptedFieldMeta } from './metadata';

/** Whether `value` is one of Prisma's null markers named `name` (`JsonNull`, `DbNull`, `AnyNull`). */
export function isPrismaNull(value: unknown, name?: 'JsonNull' | 'DbNull' | 'AnyNull'): boolean {
  return isNullMarker(value, name);
}

/**
 * Whether a written value means SQL NULL for this field: `null`, or `Prisma.DbNull` for `Json`.
 * (A `Json` field's `null` and `Prisma.JsonNull` are JSON null to Prisma, a value sealed like any
 * other, on an optional field too.)
 */
export function isNullWrite(field: EncryptedFieldMeta, value: unknown): boolean {
  return field.type === 'Json' ? isPrismaNull(value, 'DbNull') : value === null;
}

/**
 * The JSON text a `Json` value is sealed as: what Prisma stores for it in a plain `Json` column
 * (json-input.ts has the rules: `null` and `Prisma.JsonNull` are `null`, a `BigInt` its digits
 * as a string, a byte array its base64 text, a null marker inside a value its name...), always
 * well-formed UTF-16.
 * @throws JsonInputError (a `TypeError`) when Prisma would refuse the value: `undefined` in a
 *   list, a function or symbol, an invalid `Date`, a cycle; callers turn it into a typed error
 */
export function jsonText(value: unknown): string {
  return prismaJsonText(value);
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
      return encryptor.encrypt(jsonText(plain), { ...ctx, kind: 'json' });
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
