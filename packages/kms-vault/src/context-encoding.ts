/**
 * The Transit `context` hushfield sends for a derived key: base64 of a canonical encoding of
 * the encryption context, so that equal contexts (in any property order) derive the same key
 * and different ones never do.
 *
 * Layout (all integers big-endian u32):
 * `len("hushfield/vault-context/v1") ‖ "hushfield/vault-context/v1" ‖ pair count ‖
 * (len(name) ‖ name ‖ len(value) ‖ value)*`, names sorted by UTF-16 code unit, strings UTF-8.
 * Length prefixes make it injective: no two contexts share an encoding.
 */
import { InvalidArgumentError, type EncryptionContext } from '@hushfield/core';

/** Domain tag at the start of every encoded context. */
export const CONTEXT_DOMAIN = 'hushfield/vault-context/v1';

/** Caps a context so a request never grows without bound (hushfield's contexts are ~100 bytes). */
const MAX_CONTEXT_BYTES = 8192;

function lengthPrefixed(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
}

/**
 * Canonical bytes of `context`.
 * @throws InvalidArgumentError when `context` is not an object of strings or exceeds 8 KiB
 */
export function encodeContext(context: EncryptionContext): Buffer {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new InvalidArgumentError('context must be an object of string values', 'context');
  }
  const names = Object.keys(context).sort();
  const count = Buffer.alloc(4);
  count.writeUInt32BE(names.length);
  const parts = [...lengthPrefixed(CONTEXT_DOMAIN), count];
  for (const name of names) {
    const value = context[name];
    if (typeof value !== 'string') throw new InvalidArgumentError(`context.${name} must be a string`, 'context');
    parts.push(...lengthPrefixed(name), ...lengthPrefixed(value));
  }
  const encoded = Buffer.concat(parts);
  if (encoded.length > MAX_CONTEXT_BYTES) {
    throw new InvalidArgumentError(`context must encode to at most ${MAX_CONTEXT_BYTES} bytes`, 'context');
  }
  return encoded;
}

/** {@link encodeContext} as the base64 text Transit's `context` (or `associated_data`) parameter takes. */
export function contextParameter(context: EncryptionContext): string {
  return encodeContext(context).toString('base64');
}
