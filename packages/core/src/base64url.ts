/**
 * Strict, canonical base64url (RFC 4648 §5, no padding) for parsers. Node's decoder is
 * lenient (it skips invalid characters, accepts the standard alphabet and padding, and ignores
 * stray low bits), while its encoder is canonical. So a string is accepted only if decoding it
 * and encoding the bytes again gives it back unchanged: every byte string then has exactly one
 * accepted encoding, and any edit to an encoded field changes the decoded bytes or is refused.
 * Both steps are native; callers cap lengths before calling.
 */

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
 * Decodes `text[start, end)` if it is the canonical unpadded base64url encoding of some bytes
 * (only alphabet characters, a possible length, zero bits in the unused low bits of the last
 * character), else returns `null`.
 * @returns a new buffer the caller owns, or `null`
 */
export function decodeCanonicalBase64url(text: string, start = 0, end = text.length): Buffer | null {
  const slice = start === 0 && end === text.length ? text : text.slice(start, end);
  const bytes = Buffer.from(slice, 'base64url');
  // Node's encoder writes each byte string one way: any other input encodes back differently.
  return bytes.toString('base64url') === slice ? bytes : null;
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
