/**
 * Every message `@hushfield/kms-vault` puts in an error. Messages name the keyring, the Vault
 * path, HTTP statuses and classified failure codes, which are not secret. They never receive
 * key material, plaintext, ciphertext, tokens or secret ids, nor Vault's error text verbatim.
 */
import type { VaultErrorCode } from './vault-error';

/** Error messages of this package, by situation. */
export const messages = {
  callFailed: (path: string, reason: string, attempts: number) =>
    `Vault ${path} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`,
  malformedWrappedKey: (keyringId: string, reason: string) =>
    `keyring ${keyringId} cannot unwrap: the wrapped key is malformed (${reason})`,
  wrongKey: (keyringId: string, storedKey: string) =>
    `keyring ${keyringId} cannot unwrap: the key was wrapped by Transit key ${JSON.stringify(storedKey)}, not this keyring's`,
  tokenSourceFailed: (keyringId: string, operation: string, reason: string) =>
    `keyring ${keyringId} cannot ${operation}: its auth token or secret id function failed or returned no token (${reason})`,
  unexpectedResponse: (path: string, reason: string) => `Vault ${path} returned an unexpected response: ${reason}`,
  keyNotDerived: (keyringId: string, keyName: string) =>
    `keyring ${keyringId}: Transit key ${JSON.stringify(keyName)} is not derived, so Vault would ignore the context and ` +
    "bind nothing; create the key with derived=true, or set contextBinding: 'associated-data' for an AEAD key " +
    '(keys wrapped under it before: unwrapUnboundKeys: true, then keys rewrap --to-keyring)',
} as const;

/** Why a Vault call failed, in words. */
export function describeFailure(code: VaultErrorCode, status: number | undefined, timeoutMs: number): string {
  const http = status === undefined ? '' : ` (HTTP ${status})`;
  switch (code) {
    case 'Sealed':
      return `Vault is sealed${http}`;
    case 'Unavailable':
      return `Vault is unavailable${http}`;
    case 'Throttled':
      return `rate limited by Vault${http}`;
    case 'ServerError':
      return `Vault internal error${http}`;
    case 'Timeout':
      return `no answer within ${timeoutMs} ms`;
    case 'NetworkError':
      return 'Vault could not be reached';
    case 'Redirected':
      return `Vault redirected the call (a standby node?), which is not followed with the token: set address to the active node or a load balancer${http}`;
    case 'PermissionDenied':
      return `permission denied: the token is invalid, expired or its policy lacks this path${http}`;
    case 'AuthFailed':
      return `login failed${http}`;
    case 'KeyNotFound':
      return `the Transit key does not exist${http}`;
    case 'KeyVersionRetired':
      return `the key version that wrapped this key is below the Transit key's min_decryption_version${http}`;
    case 'KeyVersionInvalid':
      return `the pinned key version is above the latest or below min_encryption_version${http}`;
    case 'ContextRequired':
      return `the Transit key is derived and needs a context${http}`;
    case 'InvalidCiphertext':
      return `the wrapped key was tampered with or presented with another encryption context${http}`;
    default:
      return `${code}${http}`;
  }
}
