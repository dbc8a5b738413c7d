/**
 * How an Azure-wrapped key is stored (the key store's `wrapped_key` column): the algorithm,
 * the Key Vault key name and version that wrapped it (the version from the `kid` Key Vault
 * returned, so unwrap asks that exact version after a rotation), and Key Vault's ciphertext.
 *
 * Layout (format version 1):
 * ```
 * "HFZ"  0x01  alg(1)  nameLength(1) name  versionLength(1) version  ciphertext
 * ```
 * alg 0x01 = A256KW (ciphertext 80 bytes: a 72-byte blob plus the 8-byte integrity block),
 * 0x02 = RSA-OAEP-256 (ciphertext 256, 384 or 512 bytes: the modulus of a 2048-, 3072- or
 * 4096-bit key). Parsed without regular expressions, every length fixed or capped, anything
 * else rejected before Key Vault is called.
 */
import { BLOB_BYTES } from './key-blob';
import { isKeyName, isKeyVersion } from './key-identifier';

/** The key wrapping algorithms this keyring uses. */
export type AzureWrapAlgorithm = 'A256KW' | 'RSA-OAEP-256';

const MAGIC = Buffer.from('HFZ\x01', 'latin1');
const ALGORITHM_IDS: Readonly<Record<AzureWrapAlgorithm, number>> = { A256KW: 0x01, 'RSA-OAEP-256': 0x02 };
const RSA_MODULUS_BYTES: ReadonlySet<number> = new Set([256, 384, 512]);

/** A parsed wrapped key. */
export interface AzureWrappedKey {
  readonly algorithm: AzureWrapAlgorithm;
  readonly keyName: string;
  readonly keyVersion: string;
  readonly ciphertext: Buffer;
}

/** Whether `length` is a ciphertext length `algorithm` produces for a blob. */
export function ciphertextLengthFits(algorithm: AzureWrapAlgorithm, length: number): boolean {
  return algorithm === 'A256KW' ? length === BLOB_BYTES + 8 : RSA_MODULUS_BYTES.has(length);
}

/**
 * Frames Key Vault's ciphertext with the algorithm, key name and version.
 * @throws RangeError when a name, version or ciphertext length is out of range
 */
export function encodeWrappedKey(key: AzureWrappedKey): Buffer {
  if (!isKeyName(key.keyName)) throw new RangeError('keyName must be a Key Vault key name');
  if (!isKeyVersion(key.keyVersion)) throw new RangeError('keyVersion must be a Key Vault key version');
  if (!ciphertextLengthFits(key.algorithm, key.ciphertext.length)) {
    throw new RangeError(`ciphertext has the wrong length for ${key.algorithm}`);
  }
  return Buffer.concat([
    MAGIC,
    Buffer.of(ALGORITHM_IDS[key.algorithm], key.keyName.length),
    Buffer.from(key.keyName, 'latin1'),
    Buffer.of(key.keyVersion.length),
    Buffer.from(key.keyVersion, 'latin1'),
    key.ciphertext,
  ]);
}

/** Parses {@link encodeWrappedKey}'s output; never throws; `reason` quotes no bytes. */
export function decodeWrappedKey(bytes: unknown): { ok: true; value: AzureWrappedKey } | { ok: false; reason: string } {
  const fail = (reason: string) => ({ ok: false as const, reason });
  if (!Buffer.isBuffer(bytes) || bytes.length < MAGIC.length + 3) return fail('too short');
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return fail('not an Azure Key Vault wrapped key');
  let at = MAGIC.length;
  const algorithm = (Object.keys(ALGORITHM_IDS) as AzureWrapAlgorithm[]).find((a) => ALGORITHM_IDS[a] === bytes[at]);
  if (algorithm === undefined) return fail('unknown algorithm');
  const nameLength = bytes[at + 1];
  at += 2;
  if (at + nameLength + 1 > bytes.length) return fail('truncated key name');
  const keyName = bytes.toString('latin1', at, at + nameLength);
  at += nameLength;
  const versionLength = bytes[at++];
  if (at + versionLength > bytes.length) return fail('truncated key version');
  const keyVersion = bytes.toString('latin1', at, at + versionLength);
  at += versionLength;
  if (!isKeyName(keyName)) return fail('invalid key name');
  if (!isKeyVersion(keyVersion)) return fail('invalid key version');
  const ciphertext = Buffer.from(bytes.subarray(at));
  if (!ciphertextLengthFits(algorithm, ciphertext.length)) return fail(`wrong ciphertext length for ${algorithm}`);
  return { ok: true, value: { algorithm, keyName, keyVersion, ciphertext } };
}
