/**
 * The associated data of a wrapped key: the encryption context as canonical bytes (core's
 * `encodeEncryptionContext`, under a domain label that also names the wrapped-key format
 * version), authenticated by CKM_AES_GCM inside the token. Equal contexts in any property
 * order encode identically; different ones never do.
 */
import { encodeEncryptionContext, type EncryptionContext } from '@hushfield/core';

const DOMAIN = 'hushfield/pkcs11-aes-gcm/v1';

/**
 * The context's canonical bytes, as GCM associated data.
 * @throws InvalidArgumentError when `context` is not an object of string values, or too large
 * @example contextAad({ scope: 'tenant-a', version: '1' }) // <Buffer 00 00 00 1b 68 75 73 68 ...>
 */
export function contextAad(context: EncryptionContext): Buffer {
  return encodeEncryptionContext(DOMAIN, context);
}
