/**
 * The Transit `context` hushfield sends for a derived key: base64 of a canonical encoding of
 * the encryption context, so that equal contexts (in any property order) derive the same key
 * and different ones never do.
 *
 * Layout (all integers big-endian u32, core's `encodeEncryptionContext`):
 * `len("hushfield/vault-context/v1") ‖ "hushfield/vault-context/v1" ‖ pair count ‖
 * (len(name) ‖ name ‖ len(value) ‖ value)*`, names sorted by UTF-16 code unit, strings UTF-8.
 * Length prefixes make it injective: no two contexts share an encoding.
 */
import { encodeEncryptionContext, type EncryptionContext } from '@hushfield/core';

/** Domain tag at the start of every encoded context. */
export const CONTEXT_DOMAIN = 'hushfield/vault-context/v1';

/**
 * Canonical bytes of `context`.
 * @throws InvalidArgumentError when `context` is not an object of strings or exceeds 8 KiB
 */
export function encodeContext(context: EncryptionContext): Buffer {
  return encodeEncryptionContext(CONTEXT_DOMAIN, context);
}

/** {@link encodeContext} as the base64 text Transit's `context` (or `associated_data`) parameter takes. */
export function contextParameter(context: EncryptionContext): string {
  return encodeContext(context).toString('base64');
}
