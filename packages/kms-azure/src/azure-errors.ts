/**
 * What a failed Key Vault call means for hushfield: a stable code, whether retrying may help,
 * the server's `Retry-After`, and the words a message uses. Classified from the SDK's
 * `RestError` (HTTP status, Key Vault's `error.code` and `innererror.code`), network codes and
 * this package's own checks; the server's error text is never copied into a message.
 */
import { KeyringError, networkErrorCode, parseRetryAfter, type KeyringFailure } from '@hushfield/core';

/**
 * Why a call to Key Vault failed. Retryable: `Throttled`, `ServiceUnavailable`, `ServerError`,
 * `Timeout` and the network codes (`ECONNREFUSED`, ...). The others are final.
 */
export type AzureErrorCode =
  | 'Throttled'
  | 'ServiceUnavailable'
  | 'ServerError'
  | 'Timeout'
  | 'NetworkError'
  | 'Unauthorized'
  | 'Forbidden'
  | 'KeyDisabled'
  | 'KeyNotFound'
  | 'BadParameter'
  | 'CredentialFailed'
  | 'ChallengeRejected'
  | 'KeyNotUsable'
  | 'ContextMismatch'
  | 'MalformedBlob'
  | 'MalformedWrappedKey'
  | 'WrongKey'
  | 'AlgorithmMismatch'
  | 'UnexpectedResponse'
  | 'UnknownError'
  | (string & {});

/** A failed Azure Key Vault keyring call. Never holds key material, ciphertext or a token. */
export class AzureKeyringError extends KeyringError {
  /** The classified failure (a network code such as `ECONNREFUSED` for network failures). */
  readonly azureCode: AzureErrorCode;

  constructor(
    message: string,
    details: {
      keyringId: string;
      operation: KeyringError['operation'];
      azureCode: AzureErrorCode;
      retryable?: boolean;
    },
  ) {
    super(message, details);
    this.azureCode = details.azureCode;
  }
}

/**
 * Thrown inside an attempt by this package's own checks of what Key Vault returned (a blob
 * bound to another context, a `kid` of another key): classified as final, never retried.
 */
export class ResultRejected extends Error {
  readonly rejection: AzureErrorCode;

  constructor(rejection: AzureErrorCode) {
    super(rejection);
    this.name = 'ResultRejected';
    this.rejection = rejection;
  }
}

interface RestErrorLike {
  readonly name?: unknown;
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly details?: { error?: { innerError?: { code?: unknown } } };
  readonly response?: { headers?: { get?(name: string): string | undefined } };
}

const CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AuthenticationRequiredError',
]);

function classifyStatus(error: RestErrorLike, status: number): KeyringFailure {
  const retryAfter = () => parseRetryAfter(error.response?.headers?.get?.('retry-after'));
  const inner = error.details?.error?.innerError?.code;
  if (status === 429) return { code: 'Throttled', retryable: true, retryAfterMs: retryAfter() };
  if (status === 503) return { code: 'ServiceUnavailable', retryable: true, retryAfterMs: retryAfter() };
  if (status === 408 || status >= 500) return { code: 'ServerError', retryable: true };
  if (status === 401) return { code: 'Unauthorized', retryable: false };
  if (status === 403) return { code: inner === 'KeyDisabled' ? 'KeyDisabled' : 'Forbidden', retryable: false };
  if (status === 404) return { code: 'KeyNotFound', retryable: false };
  if (status === 400) return { code: 'BadParameter', retryable: false };
  return { code: `HTTP${status}`, retryable: false };
}

/** Classifies what one attempt threw (`timedOut` when the keyring's own timer aborted it). */
export function classifyAzureError(error: unknown, timedOut: boolean): KeyringFailure {
  if (timedOut) return { code: 'Timeout', retryable: true };
  if (error instanceof ResultRejected) return { code: error.rejection, retryable: false };
  const restError = (typeof error === 'object' && error !== null ? error : {}) as RestErrorLike;
  if (typeof restError.statusCode === 'number') return classifyStatus(restError, restError.statusCode);
  const network = networkErrorCode(error);
  if (network !== undefined) return { code: network, retryable: true };
  if (restError.name === 'RestError' && restError.code === 'REQUEST_SEND_ERROR') {
    return { code: 'NetworkError', retryable: true };
  }
  if (typeof restError.name === 'string' && CREDENTIAL_ERRORS.has(restError.name)) {
    return { code: 'CredentialFailed', retryable: false };
  }
  const text = error instanceof Error ? error.message : '';
  // The SDK's own refusals are plain Errors; their text is matched here, never shown.
  if (text.includes('challenge')) return { code: 'ChallengeRejected', retryable: false };
  if (
    text.includes('expired at') ||
    text.includes("can't be used before") ||
    text.includes('is not supported on key')
  ) {
    return { code: 'KeyNotUsable', retryable: false };
  }
  return { code: 'UnknownError', retryable: false };
}

/** Words for a code, for `KeyringError` messages. */
export function describeAzureFailure(code: string, timeoutMs: number): string {
  switch (code) {
    case 'Throttled':
      return 'throttled by Key Vault (HTTP 429)';
    case 'ServiceUnavailable':
      return 'Key Vault is unavailable (HTTP 503)';
    case 'ServerError':
      return 'Key Vault failed (HTTP 5xx or 408)';
    case 'Timeout':
      return `no answer within ${timeoutMs} ms`;
    case 'Unauthorized':
      return 'Key Vault refused the access token (HTTP 401)';
    case 'Forbidden':
      return 'permission denied: the identity lacks wrapKey/unwrapKey on this key, or a firewall refused (HTTP 403)';
    case 'KeyDisabled':
      return 'the key version that wrapped this key is disabled (HTTP 403 KeyDisabled)';
    case 'KeyNotFound':
      return 'the key or key version does not exist (HTTP 404)';
    case 'BadParameter':
      return (
        'Key Vault refused the request (HTTP 400): the wrapped key was tampered with or made under another key, ' +
        'or the key does not support the algorithm'
      );
    case 'CredentialFailed':
      return 'the credential could not get an access token';
    case 'ChallengeRejected':
      return "the vault's authentication challenge names another domain or origin; no token was sent";
    case 'KeyNotUsable':
      return 'the key is expired, not yet valid, or does not allow this operation';
    case 'ContextMismatch':
      return 'the wrapped key is bound to another encryption context (moved from another key, scope or version)';
    case 'MalformedBlob':
      return 'Key Vault returned a key that is not a hushfield blob (wrapped by something else)';
    case 'UnexpectedResponse':
      return 'Key Vault returned an unexpected response';
    case 'UnknownError':
      return 'an unexpected error in the Azure SDK';
    default:
      return code.startsWith('E') || code.startsWith('UND_') ? `Key Vault could not be reached (${code})` : code;
  }
}
