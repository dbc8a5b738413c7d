/**
 * The bytes `Pkcs11Keyring` stores for a wrapped key: the mechanism, the 96-bit IV and the
 * CKM_AES_GCM output (ciphertext ‖ 128-bit tag). Parsed with every length fixed or capped;
 * anything else is rejected before the token is asked.
 *
 * Layout (version 1):
 * ```
 * "HFP"  version(1)=0x01  mechanism(1)=0x01 (CKM_AES_GCM, 96-bit IV, 128-bit tag)
 *        iv(12)  ciphertext ‖ tag (17..4112)
 * ```
 */

const MAGIC = Buffer.from('HFP', 'ascii');
const FORMAT_VERSION = 0x01;
/** The one mechanism of format version 1. */
export const MECHANISM_AES_GCM = 0x01;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Plaintext keys are 1..4096 bytes. */
export const MAX_PLAINTEXT_BYTES = 4096;
const HEADER_BYTES = MAGIC.length + 2;

/** A parsed wrapped key. */
export interface WrappedGcmKey {
  readonly iv: Buffer;
  /** Ciphertext followed by the tag, as C_Encrypt returned and C_Decrypt takes it. */
  readonly sealed: Buffer;
}

/** The result of {@link decodeWrappedGcm}: the parts, or why they were rejected. */
export type DecodeGcmResult =
  { readonly ok: true; readonly value: WrappedGcmKey } | { readonly ok: false; readonly reason: string };

/**
 * Frames an IV and the token's GCM output.
 * @throws RangeError when the IV is not 12 bytes or the output is not 17..4112 bytes
 */
export function encodeWrappedGcm(iv: Buffer, sealed: Buffer): Buffer {
  if (iv.length !== IV_BYTES) throw new RangeError(`iv must be ${IV_BYTES} bytes`);
  if (sealed.length <= TAG_BYTES || sealed.length > MAX_PLAINTEXT_BYTES + TAG_BYTES) {
    throw new RangeError(`sealed must be ${TAG_BYTES + 1} to ${MAX_PLAINTEXT_BYTES + TAG_BYTES} bytes`);
  }
  return Buffer.concat([MAGIC, Buffer.of(FORMAT_VERSION, MECHANISM_AES_GCM), iv, sealed]);
}

/** Parses bytes made by {@link encodeWrappedGcm}; never throws. */
export function decodeWrappedGcm(bytes: Buffer): DecodeGcmResult {
  const fail = (reason: string): DecodeGcmResult => ({ ok: false, reason });
  if (!Buffer.isBuffer(bytes)) return fail('not a Buffer');
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return fail('bad magic');
  if (bytes[MAGIC.length] !== FORMAT_VERSION) return fail(`unsupported format version ${bytes[MAGIC.length]}`);
  if (bytes[MAGIC.length + 1] !== MECHANISM_AES_GCM) return fail(`unsupported mechanism ${bytes[MAGIC.length + 1]}`);
  const sealedLength = bytes.length - HEADER_BYTES - IV_BYTES;
  if (sealedLength <= TAG_BYTES) return fail('truncated');
  if (sealedLength > MAX_PLAINTEXT_BYTES + TAG_BYTES) return fail('too long');
  const iv = Buffer.from(bytes.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES));
  return { ok: true, value: { iv, sealed: Buffer.from(bytes.subarray(HEADER_BYTES + IV_BYTES)) } };
}
