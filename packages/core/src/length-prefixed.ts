/**
 * Unambiguous byte encodings for associated data and key-derivation info: every string is
 * written as a 4-byte big-endian length followed by its UTF-8 bytes, so no two different
 * sequences of fields encode to the same bytes ("ab","c" ≠ "a","bc").
 */
import { Buffer } from 'node:buffer';

/** One field of a length-prefixed encoding. */
export type Field = string | { readonly u32: number } | { readonly u8: number };

function fieldLength(field: Field): number {
  if (typeof field === 'string') return 4 + Buffer.byteLength(field, 'utf8');
  return 'u32' in field ? 4 : 1;
}

/**
 * Encodes fields in order: strings as `u32be(length) ‖ utf8`, numbers as fixed-width
 * big-endian integers.
 */
export function encodeFields(fields: readonly Field[]): Buffer {
  let total = 0;
  for (const field of fields) total += fieldLength(field);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const field of fields) {
    if (typeof field === 'string') {
      const written = out.write(field, at + 4, 'utf8');
      out.writeUInt32BE(written, at);
      at += 4 + written;
    } else if ('u32' in field) {
      at = out.writeUInt32BE(field.u32, at);
    } else {
      at = out.writeUInt8(field.u8, at);
    }
  }
  return out;
}
