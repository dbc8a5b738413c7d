/**
 * Keyed blind indexes for equality lookups on encrypted fields. The byte-level specification
 * (with vectors) is test/vectors/README.md; in short:
 *
 * - Per-index key: HKDF-SHA256 (`crypto.hkdfSync`) of the index root key, salt
 *   `"hushfield/blind-index"`, info `lp("hushfield/blind-index/v1") ‖ lp(model) ‖ lp(field) ‖
 *   lp(name) ‖ u32be(index root version)` (lp = u32be length ‖ UTF-8), 32 bytes. The index root
 *   key is its own key in the key store, never an encryption key.
 * - Digest: HMAC-SHA256(per-index key, UTF-8 of the normalized input), truncated to `bits`
 *   (1 to 256): the first ⌈bits / 8⌉ bytes, with the unused low bits of the last byte zeroed.
 * - Encoding: `v<root version>.n<normalizer version>.<base64url digest, unpadded>`, e.g.
 *   `v1.n1.` + 43 characters at 256 bits. The root version lets queries match every live
 *   version during an index-key rotation; the normalizer version (see `normalizers.ts`) says
 *   which pinned normalizers produced the value. The leading `v` names the shared index root
 *   key.
 * - Per-scope indexes (`perScope: true`): the per-index key is HKDF-SHA256 of the row's scope
 *   key version instead, salt `"hushfield/scoped-blind-index"`, info
 *   `lp("hushfield/scoped-blind-index/v1") ‖ lp(model) ‖ lp(field) ‖ lp(name) ‖ lp(scope key id) ‖
 *   u32be(scope key version)`, and the value is `s<scope key version>.n<normalizer version>.<digest>`.
 *   Destroying the scope's key (a shred) destroys every per-scope index key derived from it.
 */
import { Buffer } from 'node:buffer';
import { createHmac, hkdfSync } from 'node:crypto';
import { decodeCanonicalBase64url, decodedLength, encodedLength } from './base64url';
import { readDecimal } from './envelope';
import { encodeFields } from './length-prefixed';
import { applyNormalizers, checkNormalizers, normalizerVersion, type Normalizer } from './normalizers';
import { needs, needsInteger, needsName } from './preconditions';

export { normalize, NORMALIZERS, PINNED_UNICODE_VERSION } from './normalizers';
export type { Normalizer, NormalizerName } from './normalizers';

/** Where a blind index lives and how it is computed (database names). */
export interface BlindIndexSpec {
  model: string;
  field: string;
  name: string;
  /** Normalizers applied in order; all of one version (bare names are version 1). */
  normalize: readonly Normalizer[];
  /** Output length in bits, 1 to 256 (256 = full length). */
  bits: number;
  /**
   * Keyed per scope: derived from the row's scope key (see {@link deriveScopedIndexKey}) rather
   * than from the shared index root key, so destroying the scope makes its index values meaningless.
   */
  perScope?: boolean;
}

/** Largest normalizer version an index value can name. */
export const MAX_NORMALIZER_VERSION = 999;
/** Largest index root version an index value can name. */
const MAX_ROOT_VERSION = 2 ** 31 - 1;

/** Checks a spec. @throws InvalidArgumentError naming the bad property */
export function checkSpec(spec: BlindIndexSpec): void {
  needs(spec !== null && typeof spec === 'object', 'spec', 'must be an object');
  needsName(spec.model, 255, 'spec.model');
  needsName(spec.field, 255, 'spec.field');
  needsName(spec.name, 255, 'spec.name');
  needs(
    Number.isInteger(spec.bits) && spec.bits >= 1 && spec.bits <= 256,
    'spec.bits',
    'must be an integer from 1 to 256',
  );
  checkNormalizers(spec.normalize, 'spec.normalize');
  needs(spec.perScope === undefined || typeof spec.perScope === 'boolean', 'spec.perScope', 'must be a boolean');
}

/**
 * Longest index value of `bits` bits: `v` (or `s`) + key version (≤ 10 digits) + `.n` +
 * normalizer version (≤ 3) + `.` + digest.
 */
export function maxBlindIndexLength(bits: number): number {
  return 1 + 10 + 2 + 3 + 1 + encodedLength(Math.ceil(bits / 8));
}

const SALT = Buffer.from('hushfield/blind-index', 'utf8');
const INFO_LABEL = 'hushfield/blind-index/v1';

/**
 * Derives one index's 32-byte key from an index root key version.
 * @returns a new buffer the caller owns and zeroes
 */
export function deriveIndexKey(
  indexRoot: Buffer,
  spec: Pick<BlindIndexSpec, 'model' | 'field' | 'name'>,
  rootVersion: number,
): Buffer {
  needs(Buffer.isBuffer(indexRoot) && indexRoot.length === 32, 'indexRoot', 'must be a Buffer of 32 bytes');
  needsInteger(rootVersion, 1, MAX_ROOT_VERSION, 'rootVersion');
  const info = encodeFields([INFO_LABEL, spec.model, spec.field, spec.name, { u32: rootVersion }]);
  return Buffer.from(hkdfSync('sha256', indexRoot, SALT, info, 32));
}

