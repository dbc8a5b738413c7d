/**
 * The associated data of a wrapped key: the encryption context as canonical bytes (names
 * sorted, every name and value length-prefixed, under a domain label that also names the
 * wrapped-key format version), authenticated by CKM_AES_GCM inside the token. Equal contexts
 * in any property order encode identically; different ones never do.
 */
import { InvalidArgumentError, type EncryptionContext } from '@hushfield/core';

const DOMAIN = 'hushfield/pkcs11-aes-gcm/v1';
/** hushfield's contexts are tiny; tokens cap AAD lengths of their own. */
const MAX_CONTEXT_BYTES = 8192;

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The context's canonical bytes, as GCM associated data.
 * @throws InvalidArgumentError when `context` is not an object of string values, or too large
 * @example contextAad({ scope: 'tenant-a', version: '1' }) // <Buffer 00 00 00 1b 68 75 73 68 ...>
 */
export function contextAad(context: EncryptionContext): Buffer {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new InvalidArgumentError('context must be an object of string values', 'context');
  }
  const names = Object.keys(context).sort();
  const count = Buffer.alloc(4);
  count.writeUInt32BE(names.length);
  const parts = [lengthPrefixed(DOMAIN), count];
  for (const name of names) {
    const value = context[name];
    if (typeof value !== 'string') throw new InvalidArgumentError(`context.${name} must be a string`, 'context');
    parts.push(lengthPrefixed(name), lengthPrefixed(value));
  }
  const bytes = Buffer.concat(parts);
  if (bytes.length > MAX_CONTEXT_BYTES)
    throw new InvalidArgumentError(`context must encode to at most ${MAX_CONTEXT_BYTES} bytes`, 'context');
  return bytes;
}
