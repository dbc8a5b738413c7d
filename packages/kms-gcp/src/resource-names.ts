/**
 * Cloud KMS resource names, checked without regular expressions over untrusted input:
 * `projects/{project}/locations/{location}/keyRings/{keyRing}/cryptoKeys/{cryptoKey}` and the
 * same followed by `/cryptoKeyVersions/{version}`. Every segment is capped and limited to the
 * characters Cloud KMS ids use (letters, digits, `_`, `-`; `.` and `:` for domain-scoped
 * project ids).
 */

/** Resource names are far shorter; the cap bounds what a stored wrapped key may hold. */
export const MAX_RESOURCE_NAME_BYTES = 512;
const MAX_SEGMENT = 100;
const COLLECTIONS = ['projects', 'locations', 'keyRings', 'cryptoKeys'] as const;
const VERSIONS = 'cryptoKeyVersions';

function isSegment(text: string): boolean {
  if (text.length < 1 || text.length > MAX_SEGMENT) return false;
  for (const char of text) {
    const ok =
      (char >= 'a' && char <= 'z') ||
      (char >= 'A' && char <= 'Z') ||
      (char >= '0' && char <= '9') ||
      char === '_' ||
      char === '-' ||
      char === '.' ||
      char === ':';
    if (!ok) return false;
  }
  return true;
}

/** `name` when it is a CryptoKey resource name, else `undefined`. */
export function parseCryptoKeyName(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length > MAX_RESOURCE_NAME_BYTES) return undefined;
  const parts = name.split('/');
  if (parts.length !== 2 * COLLECTIONS.length) return undefined;
  for (let i = 0; i < COLLECTIONS.length; i++) {
    if (parts[2 * i] !== COLLECTIONS[i] || !isSegment(parts[2 * i + 1])) return undefined;
  }
  return name;
}

/** A CryptoKeyVersion resource name, split. */
export interface CryptoKeyVersionName {
  /** The CryptoKey the version belongs to. */
  readonly cryptoKey: string;
  /** The version number (1, 2, ...). */
  readonly version: number;
}

/** The CryptoKey and version number of a CryptoKeyVersion resource name, or `undefined`. */
export function parseCryptoKeyVersionName(name: unknown): CryptoKeyVersionName | undefined {
  if (typeof name !== 'string' || name.length > MAX_RESOURCE_NAME_BYTES) return undefined;
  const at = name.lastIndexOf(`/${VERSIONS}/`);
  if (at < 0) return undefined;
  const cryptoKey = parseCryptoKeyName(name.slice(0, at));
  const digits = name.slice(at + VERSIONS.length + 2);
  if (cryptoKey === undefined || digits.length < 1 || digits.length > 10 || digits[0] === '0') return undefined;
  for (const char of digits) if (char < '0' || char > '9') return undefined;
  return { cryptoKey, version: Number(digits) };
}
