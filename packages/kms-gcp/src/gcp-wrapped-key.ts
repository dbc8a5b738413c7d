/**
 * How a Cloud KMS-wrapped key is stored (the key store's `wrapped_key` column, base64):
 *
 * `"HFG" 0x01 ‖ nameLength (u16 BE) ‖ CryptoKeyVersion name (ASCII) ‖ ciphertextLength (u16 BE) ‖ ciphertext`
 *
 * The name is the CryptoKeyVersion Cloud KMS reported for `encrypt` (the primary version at the
 * time), so operators can tell which keys still depend on an old version before disabling it.
 * `decrypt` itself is sent to the CryptoKey: Cloud KMS finds the version in the ciphertext.
 * Parsed with every length capped; anything truncated, oversized or with trailing bytes is
 * rejected before Cloud KMS is called.
 */
import { MAX_RESOURCE_NAME_BYTES, parseCryptoKeyVersionName, type CryptoKeyVersionName } from './resource-names';

const MAGIC = Buffer.from('HFG\x01', 'latin1');
/** A 32-byte key wraps to ~70 bytes (HSM keys a little more); 8 KiB leaves room. */
export const MAX_CIPHERTEXT_BYTES = 8192;

/** A parsed wrapped key. */
export interface WrappedGcpKey extends CryptoKeyVersionName {
  /** The CryptoKeyVersion resource name that encrypted it. */
  readonly cryptoKeyVersion: string;
  /** Cloud KMS's ciphertext (opaque). */
  readonly ciphertext: Buffer;
}

/** The result of {@link decodeWrappedKey}: the parts, or why they were rejected (no bytes quoted). */
export type DecodeResult =
  { readonly ok: true; readonly value: WrappedGcpKey } | { readonly ok: false; readonly reason: string };

/**
 * Frames a CryptoKeyVersion name and a Cloud KMS ciphertext.
 * @throws RangeError when the name is not a CryptoKeyVersion name or the ciphertext exceeds its cap
 */
export function encodeWrappedKey(cryptoKeyVersion: string, ciphertext: Uint8Array): Buffer {
  if (parseCryptoKeyVersionName(cryptoKeyVersion) === undefined) {
    throw new RangeError('cryptoKeyVersion must be a CryptoKeyVersion resource name');
  }
  if (ciphertext.length < 1 || ciphertext.length > MAX_CIPHERTEXT_BYTES) {
    throw new RangeError(`ciphertext must be 1 to ${MAX_CIPHERTEXT_BYTES} bytes`);
  }
  const name = Buffer.from(cryptoKeyVersion, 'latin1');
  const out = Buffer.alloc(MAGIC.length + 2 + name.length + 2 + ciphertext.length);
  let offset = MAGIC.copy(out, 0);
  offset = out.writeUInt16BE(name.length, offset);
  offset += name.copy(out, offset);
  offset = out.writeUInt16BE(ciphertext.length, offset);
  out.set(ciphertext, offset);
  return out;
}

/** Parses bytes made by {@link encodeWrappedKey}; never throws. */
export function decodeWrappedKey(bytes: unknown): DecodeResult {
  const fail = (reason: string): DecodeResult => ({ ok: false, reason });
  if (!Buffer.isBuffer(bytes)) return fail('not a Buffer');
  if (bytes.length < MAGIC.length + 2 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    return fail('not a Cloud KMS wrapped key');
  }
  let offset = MAGIC.length;
  const nameLength = bytes.readUInt16BE(offset);
  offset += 2;
  if (nameLength < 1 || nameLength > MAX_RESOURCE_NAME_BYTES) return fail('key version name length out of range');
  if (bytes.length < offset + nameLength + 2) return fail('truncated key version name');
  const parsed = parseCryptoKeyVersionName(bytes.toString('latin1', offset, offset + nameLength));
  if (parsed === undefined) return fail('not a CryptoKeyVersion name');
  offset += nameLength;
  const ciphertextLength = bytes.readUInt16BE(offset);
  offset += 2;
  if (ciphertextLength < 1 || ciphertextLength > MAX_CIPHERTEXT_BYTES) return fail('ciphertext length out of range');
  if (bytes.length !== offset + ciphertextLength) {
    return fail(bytes.length < offset + ciphertextLength ? 'truncated ciphertext' : 'trailing bytes');
  }
  return {
    ok: true,
    value: {
      ...parsed,
      cryptoKeyVersion: `${parsed.cryptoKey}/cryptoKeyVersions/${parsed.version}`,
      ciphertext: Buffer.from(bytes.subarray(offset)),
    },
  };
}
