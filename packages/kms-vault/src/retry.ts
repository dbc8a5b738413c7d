/**
 * Retry policy for Vault calls: exponential backoff with full jitter (so many clients do not
 * retry in step), raised to the server's `Retry-After` when it sends one, capped.
 */
import { InvalidArgumentError } from '@hushfield/core';

/** Retry settings of `VaultTransitKeyring`. */
export interface RetryOptions {
  /** Total attempts per operation, the first included (1 disables retries). Default 4. */
  readonly maxAttempts?: number;
  /** Backoff base: the n-th retry waits up to `baseDelayMs * 2^(n-1)`. Default 50 ms. */
  readonly baseDelayMs?: number;
  /** Cap on one wait, `Retry-After` included. Default 2,000 ms. */
  readonly maxDelayMs?: number;
  /** How to wait (inject a fake in tests). Default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform random in [0, 1) for the jitter. Default `Math.random` (timing only, not secret). */
  readonly random?: () => number;
}

/** {@link RetryOptions} with every default applied. */
export type ResolvedRetryOptions = Required<RetryOptions>;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function needsInteger(value: number, min: number, max: number, argument: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${argument} must be an integer from ${min} to ${max}`, argument);
  }
}

/**
 * Applies defaults and checks ranges.
 * @throws InvalidArgumentError naming the bad setting
 */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved: ResolvedRetryOptions = {
    maxAttempts: options.maxAttempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 50,
    maxDelayMs: options.maxDelayMs ?? 2_000,
    sleep: options.sleep ?? defaultSleep,
    random: options.random ?? Math.random,
  };
  needsInteger(resolved.maxAttempts, 1, 20, 'retry.maxAttempts');
  needsInteger(resolved.baseDelayMs, 0, 60_000, 'retry.baseDelayMs');
  needsInteger(resolved.maxDelayMs, resolved.baseDelayMs, 300_000, 'retry.maxDelayMs');
  return resolved;
}

/**
 * The wait before retry number `retry` (1-based): full jitter in
 * `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`, at least `retryAfterMs` when the server
 * asked for it, never above `maxDelayMs`.
 */
export function backoffDelay(options: ResolvedRetryOptions, retry: number, retryAfterMs?: number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(options.random() * ceiling);
  return Math.min(options.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

/** `Retry-After` in milliseconds (seconds form only; HTTP dates are ignored), or `undefined`. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (trimmed.length === 0 || trimmed.length > 6) return undefined;
  for (const char of trimmed) if (char < '0' || char > '9') return undefined;
  return Number(trimmed) * 1000;
}
