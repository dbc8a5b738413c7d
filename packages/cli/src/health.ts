/**
 * Health checks shared by `status` and `doctor`: a keyring round trip (wrap then unwrap a
 * throwaway random key under a context that names the check) and a key-store summary.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ActorContext, AuditEvent, AuditSink, KeyStore, Keyring, StoredKey } from '@hushfield/core';
import { describeError, errorClass } from './output';
import { messages } from './messages';

/** Outcome of the keyring round trip. */
export interface KeyringHealth {
  readonly ok: boolean;
  readonly keyringId: string;
  readonly latencyMs: number;
  readonly error?: { code: string; message: string };
}

/** Where the round trip's two keyring calls are audited (they are KMS calls like any other). */
export interface HealthAudit {
  readonly sink?: AuditSink;
  readonly actor?: () => ActorContext | undefined;
}

/**
 * Wraps and unwraps 32 random bytes under a context naming the check; ok when the bytes come
 * back unchanged. Both calls are audited (`keyring.wrap`, `keyring.unwrap`, detail
 * `purpose: health-check`).
 */
export async function keyringRoundTrip(keyring: Keyring, audit: HealthAudit = {}): Promise<KeyringHealth> {
  const probe = randomBytes(32);
  const context = { purpose: 'hushfield/health-check', time: new Date().toISOString() };
  const started = Date.now();
  const call = async <T>(operation: 'keyring.wrap' | 'keyring.unwrap', work: () => Promise<T>): Promise<T> => {
    const begun = Date.now();
    try {
      const result = await work();
      emit(audit, { operation, outcome: 'success', keyringId: keyring.id, latencyMs: Date.now() - begun });
      return result;
    } catch (error) {
      emit(audit, {
        operation,
        outcome: 'failure',
        keyringId: keyring.id,
        latencyMs: Date.now() - begun,
        errorCode: describeError(error).code,
      });
      throw error;
    }
  };
  try {
    const wrapped = await call('keyring.wrap', () => keyring.wrapKey(probe, context));
    const back = await call('keyring.unwrap', () => keyring.unwrapKey(wrapped, context));
    const ok = back.length === probe.length && timingSafeEqual(back, probe);
    back.fill(0);
    const latencyMs = Date.now() - started;
    if (ok) return { ok, keyringId: keyring.id, latencyMs };
    const error = { code: 'HUSHFIELD_KEYRING', message: messages.status.roundTripMismatch() };
    return { ok, keyringId: keyring.id, latencyMs, error };
  } catch (error) {
    const { code, message } = describeError(error);
    return { ok: false, keyringId: keyring.id, latencyMs: Date.now() - started, error: { code, message } };
  } finally {
    probe.fill(0);
  }
}

/**
 * Delivers one event; a failing sink is ignored (an audit sink must never break a check). An
 * `actor()` that throws (the CLI checked it once before the command, so it failed since) does
 * not lose the event, nor the actor in silence: the event says so (`detail.actorFailed`, the
 * error's class) and a process warning is emitted.
 */
function emit(audit: HealthAudit, event: Omit<AuditEvent, 'time' | 'actor' | 'detail'>): void {
  if (!audit.sink) return;
  try {
    const actor = actorOrFailure(audit);
    const delivered = audit.sink.emit({
      ...event,
      time: new Date(),
      detail: { purpose: 'health-check', ...('failed' in actor ? { actorFailed: actor.failed } : {}) },
      ...('actor' in actor && actor.actor !== undefined ? { actor: actor.actor } : {}),
    });
    if (delivered && typeof (delivered as Promise<void>).catch === 'function')
      (delivered as Promise<void>).catch(() => undefined);
  } catch {
    // ignored, see above
  }
}

function actorOrFailure(audit: HealthAudit): { actor: ActorContext | undefined } | { failed: string } {
  try {
    return { actor: audit.actor?.() };
  } catch (error) {
    // The class only: the message may quote anything.
    const failed = errorClass(error);
    process.emitWarning(
      `hushfield audit actor() failed (${failed}); a health-check event was recorded without an actor`,
      'HushfieldAuditWarning',
    );
    return { failed };
  }
}

/** Counts of stored keys by kind and state, and which keyrings wrapped them. */
export interface KeyStoreSummary {
  readonly scopes: number;
  readonly byState: Record<string, number>;
  readonly indexVersions: { version: number; state: string }[];
  readonly keyringIds: Record<string, number>;
}

/** Summarises the key store (one `list()`). */
export async function keyStoreSummary(keyStore: KeyStore): Promise<{ summary: KeyStoreSummary; keys: StoredKey[] }> {
  const keys = await keyStore.list();
  const byState: Record<string, number> = {};
  const keyringIds: Record<string, number> = {};
  const scopes = new Set<string>();
  for (const key of keys) {
    byState[`${key.kind}:${key.state}`] = (byState[`${key.kind}:${key.state}`] ?? 0) + 1;
    if (key.kind === 'scope') scopes.add(key.scope);
    if (key.state !== 'destroyed') keyringIds[key.keyringId] = (keyringIds[key.keyringId] ?? 0) + 1;
  }
  const indexVersions = keys
    .filter((key) => key.kind === 'index')
    .map((key) => ({ version: key.version, state: key.state }));
  return { summary: { scopes: scopes.size, byState, indexVersions, keyringIds }, keys };
}
