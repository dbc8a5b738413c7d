/**
 * Canonical bytes of an encryption context, for keyrings whose service binds associated data
 * or a derivation context as bytes (Vault Transit, PKCS#11 AES-GCM, Google Cloud KMS). Equal
 * contexts encode identically in any property order; length prefixes make different contexts
 * (`{ab: 'c'}` and `{a: 'bc'}`) encode differently, and the domain label keeps one keyring's
 * encoding from being mistaken for another's.
 *
 * Layout, every length a big-endian u32 and every string UTF-8:
 * `len(domain) ‖ domain ‖ pair count ‖ (len(name) ‖ name ‖ len(value) ‖ value)*`, names sorted
 * by UTF-16 code unit (JavaScript's default sort).
 */
import { InvalidArgumentError } from './errors';
import type { EncryptionContext } from './keyring';
import { encodeFields, type Field } from './length-prefixed';

/** hushfield's contexts are ~100 bytes; the cap keeps a request from growing without bound. */
export const MAX_CONTEXT_BYTES = 8192;

/**
 * The canonical bytes of `context` under `domain` (e.g. `hushfield/vault-context/v1`).
 * @throws InvalidArgumentError (argument `context`) when `context` is not an object of string
 *   values or encodes to more than {@link MAX_CONTEXT_BYTES} bytes
 * @example encodeEncryptionContext('hushfield/gcp-kms-aad/v1', { scope: 'tenant-a', version: '1' })
 */
export function encodeEncryptionContext(domain: string, context: EncryptionContext): Buffer {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new InvalidArgumentError('context must be an object of string values', 'context');
  }
  const names = Object.keys(context).sort();
  const fields: Field[] = [domain, { u32: names.length }];
  for (const name of names) {
    const value = context[name];
    if (typeof value !== 'string')
      throw new InvalidArgumentError(`context.${name} must be a string`, `context.${name}`);
    fields.push(name, value);
  }
  const encoded = encodeFields(fields);
  if (encoded.length > MAX_CONTEXT_BYTES) {
    throw new InvalidArgumentError(`context must encode to at most ${MAX_CONTEXT_BYTES} bytes`, 'context');
  }
  return encoded;
}
