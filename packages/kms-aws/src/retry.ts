/**
 * Retry policy for KMS calls: which failures are worth retrying (throttling, transient
 * server errors, network errors, timeouts) and how long to wait (exponential backoff with
 * full jitter, as the AWS Architecture Blog recommends, so many clients do not retry in step).
 */
import {
  keyringBackoffDelay,
  type KeyringRetryOptions,
  type ResolvedKeyringRetryOptions,
  resolveKeyringRetry,
  RETRYABLE_NETWORK_CODES,
} from '@hushfield/core';

/** Retry settings of `AwsKmsKeyring`: core's settings of every remote keyring. */
export type RetryOptions = KeyringRetryOptions;

/** {@link RetryOptions} with every default applied. */
export type ResolvedRetryOptions = ResolvedKeyringRetryOptions;

/**
 * Applies defaults (4 attempts, 50 ms base, 2 s cap) and checks ranges.
 * @throws InvalidArgumentError naming the bad setting
 */
export const resolveRetryOptions: (options?: RetryOptions) => ResolvedRetryOptions = resolveKeyringRetry;

/** Full jitter: a uniform wait in `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`. */
export const backoffDelay: (options: ResolvedRetryOptions, retry: number) => number = keyringBackoffDelay;

/** AWS error codes that mean "try again later". */
const RETRYABLE_AWS_CODES = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const ERROR_CODE = /^[A-Za-z][A-Za-z0-9_.]{0,99}$/;

/** A failed KMS call, reduced to what hushfield acts on. No message text is kept. */
export interface ClassifiedFailure {
  /** AWS error code (`DisabledException`), network code (`ECONNRESET`), `Timeout` or `UnknownError`. */
  readonly code: string;
  readonly retryable: boolean;
}

/** Classifies an error thrown by the KMS client; `timedOut` when our own timer aborted it. */
export function classifyKmsError(error: unknown, timedOut: boolean): ClassifiedFailure {
  if (timedOut) return { code: 'Timeout', retryable: true };
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    cause?: unknown;
  };
  const networkCode = typeof e.code === 'string' ? e.code : (e.cause as { code?: unknown } | undefined)?.code;
  if (typeof networkCode === 'string' && RETRYABLE_NETWORK_CODES.has(networkCode))
    return { code: networkCode, retryable: true };
  const status = e.$metadata?.httpStatusCode;
  // The error name comes from the server's `__type`: keep it only if it looks like an error code.
  const name = typeof e.name === 'string' && ERROR_CODE.test(e.name) ? e.name : 'UnknownError';
  if (status !== undefined && name !== 'Error') {
    return { code: name, retryable: RETRYABLE_AWS_CODES.has(name) || status >= 500 || e.$retryable !== undefined };
  }
  if (typeof networkCode === 'string' && ERROR_CODE.test(networkCode)) return { code: networkCode, retryable: false };
  const wrapped = networkCodeInMessage(error);
  if (wrapped !== undefined) return { code: wrapped, retryable: true };
  return { code: name === 'Error' ? 'UnknownError' : name, retryable: RETRYABLE_AWS_CODES.has(name) };
}

/**
 * The SDK replaces an error from another JavaScript realm (e.g. Node's socket errors seen from
 * inside Jest's VM sandbox) with a plain `Error("AWS SDK error wrapper for ...")` that keeps
 * only the text, so the network code is recovered from the words of the message.
 */
function networkCodeInMessage(error: unknown): string | undefined {
  const message = (error as { message?: unknown })?.message;
  if (typeof message !== 'string' || !message.startsWith('AWS SDK error wrapper for ')) return undefined;
  if (message.includes('socket hang up')) return 'ECONNRESET';
  return message.split(/[^A-Z_]+/).find((word) => RETRYABLE_NETWORK_CODES.has(word));
}
