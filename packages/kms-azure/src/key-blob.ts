/**
 * The context-bound blob that Key Vault wraps: hushfield's 256-bit key together with a SHA-256
 * digest of the canonical encryption context, under a fixed header. Key Vault's `wrapKey` has
 * no associated data, so the context travels inside what is wrapped; on unwrap the digest is
 * compared (in constant time) with the digest of the context the caller presents.
 *
 * Layout (72 bytes, a multiple of 8 as AES key wrap needs):
 * ```
 * "HFAZ"  version(1)=0x01  reserved(3)=0x000000  SHA-256(context)(32)  key(32)
 * ```
 * where the digest is over `encodeEncryptionContext("hushfield/azure-key-vault/v1", context)`.
 *
 * What the comparison proves depends on who can make a wrapped blob (see the README): with
 * `A256KW` only a holder of the wrap permission on the Key Vault key; with `RSA-OAEP-256`
 * anyone holding the public key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { encodeEncryptionContext, type EncryptionContext } from '@hushfield/core';

/** Domain label of the context digest. */
export const CONTEXT_DOMAIN = 'hushfield/azure-key-vault/v1';
/** The one key size hushfield wraps. */
export const KEY_BYTES = 32;
const HEADER = Buffer.from('HFAZ\x01\x00\x00\x00', 'latin1');
const DIGEST_BYTES = 32;
/** Bytes of a blob: header, context digest, key. */
export const BLOB_BYTES = HEADER.length + DIGEST_BYTES + KEY_BYTES;

/**
 * SHA-256 of the context's canonical bytes.
 * @throws InvalidArgumentError when `context` is not an object of string values
 */
export function contextDigest(context: EncryptionContext): Buffer {
  return createHash('sha256').update(encodeEncryptionContext(CONTEXT_DOMAIN, context)).digest();
}

/**
 * The blob for `key` under `digest`. The caller zeroes it once Key Vault has wrapped it.
 * @throws RangeError when `key` is not 32 bytes or `digest` not 32 bytes
 */
export function sealBlob(digest: Buffer, key: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError(`key must be ${KEY_BYTES} bytes`);
  if (digest.length !== DIGEST_BYTES) throw new RangeError(`digest must be ${DIGEST_BYTES} bytes`);
  return Buffer.concat([HEADER, digest, key], BLOB_BYTES);
}

/** Why an unwrapped blob was refused. */
export type BlobRejection = 'MalformedBlob' | 'ContextMismatch';

/**
 * The key inside an unwrapped blob when its header is right and its digest is `digest`;
 * otherwise why not. Never throws; the returned key is a fresh copy the caller zeroes (the
 * blob itself is left to the caller, who zeroes it too).
 */
export function openBlob(
  blob: Buffer,
  digest: Buffer,
): { ok: true; key: Buffer } | { ok: false; reason: BlobRejection } {
  if (blob.length !== BLOB_BYTES || !blob.subarray(0, HEADER.length).equals(HEADER)) {
    return { ok: false, reason: 'MalformedBlob' };
  }
  const bound = blob.subarray(HEADER.length, HEADER.length + DIGEST_BYTES);
  if (digest.length !== DIGEST_BYTES || !timingSafeEqual(bound, digest))
    return { ok: false, reason: 'ContextMismatch' };
  return { ok: true, key: Buffer.from(blob.subarray(HEADER.length + DIGEST_BYTES)) };
}