const SCOPED_SALT = Buffer.from('hushfield/scoped-blind-index', 'utf8');
const SCOPED_INFO_LABEL = 'hushfield/scoped-blind-index/v1';

/**
 * Derives one per-scope index's 32-byte key from a scope key version. The scope key is the
 * HKDF input keying material (the message of HKDF-Extract's HMAC, under a salt no other use
 * shares), so the derived key is independent of the scope key's use as an AES-GCM key, and
 * it exists only while the scope key does: a shred destroys it.
 * @returns a new buffer the caller owns and zeroes
 */
export function deriveScopedIndexKey(
  scopeKey: Buffer,
  spec: Pick<BlindIndexSpec, 'model' | 'field' | 'name'>,
  keyId: string,
  version: number,
): Buffer {
  needs(Buffer.isBuffer(scopeKey) && scopeKey.length === 32, 'scopeKey', 'must be a Buffer of 32 bytes');
  needsName(keyId, 64, 'keyId');
  needsInteger(version, 1, MAX_ROOT_VERSION, 'version');
  const info = encodeFields([SCOPED_INFO_LABEL, spec.model, spec.field, spec.name, keyId, { u32: version }]);
  return Buffer.from(hkdfSync('sha256', scopeKey, SCOPED_SALT, info, 32));
}

/** The first `bits` bits of `digest`: ⌈bits / 8⌉ bytes, the last byte's unused low bits zeroed (in place). */
export function truncateDigest(digest: Buffer, bits: number): Buffer {
  const bytes = Math.ceil(bits / 8);
  const out = digest.subarray(0, bytes);
  const spare = bytes * 8 - bits;
  if (spare > 0) out[bytes - 1] &= (0xff << spare) & 0xff;
  return out;
}

/**
 * The encoded blind index of `value` under a derived index key; `spec` must have passed
 * {@link checkSpec}. `keyVersion` is the index root version, or the scope key version of a
 * per-scope index (whose value starts with `s` instead of `v`).
 */
export function computeBlindIndex(indexKey: Buffer, spec: BlindIndexSpec, keyVersion: number, value: string): string {
  needs(typeof value === 'string', 'value', 'must be a string');
  const digest = createHmac('sha256', indexKey).update(applyNormalizers(value, spec.normalize), 'utf8').digest();
  const kind = spec.perScope === true ? 's' : 'v';
  return `${kind}${keyVersion}.n${normalizerVersion(spec.normalize)}.${truncateDigest(digest, spec.bits).toString('base64url')}`;
}

/** What a stored blind index value names. */
export interface BlindIndexParts {
  /** Index root key version, or for a per-scope value ({@link BlindIndexParts.perScope}) the scope key version. */
  readonly rootVersion: number;
  /** Whether the value is keyed per scope (`s…`) rather than by the shared index root key (`v…`). */
  readonly perScope: boolean;
  /** Version of the normalizers that produced it. */
  readonly normalizerVersion: number;
  /** Digest length in bytes (⌈bits / 8⌉). */
  readonly bytes: number;
}

/** Parses a stored blind index value without regular expressions, or returns `null` if it is not one. */
export function parseBlindIndex(indexValue: string): BlindIndexParts | null {
  if (typeof indexValue !== 'string' || indexValue.length > maxBlindIndexLength(256)) return null;
  const kind = indexValue.charCodeAt(0);
  if (kind !== 0x76 && kind !== 0x73) return null; // v: shared, s: per scope
  const first = indexValue.indexOf('.');
  if (first < 0 || indexValue.charCodeAt(first + 1) !== 0x6e) return null;
  const second = indexValue.indexOf('.', first + 2);
  if (second < 0) return null;
  const rootVersion = readDecimal(indexValue, 1, first);
  const normalizer = readDecimal(indexValue, first + 2, second);
  if (rootVersion < 1 || rootVersion > MAX_ROOT_VERSION || normalizer < 1 || normalizer > MAX_NORMALIZER_VERSION)
    return null;
  const bytes = decodedLength(indexValue.length - second - 1);
  if (bytes < 1 || bytes > 32 || decodeCanonicalBase64url(indexValue, second + 1) === null) return null;
  return { rootVersion, perScope: kind === 0x73, normalizerVersion: normalizer, bytes };
}

/**
 * The key version embedded in a stored blind index value (index root version, or scope key
 * version of a per-scope value), or `null` if it is not one.
 */
export function blindIndexVersion(indexValue: string): number | null {
  return parseBlindIndex(indexValue)?.rootVersion ?? null;
}
