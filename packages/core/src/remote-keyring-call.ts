/**
 * Shared plumbing for keyrings that call a remote key service (Vault, an HSM, a cloud KMS):
 * one logical operation is a series of attempts, each under a timeout (AbortController),
 * retried with exponential backoff and full jitter while the failure is retryable, reported
 * as one audit event (latency, attempts, outcome) and, when it finally fails, thrown as a
 * typed `KeyringError`. Each keyring supplies how to classify and describe its failures.
 * Nothing here sees key material: the request is built by the caller inside `send`, and
 * failure reasons come from the caller's fixed catalog, never from a server's error text.
 *
 * Every remote keyring of hushfield (AWS KMS, Vault Transit, PKCS#11, ...) calls through here.
 */
import type { ActorContext, AuditOperation, AuditSink } from './audit';
import { AuditEmitter } from './audit-emitter';
import { KeyringError } from './errors';
import type { EncryptionContext } from './keyring';
import { needsInteger } from './preconditions';

/** Retry settings of a remote keyring. */
export interface KeyringRetryOptions {
  /** Total attempts per operation, the first included (1 disables retries). Default 4. */
  readonly maxAttempts?: number;
  /** Backoff base: the n-th retry waits up to `baseDelayMs * 2^(n-1)`. Default 50 ms. */
  readonly baseDelayMs?: number;
  /** Cap on one wait. Default 2,000 ms. */
  readonly maxDelayMs?: number;
  /** How to wait (inject a fake in tests). Default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform random in [0, 1) for the jitter. Default `Math.random` (timing only, not secret). */
  readonly random?: () => number;
}

/** {@link KeyringRetryOptions} with every default applied. */
export type ResolvedKeyringRetryOptions = Required<KeyringRetryOptions>;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Applies defaults and checks ranges.
 * @throws InvalidArgumentError naming the bad setting (`retry.maxAttempts`, ...)
 * @example resolveKeyringRetry({ maxAttempts: 2 })
 */
