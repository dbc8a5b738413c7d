/**
 * What a failed PKCS#11 call means for hushfield: the `CKR_*` name of its return value (or
 * one of this package's own codes for a token or key that is missing or unfit), whether
 * retrying may help, whether the sessions must be reopened first, and the words a
 * `KeyringError` message uses. PIN failures are never retried: tokens lock after a few.
 */
import * as pkcs11js from 'pkcs11js';
import { KeyringError, type KeyringFailure } from '@hushfield/core';

/**
 * What failed, as {@link Pkcs11KeyringError.pkcs11Code} names it: the `CKR_*` name of the token's
 * return value, or one of this package's own codes (see the README's error table).
 */
export type Pkcs11ErrorCode =
  | 'Timeout'
  | 'PinRefused'
  | 'PinSourceTimeout'
  | 'PinSourceFailed'
  | 'TokenNotFound'
  | 'KeyNotFound'
  | 'KeyAmbiguous'
  | 'KeyUnfit'
  | 'Closed'
  | 'MalformedWrappedKey'
  | 'UnexpectedOutput'
  | 'UnknownError'
  | `CKR_${string}`;

/**
 * A failed PKCS#11 keyring call: a core `KeyringError` (`HUSHFIELD_KEYRING`) with the classified
 * failure. Never holds the PIN, key material or wrapped bytes, and no `cause` (a PIN function's
 * error may quote the PIN).
 */
export class Pkcs11KeyringError extends KeyringError {
  /** The classified failure: a `CKR_*` name or one of this package's codes. */
  readonly pkcs11Code: Pkcs11ErrorCode;

  constructor(
    message: string,
    details: {
      keyringId: string;
      operation: KeyringError['operation'];
      pkcs11Code: Pkcs11ErrorCode;
      retryable?: boolean;
    },
  ) {
    super(message, details);
    this.pkcs11Code = details.pkcs11Code;
  }
}

/** A token or key this package refuses to use (not a PKCS#11 return value). Not retried. */
export class Pkcs11SetupError extends Error {
  readonly setupCode: string;

  constructor(setupCode: string) {
    super(setupCode);
    this.name = 'Pkcs11SetupError';
    this.setupCode = setupCode;
  }
}

/** `CKR_*` names by value, from the binding's own constants. */
const CKR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(pkcs11js)
    .filter(([name, value]) => name.startsWith('CKR_') && typeof value === 'number')
    .map(([name, value]) => [value as number, name]),
);

/** Return values that may clear up on another attempt (after reopening the sessions for some). */
const RETRYABLE = new Set([
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_COUNT',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OPERATION_ACTIVE',
  'CKR_FUNCTION_CANCELED',
  'CKR_HOST_MEMORY',
]);

/** Return values after which the sessions (and the key handle) are reopened before the next attempt. */
export const RESET_SESSIONS: ReadonlySet<string> = new Set([
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OPERATION_ACTIVE',
]);

/** PIN failures: the keyring stops asking the token after one (tokens lock after a few). */
export const PIN_FAILURES: ReadonlySet<string> = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_LOCKED',
  'CKR_PIN_EXPIRED',
]);

/** The `CKR_*` name of a PKCS#11 error, `undefined` for other errors. */
export function returnValueName(error: unknown): string | undefined {
  // Duck-typed: the binding's error class may come from another realm (e.g. a test sandbox).
  const { code, name } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    name?: unknown;
  };
  if (typeof code !== 'number' || name !== 'Pkcs11Error') return undefined;
  return CKR_NAMES.get(code) ?? `CKR_0x${code.toString(16).padStart(8, '0')}`;
}

/** Classifies what one attempt threw. */
export function classifyPkcs11Error(error: unknown, timedOut: boolean): KeyringFailure {
  // A setup error stands even when the attempt timed out: it says why (a PIN function that did not answer).
  if (error instanceof Pkcs11SetupError) return { code: error.setupCode, retryable: false };
  if (timedOut) return { code: 'Timeout', retryable: true };
  const name = returnValueName(error);
  if (name !== undefined) return { code: name, retryable: RETRYABLE.has(name) };
  return { code: 'UnknownError', retryable: false };
}

/** Words for a code, for `KeyringError` messages. */
export function describePkcs11Failure(code: string, timeoutMs: number): string {
  switch (code) {
    case 'CKR_ENCRYPTED_DATA_INVALID':
    case 'CKR_ENCRYPTED_DATA_LEN_RANGE':
      return `the wrapped key was tampered with, made under another key, or presented with another encryption context (${code})`;
    case 'CKR_GENERAL_ERROR':
      return (
        'the token refused: the wrapped key was tampered with, made under another key, or presented with another ' +
        'encryption context (SoftHSM reports a failed GCM tag this way), or the token failed (CKR_GENERAL_ERROR)'
      );
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID':
    case 'CKR_PIN_LEN_RANGE':
      return `the token refused the PIN (${code}); the keyring will not try it again`;
    case 'CKR_PIN_LOCKED':
    case 'CKR_PIN_EXPIRED':
      return `the token's user PIN is locked or expired (${code})`;
    case 'CKR_DEVICE_ERROR':
    case 'CKR_DEVICE_REMOVED':
    case 'CKR_TOKEN_NOT_PRESENT':
      return `the token is unavailable (${code})`;
    case 'CKR_MECHANISM_INVALID':
    case 'CKR_MECHANISM_PARAM_INVALID':
      return `the token does not support CKM_AES_GCM with a 96-bit IV and 128-bit tag (${code})`;
    case 'CKR_KEY_FUNCTION_NOT_PERMITTED':
      return 'the key does not allow encryption and decryption (CKA_ENCRYPT, CKA_DECRYPT) (CKR_KEY_FUNCTION_NOT_PERMITTED)';
    case 'PinRefused':
      return 'the token refused the PIN earlier; the keyring does not try it again (tokens lock after a few failures)';
    case 'TokenNotFound':
      return 'no token with that label (or no such slot) is present';
    case 'KeyNotFound':
      return 'the token holds no AES secret key with that label';
    case 'KeyAmbiguous':
      return 'the token holds more than one AES secret key with that label';
    case 'KeyUnfit':
      return 'the key is not a 256-bit AES key that is sensitive and allows encrypt and decrypt';
    case 'Timeout':
      return `no answer within ${timeoutMs} ms`;
    case 'Closed':
      return 'the keyring was closed (close()); create a new one';
    case 'PinSourceTimeout':
      return `the PIN function gave no PIN within ${timeoutMs} ms (it is called again on the next call)`;
    case 'PinSourceFailed':
      return 'the PIN function threw or gave no PIN (it is called again on the next call)';
    default:
      return code;
  }
}
