/**
 * One logical KMS operation: attempts with a per-attempt timeout (AbortController), retries
 * with full-jitter backoff on retryable failures, one audit event with latency, attempts and
 * outcome, and a typed `KeyringError` when it finally fails. Nothing here sees key material:
 * the request is built by the caller inside `send`.
 */
import {
  KeyringError,
  type AuditOperation,
  type AuditSink,
  type ActorContext,
  type EncryptionContext,
} from '@hushfield/core';
import { describeFailure, messages } from './messages';
import { backoffDelay, classifyKmsError, type ResolvedRetryOptions } from './retry';

/** `KeyringError['operation']`. */
export type KeyringOperation = KeyringError['operation'];

const AUDIT_OPERATIONS: Partial<Record<KeyringOperation, AuditOperation>> = {
  wrap: 'keyring.wrap',
  unwrap: 'keyring.unwrap',
  generate: 'keyring.generate',
};

/** Settings shared by every call of one keyring. */
export interface KmsCallSettings {
  readonly keyringId: string;
  readonly timeoutMs: number;
  readonly retry: ResolvedRetryOptions;
  readonly audit?: AuditSink;
  readonly actor?: () => ActorContext | undefined;
}

/** What one call is about (for messages and audit). */
export interface KmsCallTarget {
  readonly operation: KeyringOperation;
  /** `Encrypt`, `Decrypt`, `GenerateDataKey`, `DescribeKey`. */
  readonly kmsOperation: string;
  /** The key as named in the request (ARN or alias): not secret. */
  readonly key: string;
  readonly context?: EncryptionContext;
}

function reportSinkFailure(error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error;
  process.emitWarning(`hushfield audit sink failed (${name}); the event was dropped`, 'HushfieldAuditWarning');
}

function emit(
  settings: KmsCallSettings,
  target: KmsCallTarget,
  outcome: {
    success: boolean;
    latencyMs: number;
    attempts: number;
    awsErrorCode?: string;
    retryable?: boolean;
  },
): void {
  const operation = AUDIT_OPERATIONS[target.operation];
  if (settings.audit === undefined || operation === undefined) return;
  try {
    const context = target.context ?? {};
    const version = Number(context.version);
    const actor = settings.actor?.();
    const kind =
      context.purpose === 'hushfield/scope-key'
        ? 'scope'
        : context.purpose === 'hushfield/index-key'
          ? 'index'
          : undefined;
    const result = settings.audit.emit({
      time: new Date(),
      operation,
      outcome: outcome.success ? 'success' : 'failure',
      keyringId: settings.keyringId,
      latencyMs: outcome.latencyMs,
      ...(context.keyId !== undefined ? { keyId: context.keyId } : {}),
      ...(kind !== undefined ? { kind } : {}),
      ...(context.scope !== undefined ? { scope: context.scope } : {}),
      ...(Number.isSafeInteger(version) ? { version } : {}),
      ...(outcome.success ? {} : { errorCode: 'HUSHFIELD_KEYRING' }),
      ...(actor !== undefined ? { actor } : {}),
      detail: {
        kmsOperation: target.kmsOperation,
        kmsKey: target.key,
        attempts: outcome.attempts,
        ...(outcome.awsErrorCode !== undefined
          ? { awsErrorCode: outcome.awsErrorCode, retryable: outcome.retryable === true }
          : {}),
      },
    });
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, reportSinkFailure);
    }
  } catch (error) {
    reportSinkFailure(error);
  }
}

/**
 * Runs `send` until it succeeds, fails for good, or runs out of attempts.
 * @param send - performs one attempt; must pass `signal` to the KMS client
 * @throws KeyringError naming the key and operation; `retryable` when throttled, timed out or
 *   unreachable. The SDK error is not attached (its fields may carry request details).
 */
export async function callKms<T>(
  settings: KmsCallSettings,
  target: KmsCallTarget,
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
    let failure;
    try {
      const result = await send(controller.signal);
      clearTimeout(timer);
      emit(settings, target, { success: true, latencyMs: performance.now() - started, attempts: attempt });
      return result;
    } catch (error) {
      clearTimeout(timer);
      failure = classifyKmsError(error, timedOut);
    }
    if (failure.retryable && attempt < settings.retry.maxAttempts) {
      await settings.retry.sleep(backoffDelay(settings.retry, attempt));
      continue;
    }
    emit(settings, target, {
      success: false,
      latencyMs: performance.now() - started,
      attempts: attempt,
      awsErrorCode: failure.code,
      retryable: failure.retryable,
    });
    throw new KeyringError(
      messages.kmsCallFailed(
        target.kmsOperation,
        target.key,
        describeFailure(failure.code, settings.timeoutMs),
        attempt,
      ),
      { keyringId: settings.keyringId, operation: target.operation, retryable: failure.retryable },
    );
  }
}
