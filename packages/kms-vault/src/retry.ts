/**
 * Retry policy for Vault calls: exponential backoff with full jitter (so many clients do not
 * retry in step), raised to the server's `Retry-After` when it sends one, capped.
 */
import {
  keyringBackoffDelay,
  parseRetryAfter as coreParseRetryAfter,
  type KeyringRetryOptions,
  type ResolvedKeyringRetryOptions,
  resolveKeyringRetry,
} from '@hushfield/core';

/**
 * Retry settings of `VaultTransitKeyring`: core's settings of every remote keyring (the cap
 * also bounds `Retry-After`).
 */
export type RetryOptions = KeyringRetryOptions;

/** {@link RetryOptions} with every default applied. */
export type ResolvedRetryOptions = ResolvedKeyringRetryOptions;

/**
 * Applies defaults (4 attempts, 50 ms base, 2 s cap) and checks ranges.
 * @throws InvalidArgumentError naming the bad setting
 */
export const resolveRetryOptions: (options?: RetryOptions) => ResolvedRetryOptions = resolveKeyringRetry;

/**
 * The wait before retry number `retry` (1-based): core's full jitter in
 * `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`, at least `retryAfterMs` when the server
 * asked for it, never above `maxDelayMs`.
 */
export function backoffDelay(options: ResolvedRetryOptions, retry: number, retryAfterMs?: number): number {
  return Math.min(options.maxDelayMs, Math.max(keyringBackoffDelay(options, retry), retryAfterMs ?? 0));
}

/** `Retry-After` in milliseconds (seconds form only; HTTP dates are ignored), or `undefined`: core's. */
export const parseRetryAfter: (header: string | null) => number | undefined = coreParseRetryAfter;
