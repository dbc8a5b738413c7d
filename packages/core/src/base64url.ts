/**
 * Strict, canonical base64url (RFC 4648 §5, no padding) for parsers. Node's decoder is
 * lenient (it skips invalid characters and ignores stray bits), so parsers check a string
 * with {@link isCanonicalBase64url} before decoding it: every byte string then has exactly one
 * accepted encoding, and any edit to an encoded field changes the decoded bytes or is refused.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Character code → 6-bit value, or -1. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

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

/**
 * Whether `text[start, end)` is the canonical unpadded base64url encoding of some bytes:
 * only alphabet characters, a possible length, and zero bits in the unused low bits of the
 * last character.
 */
export function isCanonicalBase64url(text: string, start = 0, end = text.length): boolean {
  const length = end - start;
  if (length % 4 === 1) return false;
  let last = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128) return false;
    last = VALUES[code];
    if (last < 0) return false;
  }
  const rest = length % 4;
  if (rest === 2) return (last & 0x0f) === 0;
  if (rest === 3) return (last & 0x03) === 0;
  return true;
}

/** Encodes bytes as unpadded base64url. */
export function toBase64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Decodes `text[start, end)`, which must have passed {@link isCanonicalBase64url}. */
export function fromBase64url(text: string, start = 0, end = text.length): Buffer {
  return Buffer.from(start === 0 && end === text.length ? text : text.slice(start, end), 'base64url');
}

/**
 * Whether `text` is canonical padded standard base64 (RFC 4648 §4), as used for keys in files,
 * environment variables and the key store: decoding and re-encoding gives it back unchanged.
 */
export function isCanonicalBase64(text: string): boolean {
  if (text.length === 0 || text.length % 4 !== 0) return false;
  return Buffer.from(text, 'base64').toString('base64') === text;
}
