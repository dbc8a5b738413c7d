/**
 * Strict, canonical base64url (RFC 4648 §5, no padding) for parsers. Node's decoder is
 * lenient (it skips characters outside the alphabet, reads `+` and `/` as `-` and `_`, stops at
 * `=`, keeps only the low byte of a character above U+00FF, and ignores stray low bits), while
 * its encoder is canonical. {@link decodeCanonicalBase64url} accepts a string only if it is the
 * one encoding Node's encoder would write for the decoded bytes, without encoding them again
 * (a second pass over a large value): every byte string then has exactly one accepted encoding,
 * and any edit to an encoded field changes the decoded bytes or is refused. Callers cap lengths
 * before calling.
 */

import { Buffer } from 'node:buffer';
import { hasWideChar } from './utf8';

/** The number of characters that encode `bytes` bytes without padding. */
export function encodedLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/** The number of bytes a canonical encoding of `chars` characters holds, or -1 if none exists. */
export function decodedLength(chars: number): number {
  const rest = chars % 4;
  if (rest === 1) return -1;
  return ((chars - rest) / 4) * 3 + (rest === 0 ? 0 : rest - 1);
}

/** Value of each alphabet character by code (−1 elsewhere): for the last character's unused bits. */
const VALUES = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => {
  VALUES[c.charCodeAt(0)] = i;
});

/**
 * Decodes `text[start, end)` if it is the canonical unpadded base64url encoding of some bytes
 * (only alphabet characters, a possible length, zero bits in the unused low bits of the last
 * character), else returns `null`.
 *
 * Equivalent to "decode, encode again, compare", in native passes over the input only:
 * - a character above U+00FF is refused outright (the decoder would keep its low byte);
 * - `+`, `/` and `=` are refused by search (the decoder reads the first two as alphabet);
 * - any other character outside the alphabet is skipped by the decoder, so the output comes
 *   out shorter than the character count implies (also when decoded piece by piece: a piece
 *   with a skipped character yields fewer bytes), and the length check refuses it;
 * - the last character is looked up, so its unused low bits must be zero.
 * `base64url.test.ts` holds this against the reference definition and Node's own encoder.
 * @returns a new buffer the caller owns, or `null`
 */
export function decodeCanonicalBase64url(text: string, start = 0, end = text.length): Buffer | null {
  const chars = end - start;
  const bytes = decodedLength(chars);
  if (bytes < 0) return null;
  if (chars > 0 && !hasCanonicalLastChar(text.charCodeAt(end - 1), chars % 4)) return null;
  const slice = start === 0 && end === text.length ? text : text.slice(start, end);
  if (slice.indexOf('+') >= 0 || slice.indexOf('/') >= 0 || slice.indexOf('=') >= 0 || hasWideChar(slice)) return null;
  if (chars < DECODE_IN_PIECES_FROM) {
    const decoded = Buffer.from(slice, 'base64url');
    return decoded.length === bytes ? decoded : null;
  }
  // Piece by piece into one buffer: Node copies a string it decodes unless the string owns its
  // characters, and a fresh megabyte-long copy costs more than the decoding itself.
  const decoded = Buffer.allocUnsafe(bytes);
  let written = 0;
  for (let at = 0; at < chars; at += PIECE_CHARS) {
    written += decoded.write(slice.slice(at, Math.min(at + PIECE_CHARS, chars)), written, 'base64url');
  }
  return written === bytes ? decoded : null;
}

/**
 * Like {@link decodeCanonicalBase64url}, but decodes into `target` (when it is large enough;
 * else into a new buffer, as that does): a batch reuses one buffer for values it opens at once,
 * instead of allocating one per value.
 * @returns a view of `target` (valid until `target` is written again) or a new buffer, or `null`
 */
export function decodeCanonicalBase64urlInto(text: string, start: number, end: number, target: Buffer): Buffer | null {
  const chars = end - start;
  const bytes = decodedLength(chars);
  if (bytes < 0 || bytes > target.length || chars >= DECODE_IN_PIECES_FROM)
    return decodeCanonicalBase64url(text, start, end);
  if (chars > 0 && !hasCanonicalLastChar(text.charCodeAt(end - 1), chars % 4)) return null;
  const slice = start === 0 && end === text.length ? text : text.slice(start, end);
  if (slice.indexOf('+') >= 0 || slice.indexOf('/') >= 0 || slice.indexOf('=') >= 0 || hasWideChar(slice)) return null;
  // Fewer bytes than the characters imply: a character outside the alphabet was skipped.
  if (target.write(slice, 0, bytes, 'base64url') !== bytes) return null;
  return target.subarray(0, bytes);
}

/** Encodings at least this long are decoded piece by piece. */
const DECODE_IN_PIECES_FROM = 64 * 1024;
/** Characters decoded at a time: a multiple of 4, so every piece but the last decodes whole. */
const PIECE_CHARS = 64 * 1024;

/** Whether `code` is an alphabet character whose bits beyond the encoded bytes are zero. */
function hasCanonicalLastChar(code: number, rest: number): boolean {
  const value = code < 128 ? VALUES[code] : -1;
  if (value < 0) return false;
  // Two characters of a group carry one byte (4 spare bits), three carry two (2 spare bits).
  if (rest === 2) return (value & 0x0f) === 0;
  if (rest === 3) return (value & 0x03) === 0;
  return true;
}

/** Whether `text[start, end)` is canonical unpadded base64url (see {@link decodeCanonicalBase64url}). */
export function isCanonicalBase64url(text: string, start = 0, end = text.length): boolean {
  return decodeCanonicalBase64url(text, start, end) !== null;
}

/** Encodes bytes as unpadded base64url. */
export function toBase64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/**
 * Whether `text` is canonical padded standard base64 (RFC 4648 §4), as used for keys in files,
 * environment variables and the key store: decoding and re-encoding gives it back unchanged.
 */
export function isCanonicalBase64(text: string): boolean {
  if (text.length === 0 || text.length % 4 !== 0) return false;
  return Buffer.from(text, 'base64').toString('base64') === text;
}
