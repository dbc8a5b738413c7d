/**
 * UTF-8 conversions of values, with a fast path for large ASCII text: on a long string Node's
 * UTF-8 encoder and decoder cost several times a Latin-1 copy (measured: about 3× to encode and
 * 5× to decode a megabyte; past about a megabyte the Latin-1 reader also returns a string held
 * outside V8's heap), and for ASCII the bytes and the string are the same either way. Short
 * values take the plain path: there is nothing to win.
 */
import { Buffer, isAscii } from 'node:buffer';

/** Values at least this long (characters or bytes) try the ASCII path first. */
const FAST_FROM = 64 * 1024;

/**
 * Matches a character above U+00FF. A single character class: linear, no backtracking, and V8
 * answers it without scanning a string it stores one byte per character (nearly every input).
 */
// eslint-disable-next-line no-control-regex -- the range starts at U+0000 on purpose
const WIDE_CHAR = /[^\x00-\xff]/;

/** Whether `text` has a character above U+00FF (free for a string V8 stores one byte a character). */
export function hasWideChar(text: string): boolean {
  return WIDE_CHAR.test(text);
}

/** The UTF-8 bytes of `text` (well-formed UTF-16), in a new buffer the caller owns and zeroes. */
export function encodeUtf8(text: string): Buffer {
  if (text.length < FAST_FROM || hasWideChar(text)) return Buffer.from(text, 'utf8');
  // Every character is at most U+00FF, so Latin-1 holds it exactly; if all are ASCII, those
  // bytes are the UTF-8 bytes too.
  const bytes = Buffer.from(text, 'latin1');
  if (isAscii(bytes)) return bytes;
  bytes.fill(0);
  return Buffer.from(text, 'utf8');
}

/** The string that UTF-8 `bytes` encode (invalid sequences become U+FFFD, as `toString` does). */
export function decodeUtf8(bytes: Buffer): string {
  if (bytes.length >= FAST_FROM && isAscii(bytes)) return bytes.toString('latin1');
  return bytes.toString('utf8');
}
