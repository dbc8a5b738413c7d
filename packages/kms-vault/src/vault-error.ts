/**
 * `VaultKeyringError`: core's `KeyringError` with the Vault failure classified, so callers can
 * tell a retired key version from a sealed Vault without parsing messages.
 */
import { KeyringError } from '@hushfield/core';

/**
 * Why a Vault call failed. Retryable: `Sealed`, `Unavailable`, `Throttled`, `ServerError`,
 * `Timeout`, `NetworkError`. The others are final.
 */
export type VaultErrorCode =
  | 'Sealed'
  | 'Unavailable'
  | 'Throttled'
  | 'ServerError'
  | 'Timeout'
  | 'NetworkError'
  | 'PermissionDenied'
  | 'AuthFailed'
  | 'KeyNotFound'
  | 'KeyVersionRetired'
  | 'KeyVersionInvalid'
  | 'ContextRequired'
  | 'KeyNotDerived'
  | 'InvalidCiphertext'
  | 'MalformedWrappedKey'
  | 'WrongKey'
  | 'BadRequest'
  | 'Redirected'
  | 'UnexpectedResponse';

/** The retryable {@link VaultErrorCode}s. */
export const RETRYABLE_VAULT_CODES: ReadonlySet<VaultErrorCode> = new Set([
  'Sealed',
  'Unavailable',
  'Throttled',
  'ServerError',
  'Timeout',
  'NetworkError',
]);

/** A failed Vault Transit keyring call. Never holds key material, plaintext or ciphertext. */
export class VaultKeyringError extends KeyringError {
  /** The classified failure. */
  readonly vaultCode: VaultErrorCode;
  /** Vault's HTTP status, when it answered. */
  readonly httpStatus?: number;

  constructor(
    message: string,
    details: {
      keyringId: string;
      operation: KeyringError['operation'];
      vaultCode: VaultErrorCode;
      httpStatus?: number;
    },
  ) {
    super(message, {
      keyringId: details.keyringId,
      operation: details.operation,
      retryable: RETRYABLE_VAULT_CODES.has(details.vaultCode),
    });
    this.vaultCode = details.vaultCode;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
  }
}

/**
 * What a token or secret id function that has not returned within the keyring's `timeoutMs`
 * fails with: the call fails (as `AuthFailed`) instead of waiting on it forever, and the
 * function is called again next time.
 */
export class SecretSourceTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'SecretSourceTimeout';
  }
}
