/**
 * Keyed blind indexes for equality lookups on encrypted fields.
 *
 * - Per-index key: HKDF-SHA256 (`crypto.hkdfSync`) of the index root key, salt
 *   `"hushfield/blind-index"`, info `lp("hushfield/blind-index/v1") ‖ lp(model) ‖ lp(field) ‖
 *   lp(name) ‖ u32be(index root version)` (lp = u32be length ‖ UTF-8), 32 bytes. The index root
 *   key is its own key in the key store, never an encryption key.
 * - Value: HMAC-SHA256(per-index key, UTF-8 of the normalized input), truncated to the first
 *   `bits / 8` bytes (bits a multiple of 8 from 8 to 256).
 * - Encoding: `v<root version>.<base64url, unpadded>`, e.g. `v1.` + 43 characters at 256 bits.
 *   The version prefix lets queries match every live version during an index-key rotation.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { decodedLength, isCanonicalBase64url } from './base64url';
import { encodeFields } from './length-prefixed';
import { needs, needsInteger, needsName } from './preconditions';

/** A normalization applied identically on write and on query. */
export type Normalizer = 'lowercase' | 'uppercase' | 'trim' | 'nfkc' | 'nfc' | 'digits' | 'collapse-whitespace';

/** Where a blind index lives and how it is computed (database names). */
export interface BlindIndexSpec {
  model: string;
  field: string;
  name: string;
  normalize: readonly Normalizer[];
  /** Output length in bits: a multiple of 8 from 8 to 256 (256 = full length). */
  bits: number;
}

const STEPS: Readonly<Record<Normalizer, (value: string) => string>> = {
  lowercase: (value) => value.toLowerCase(),
  uppercase: (value) => value.toUpperCase(),
  trim: (value) => value.trim(),
  nfkc: (value) => value.normalize('NFKC'),
  nfc: (value) => value.normalize('NFC'),
  digits: (value) => {
    let out = '';
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x30 && code <= 0x39) out += value[i];
    }
    return out;
  },
  'collapse-whitespace': (value) => value.replace(/\s+/gu, ' '),
};

/** Every normalizer name. */
export const NORMALIZERS: readonly Normalizer[] = Object.keys(STEPS) as Normalizer[];

/**
 * Applies `normalizers` in order. `digits` keeps ASCII 0–9 only; `collapse-whitespace` turns
 * each run of Unicode whitespace into one space.
 * @throws InvalidArgumentError on an unknown normalizer
 * @example normalize(' Ada@Example.COM ', ['trim', 'lowercase']) // 'ada@example.com'
 */
export function normalize(value: string, normalizers: readonly Normalizer[]): string {
  needs(typeof value === 'string', 'value', 'must be a string');
  needs(Array.isArray(normalizers), 'normalizers', 'must be an array');
  for (const name of normalizers as readonly Normalizer[]) {
    needs(Object.prototype.hasOwnProperty.call(STEPS, name), 'normalizers', `has unknown normalizer "${String(name)}"`);
  }
  return applyNormalizers(value, normalizers);
}

/** Applies normalizers already checked (by {@link checkSpec}); the hot path of every index. */
function applyNormalizers(value: string, normalizers: readonly Normalizer[]): string {
  let out = value;
  for (let i = 0; i < normalizers.length; i++) out = STEPS[normalizers[i]](out);
  return out;
}

/** Checks a spec. @throws InvalidArgumentError naming the bad property */
export function checkSpec(spec: BlindIndexSpec): void {
  needs(spec !== null && typeof spec === 'object', 'spec', 'must be an object');
  needsName(spec.model, 255, 'spec.model');
  needsName(spec.field, 255, 'spec.field');
  needsName(spec.name, 255, 'spec.name');
  needs(Number.isInteger(spec.bits) && spec.bits >= 8 && spec.bits <= 256 && spec.bits % 8 === 0, 'spec.bits',
    'must be a multiple of 8 from 8 to 256');
  needs(Array.isArray(spec.normalize), 'spec.normalize', 'must be an array');
  for (const name of spec.normalize) {
    needs(Object.prototype.hasOwnProperty.call(STEPS, name), 'spec.normalize', `has unknown normalizer "${String(name)}"`);
  }
}

const SALT = Buffer.from('hushfield/blind-index', 'utf8');
const INFO_LABEL = 'hushfield/blind-index/v1';

/**
 * Derives one index's 32-byte key from an index root key version.
 * @returns a new buffer the caller owns and zeroes
 */
export function deriveIndexKey(indexRoot: Buffer, spec: Pick<BlindIndexSpec, 'model' | 'field' | 'name'>, rootVersion: number): Buffer {
  needs(Buffer.isBuffer(indexRoot) && indexRoot.length === 32, 'indexRoot', 'must be a Buffer of 32 bytes');
  needsInteger(rootVersion, 1, 2 ** 31 - 1, 'rootVersion');
  const info = encodeFields([INFO_LABEL, spec.model, spec.field, spec.name, { u32: rootVersion }]);
  return Buffer.from(hkdfSync('sha256', indexRoot, SALT, info, 32));
}

/** The encoded blind index of `value` under a derived index key; `spec` must have passed {@link checkSpec}. */
export function computeBlindIndex(indexKey: Buffer, spec: BlindIndexSpec, rootVersion: number, value: string): string {
  needs(typeof value === 'string', 'value', 'must be a string');
  const digest = createHmac('sha256', indexKey).update(applyNormalizers(value, spec.normalize), 'utf8').digest();
  return `v${rootVersion}.${digest.subarray(0, spec.bits / 8).toString('base64url')}`;
}

/** The index root version embedded in a stored blind index value, or `null` if it is not one. */
export function blindIndexVersion(indexValue: string): number | null {
  if (typeof indexValue !== 'string' || indexValue.length > 64 || indexValue.charCodeAt(0) !== 0x76) return null;
  const dot = indexValue.indexOf('.');
  if (dot < 2 || dot > 11 || indexValue.charCodeAt(1) === 0x30) return null;
  let version = 0;
  for (let i = 1; i < dot; i++) {
    const digit = indexValue.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return null;
    version = version * 10 + digit;
  }
  const bytes = decodedLength(indexValue.length - dot - 1);
  if (bytes < 1 || bytes > 32 || version > 2 ** 31 - 1) return null;
  return isCanonicalBase64url(indexValue, dot + 1) ? version : null;
}