export function resolveKeyringRetry(options: KeyringRetryOptions = {}): ResolvedKeyringRetryOptions {
  const resolved: ResolvedKeyringRetryOptions = {
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
 * Checks a per-attempt timeout (default 5,000 ms).
 * @throws InvalidArgumentError unless an integer from 1 to 300000
 */
export function resolveKeyringTimeout(timeoutMs: number | undefined): number {
  const value = timeoutMs ?? 5_000;
  needsInteger(value, 1, 300_000, 'timeoutMs');
  return value;
}

/** Full jitter: a uniform wait in `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`. */
export function keyringBackoffDelay(options: ResolvedKeyringRetryOptions, retry: number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(options.random() * ceiling);
}

/** A failed attempt, reduced to what the retry loop acts on. No server text is kept. */
export interface KeyringFailure {
  /** A stable code: the service's error name, an HTTP status, a network code, `Timeout`. */
  readonly code: string;
  readonly retryable: boolean;
  /** A server's `Retry-After`, in milliseconds; the wait is at least this (capped by `maxDelayMs`). */
  readonly retryAfterMs?: number;
}

/** Settings shared by every call of one keyring. */
export interface RemoteKeyringSettings {
  readonly keyringId: string;
  /** The service, for messages: `Vault Transit`, `PKCS#11`, `Google Cloud KMS`. */
  readonly service: string;
  readonly timeoutMs: number;
  readonly retry: ResolvedKeyringRetryOptions;
  readonly audit?: AuditSink;
  readonly actor?: () => ActorContext | undefined;
  /** Classifies what `send` threw; `timedOut` when this module's timer aborted the attempt. */
  classify(error: unknown, timedOut: boolean): KeyringFailure;
  /** Words for a failure code (`the key is disabled (FAILED_PRECONDITION)`); never secret. */
  describe(code: string): string;
}

/** What one call is about (for messages and audit). */
export interface RemoteCallTarget {
  readonly operation: KeyringError['operation'];
  /** The service's operation name: `encrypt`, `C_Decrypt`, `EncryptRequest`. */
  readonly remoteOperation: string;
  /** The key as the service names it (path, label, resource name): not secret. */
  readonly key: string;
  readonly context?: EncryptionContext;
}

const AUDIT_OPERATIONS: Partial<Record<KeyringError['operation'], AuditOperation>> = {
  wrap: 'keyring.wrap',
  unwrap: 'keyring.unwrap',
  generate: 'keyring.generate',
};

/**
 * Sends the one audit event of a remote keyring call: operation, key id, kind, scope and
 * version are read from the encryption context; `detail` is the service's own (operation, key
 * name, attempts, error code). A failing sink is reported as a process warning, never thrown.
 */
export function emitKeyringCallEvent(
  sink: { readonly keyringId: string; readonly audit?: AuditSink; readonly actor?: () => ActorContext | undefined },
  operation: KeyringError['operation'],
  context: EncryptionContext | undefined,
  outcome: { readonly success: boolean; readonly latencyMs: number },
  detail: Readonly<Record<string, string | number | boolean>>,
): void {
  const auditOperation = AUDIT_OPERATIONS[operation];
  if (sink.audit === undefined || auditOperation === undefined) return;
  const fields = context ?? {};
  const version = Number(fields.version);
  const kind =
    fields.purpose === 'hushfield/scope-key' ? 'scope' : fields.purpose === 'hushfield/index-key' ? 'index' : undefined;
  new AuditEmitter(sink.audit, sink.actor).emit({
    operation: auditOperation,
    outcome: outcome.success ? 'success' : 'failure',
    keyringId: sink.keyringId,
    latencyMs: outcome.latencyMs,
    ...(fields.keyId !== undefined ? { keyId: fields.keyId } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(fields.scope !== undefined ? { scope: fields.scope } : {}),
    ...(Number.isSafeInteger(version) ? { version } : {}),
    ...(outcome.success ? {} : { errorCode: 'HUSHFIELD_KEYRING' }),
    detail,
  });
}

function emit(
  settings: RemoteKeyringSettings,
  target: RemoteCallTarget,
  outcome: { success: boolean; latencyMs: number; attempts: number; failure?: KeyringFailure },
): void {
  emitKeyringCallEvent(settings, target.operation, target.context, outcome, {
    kmsOperation: target.remoteOperation,
    kmsKey: target.key,
    attempts: outcome.attempts,
    ...(outcome.failure !== undefined
      ? { kmsErrorCode: outcome.failure.code, retryable: outcome.failure.retryable }
      : {}),
  });
}

/** `<service> <operation> with key <key> failed after <n> attempt(s): <reason>`. */
export function remoteCallFailedMessage(
  service: string,
  remoteOperation: string,
  key: string,
  reason: string,
  attempts: number,
): string {
  return `${service} ${remoteOperation} with key ${key} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`;
}

/**
 * Runs `send` until it succeeds, fails for good, or runs out of attempts.
 * @param send - performs one attempt; should honour `signal` (abort the request when it fires):
 *   the call stops waiting for it when `signal` fires all the same
 * @throws KeyringError naming the service, operation and key; `retryable` when throttled,
 *   timed out or unreachable. The underlying error is not attached (it may carry request details).
 * @example
 * const result = await callRemoteKeyring(settings, { operation: 'wrap', remoteOperation: 'encrypt', key }, (signal) =>
 *   fetch(url, { method: 'POST', body, signal }));
 */
export async function callRemoteKeyring<T>(
  settings: RemoteKeyringSettings,
  target: RemoteCallTarget,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, settings.timeoutMs);
    let failure: KeyringFailure;
    try {
      const result = await untilAborted(send(controller.signal), controller.signal, {
        error: () => new Error('the attempt timed out'),
        discard: zeroLate,
      });
      clearTimeout(timer);
      emit(settings, target, { success: true, latencyMs: performance.now() - started, attempts: attempt });
      return result;
    } catch (error) {
      clearTimeout(timer);
      failure = settings.classify(error, timedOut);
    }
    if (failure.retryable && attempt < settings.retry.maxAttempts) {
      const backoff = keyringBackoffDelay(settings.retry, attempt);
      const floor = Math.min(settings.retry.maxDelayMs, failure.retryAfterMs ?? 0);
      await settings.retry.sleep(Math.max(backoff, floor));
      continue;
    }
    emit(settings, target, { success: false, latencyMs: performance.now() - started, attempts: attempt, failure });
    throw new KeyringError(
      remoteCallFailedMessage(
        settings.service,
        target.remoteOperation,
        target.key,
        settings.describe(failure.code),
        attempt,
      ),
      { keyringId: settings.keyringId, operation: target.operation, retryable: failure.retryable },
    );
  }
}

/**
 * `call`, or a rejection with `options.error()` as soon as `signal` fires: a promise that does
 * not honour the signal (a credential or PIN callback that never returns, a client that ignores
 * `abortSignal`) must not hold its caller past the timeout. What it answers later goes to
 * `options.discard` (which zeroes key bytes in it), or nowhere. Used by keyring packages too.
 */
export function untilAborted<T>(
  call: Promise<T>,
  signal: AbortSignal,
  options: { readonly error: () => Error; readonly discard?: (late: T) => void },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(options.error());
      call.then(options.discard, () => undefined);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Zeroes the bytes of an answer nobody waits for any more (a late unwrap's key). */
function zeroLate(value: unknown): void {
  if (value instanceof Uint8Array) value.fill(0);
  else if (typeof value === 'object' && value !== null) {
    for (const field of Object.values(value)) if (field instanceof Uint8Array) field.fill(0);
  }
}

/** Node and undici network error codes that mean the connection, not the request, failed. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * The network code of an error from `fetch`, an HTTP client or a socket (`code` on the error
 * or its `cause`, one level down), when it is one of {@link RETRYABLE_NETWORK_CODES}.
 */
export function networkErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; depth < 3 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A `Retry-After` header in milliseconds: the delta-seconds form only (an HTTP date, a
 * negative or an overlong value gives `undefined`). The retry loop caps it at `maxDelayMs`.
 * @example parseRetryAfter('2') // 2000
 */
export function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed.length === 0 || trimmed.length > 6) return undefined;
  for (const char of trimmed) if (char < '0' || char > '9') return undefined;
  return Number(trimmed) * 1000;
}
