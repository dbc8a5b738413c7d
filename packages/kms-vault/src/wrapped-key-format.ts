/**
 * How a Transit-wrapped key is stored (the key store's `wrapped_key` column, base64):
 *
 * `"HFV" 0x01 ‖ nameLength (u8) ‖ Transit key name ‖ ciphertextLength (u16 BE) ‖ Transit ciphertext`
 *
 * The ciphertext is Vault's own text, `vault:v<N>:<base64>`, kept verbatim so that Vault reads
 * the key version from it. Parsed without regular expressions, every length capped, anything
 * truncated, oversized or with trailing bytes rejected before Vault is called.
 */

const MAGIC = Buffer.from('HFV\x01', 'latin1');
/** Transit key names are path segments; 255 bytes is generous. */
export const MAX_KEY_NAME_BYTES = 255;
/** A 32-byte key wraps to ~80 characters; 4 KiB leaves room for any key type Transit has. */
export const MAX_CIPHERTEXT_BYTES = 4096;

/** A parsed wrapped key. */
export interface WrappedKeyParts {
  /** The Transit key that wrapped it. */
  readonly keyName: string;
  /** `vault:v<N>:<base64>`. */
  readonly ciphertext: string;
  /** The key version N from the ciphertext prefix. */
  readonly keyVersion: number;
}

const BASE64_CHARS = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=');

/**
 * The key version of a Transit ciphertext, or `undefined` when it is not `vault:v<N>:<base64>`.
 */
export function ciphertextVersion(ciphertext: string): number | undefined {
  if (!ciphertext.startsWith('vault:v')) return undefined;
  const end = ciphertext.indexOf(':', 7);
  if (end < 8 || end > 7 + 9) return undefined;
  const digits = ciphertext.slice(7, end);
  for (const char of digits) if (char < '0' || char > '9') return undefined;
  const version = Number(digits);
  if (!Number.isSafeInteger(version) || version < 1 || digits[0] === '0') return undefined;
  const body = ciphertext.slice(end + 1);
  if (body.length === 0) return undefined;
  for (const char of body) if (!BASE64_CHARS.has(char)) return undefined;
  return version;
}

/**
 * Frames a Transit ciphertext with the key name.
 * @throws RangeError when the name or ciphertext exceeds its cap or the ciphertext is not Transit's
 */
export function encodeWrappedKey(keyName: string, ciphertext: string): Buffer {
  const name = Buffer.from(keyName, 'utf8');
  const text = Buffer.from(ciphertext, 'latin1');
  if (name.length < 1 || name.length > MAX_KEY_NAME_BYTES) throw new RangeError('keyName must be 1 to 255 bytes');
  if (text.length > MAX_CIPHERTEXT_BYTES || ciphertextVersion(ciphertext) === undefined) {
    throw new RangeError('ciphertext must be a Transit ciphertext of at most 4096 bytes');
  }
  const textLength = Buffer.alloc(2);
  textLength.writeUInt16BE(text.length);
  return Buffer.concat([MAGIC, Buffer.of(name.length), name, textLength, text]);
}

/** Parses {@link encodeWrappedKey}'s output; `reason` says what is wrong (no bytes quoted). */
export function decodeWrappedKey(bytes: Buffer): { ok: true; value: WrappedKeyParts } | { ok: false; reason: string } {
  if (!Buffer.isBuffer(bytes) || bytes.length < MAGIC.length + 1) return { ok: false, reason: 'too short' };
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, reason: 'not a Vault Transit wrapped key' };
  let offset = MAGIC.length;
  const nameLength = bytes[offset++];
  if (nameLength < 1 || offset + nameLength + 2 > bytes.length) return { ok: false, reason: 'truncated key name' };
  const keyName = bytes.toString('utf8', offset, offset + nameLength);
  offset += nameLength;
  const textLength = bytes.readUInt16BE(offset);
  offset += 2;
  if (textLength > MAX_CIPHERTEXT_BYTES) return { ok: false, reason: 'ciphertext too long' };
  if (offset + textLength !== bytes.length) return { ok: false, reason: 'truncated or trailing bytes' };
  const ciphertext = bytes.toString('latin1', offset);
  const keyVersion = ciphertextVersion(ciphertext);
  if (keyVersion === undefined) return { ok: false, reason: 'not a vault:v<N>: ciphertext' };
  return { ok: true, value: { keyName, ciphertext, keyVersion } };
}
