/**
 * The bytes `AwsKmsKeyring` stores for a wrapped key: the KMS key ARN that made the
 * ciphertext (as KMS reported it) next to the KMS ciphertext blob, so `Decrypt` names the exact
 * key even after an alias moves. Parsed with every length capped; anything else is rejected.
 *
 * Layout (version 1):
 * ```
 * "HFK"  version(1)=0x01  arnLength(u16 BE, 20..2048)  arn(ASCII)
 *        blobLength(u16 BE, 1..6144)  blob
 * ```
 */

const MAGIC = Buffer.from('HFK', 'ascii');
const FORMAT_VERSION = 0x01;
/** Caps: ARNs are at most 2048 characters, KMS ciphertext blobs at most 6144 bytes. */
export const MAX_ARN_BYTES = 2048;
export const MAX_BLOB_BYTES = 6144;
const MIN_ARN_BYTES = 20;

/** A parsed wrapped key. */
export interface WrappedKmsKey {
  /** The key ARN KMS reported when it encrypted. */
  readonly keyArn: string;
  /** The KMS ciphertext blob (opaque). */
  readonly ciphertext: Buffer;
}

/** The result of {@link decodeWrappedKey}: the parts, or why they were rejected. */
export type DecodeResult =
  { readonly ok: true; readonly value: WrappedKmsKey } | { readonly ok: false; readonly reason: string };

function isPrintableAscii(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte < 0x21 || byte > 0x7e) return false;
  return true;
}

/**
 * Frames a key ARN and a KMS ciphertext blob.
 * @throws RangeError when the ARN or blob is outside the caps (a KMS answer we cannot store)
 */
export function encodeWrappedKey(keyArn: string, ciphertext: Uint8Array): Buffer {
  const arn = Buffer.from(keyArn, 'ascii');
  if (
    arn.length < MIN_ARN_BYTES ||
    arn.length > MAX_ARN_BYTES ||
    !keyArn.startsWith('arn:') ||
    !isPrintableAscii(arn)
  ) {
    throw new RangeError('keyArn must be an ARN of 20 to 2048 printable ASCII characters');
  }
  if (ciphertext.length < 1 || ciphertext.length > MAX_BLOB_BYTES) {
    throw new RangeError(`ciphertext must be 1 to ${MAX_BLOB_BYTES} bytes`);
  }
  const out = Buffer.alloc(MAGIC.length + 1 + 2 + arn.length + 2 + ciphertext.length);
  let offset = MAGIC.copy(out, 0);
  out[offset++] = FORMAT_VERSION;
  offset = out.writeUInt16BE(arn.length, offset);
  offset += arn.copy(out, offset);
  offset = out.writeUInt16BE(ciphertext.length, offset);
  out.set(ciphertext, offset);
  return out;
}

/** Parses bytes made by {@link encodeWrappedKey}; never throws. */
export function decodeWrappedKey(bytes: Buffer): DecodeResult {
  const fail = (reason: string): DecodeResult => ({ ok: false, reason });
  if (!Buffer.isBuffer(bytes)) return fail('not a Buffer');
  if (bytes.length < MAGIC.length + 1 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return fail('bad magic');
  let offset = MAGIC.length;
  const version = bytes[offset++];
  if (version !== FORMAT_VERSION) return fail(`unsupported format version ${version}`);
  if (bytes.length < offset + 2) return fail('truncated ARN length');
  const arnLength = bytes.readUInt16BE(offset);
  offset += 2;
  if (arnLength < MIN_ARN_BYTES || arnLength > MAX_ARN_BYTES) return fail('ARN length out of range');
  if (bytes.length < offset + arnLength + 2) return fail('truncated ARN');
  const arn = bytes.subarray(offset, offset + arnLength);
  offset += arnLength;
  if (!isPrintableAscii(arn) || arn.toString('ascii', 0, 4) !== 'arn:')
    return fail('ARN is not printable ASCII starting with "arn:"');
  const blobLength = bytes.readUInt16BE(offset);
  offset += 2;
  if (blobLength < 1 || blobLength > MAX_BLOB_BYTES) return fail('ciphertext length out of range');
  if (bytes.length !== offset + blobLength)
    return fail(bytes.length < offset + blobLength ? 'truncated ciphertext' : 'trailing bytes');
  return { ok: true, value: { keyArn: arn.toString('ascii'), ciphertext: Buffer.from(bytes.subarray(offset)) } };
}
