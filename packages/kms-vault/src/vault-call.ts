/**
 * One logical Vault operation over Node's global `fetch`: attempts with a per-attempt timeout
 * (`AbortSignal.timeout`), retries with backoff on retryable failures (sealed, standby, 429,
 * 5xx, network, timeout), one re-authentication on 403, one audit event with latency,
 * attempts and outcome, and a typed `VaultKeyringError` when it finally fails.
 *
 * Request and response bodies may hold a plaintext key (base64): the byte buffers this module
 * owns are zeroed after use. Vault's error text is classified, never copied into messages.
 */
import {
  emitKeyringCallEvent,
  type ActorContext,
  type AuditSink,
  type EncryptionContext,
  type KeyringError,
} from '@hushfield/core';
import { describeFailure, messages } from './messages';
import { backoffDelay, parseRetryAfter, type ResolvedRetryOptions } from './retry';
import { RETRYABLE_VAULT_CODES, SecretSourceTimeout, VaultKeyringError, type VaultErrorCode } from './vault-error';

/** `KeyringError['operation']`. */
export type KeyringOperation = KeyringError['operation'];

/** Supplies the `X-Vault-Token` and refreshes it after a 403 (see `vault-auth.ts`). */
export interface TokenSource {
  /** The current token, logging in or renewing first when needed. */
  token(operation: KeyringOperation): Promise<string>;
  /** Drops `token` after Vault refused it; `true` when a fresh one can be obtained. */
  invalidate(token: string): boolean;
}

/** Settings shared by every call of one keyring. */
export interface VaultCallSettings {
  readonly keyringId: string;
  /** `https://vault.example.com:8200`, no trailing slash. */
  readonly address: string;
  readonly namespace?: string;
  readonly timeoutMs: number;
  readonly retry: ResolvedRetryOptions;
  readonly fetch: typeof fetch;
  readonly audit?: AuditSink;
  readonly actor?: () => ActorContext | undefined;
}

/** One request: the path after `/v1/`, and the keyring operation it serves. */
export interface VaultRequest {
  readonly operation: KeyringOperation;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Built per attempt so that the caller's buffer can be zeroed after each one. */
  readonly body?: () => Buffer;
  /** Sends `X-Vault-Token` from this source (login calls have none). */
  readonly auth?: TokenSource;
  /** Audited keyring calls: the context names the key id, scope and version. */
  readonly audit?: { readonly context: EncryptionContext; readonly vaultKey: string };
  /**
   * A check made before a keyring call, on its behalf: neither its success nor these expected
   * failures are audit events (the caller acts on them); any other failure is the call's.
   */
  readonly check?: { readonly expected: readonly VaultErrorCode[] };
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

interface Failure {
  readonly code: VaultErrorCode;
  readonly status?: number;
  readonly retryAfterMs?: number;
}

type Attempt = { ok: true; body: Record<string, unknown> } | { ok: false; failure: Failure };

/** Vault's `{"errors":[...]}` strings that tell failures apart, mapped to codes. */
const ERROR_PHRASES: ReadonlyArray<readonly [string, VaultErrorCode]> = [
  ['vault is sealed', 'Sealed'],
  ['disallowed by policy (too old)', 'KeyVersionRetired'],
  ['requested version for encryption is', 'KeyVersionInvalid'],
  ["missing 'context'", 'ContextRequired'],
  ['message authentication failed', 'InvalidCiphertext'],
  ['unable to decrypt', 'InvalidCiphertext'],
  ['invalid ciphertext', 'InvalidCiphertext'],
  ['key not found', 'KeyNotFound'],
  ['permission denied', 'PermissionDenied'],
  ['rate limit', 'Throttled'],
];

function errorStrings(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors)
    ? errors.filter((e): e is string => typeof e === 'string').map((e) => e.toLowerCase())
    : [];
}

/** Classifies a non-2xx answer by status, then by Vault's error strings. */
export function classifyResponse(status: number, body: unknown): VaultErrorCode {
  const texts = errorStrings(body);
  const phrase = ERROR_PHRASES.find(([text]) => texts.some((t) => t.includes(text)))?.[1];
  if (status === 429) return 'Throttled';
  if (status === 503) return phrase === 'Sealed' ? 'Sealed' : 'Unavailable';
  if (status === 403) return 'PermissionDenied';
  // 412: a performance standby has not caught up yet; retry as for 5xx.
  if (status >= 500 || status === 412) return 'ServerError';
  if (status === 404) return 'KeyNotFound';
  // A standby (not a performance standby) redirects to the active node. The token is not sent
  // after a redirect to wherever it points: the address must name the active node or a balancer.
  if (status >= 300 && status < 400) return 'Redirected';
  return phrase !== undefined && !RETRYABLE_VAULT_CODES.has(phrase) ? phrase : 'BadRequest';
}

/** Classifies what `fetch` threw: our timeout, or a network failure. */
export function classifyThrown(error: unknown): VaultErrorCode {
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'Timeout';
  return 'NetworkError';
}

async function readBody(response: Response): Promise<unknown> {
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > MAX_RESPONSE_BYTES) return undefined;
  const bytes = Buffer.from(await response.arrayBuffer());
  try {
    if (bytes.length === 0 || bytes.length > MAX_RESPONSE_BYTES) return undefined;
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  } finally {
    bytes.fill(0);
  }
}

async function attempt(
  settings: VaultCallSettings,
  request: VaultRequest,
  token: string | undefined,
): Promise<Attempt> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers['x-vault-token'] = token;
  if (settings.namespace !== undefined) headers['x-vault-namespace'] = settings.namespace;
  const body = request.body?.();
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await settings.fetch(`${settings.address}/v1/${request.path}`, {
      method: request.method,
      headers,
      body,
      // Not followed: the token would go to whatever host the answer names.
      redirect: 'manual',
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    const parsed = await readBody(response);
    if (response.status >= 200 && response.status < 300) {
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return { ok: false, failure: { code: 'UnexpectedResponse', status: response.status } };
      }
      return { ok: true, body: parsed as Record<string, unknown> };
    }
    return {
      ok: false,
      failure: {
        code: classifyResponse(response.status, parsed),
        status: response.status,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      },
    };
  } catch (error) {
    return { ok: false, failure: { code: classifyThrown(error) } };
  } finally {
    body?.fill(0);
  }
}

/**
 * Audits a call refused by this package after Vault answered (one event, as for any failure).
 * @param code - why it was refused, e.g. `KeyNotDerived`
 */
export function auditRefusal(
  settings: VaultCallSettings,
  request: VaultRequest,
  code: VaultErrorCode,
  latencyMs: number,
): void {
  emit(settings, request, { success: false, latencyMs, attempts: 1, failure: { code } });
}

function emit(
  settings: VaultCallSettings,
  request: VaultRequest,
  outcome: { success: boolean; latencyMs: number; attempts: number; failure?: Failure },
): void {
  if (request.audit === undefined) return;
  emitKeyringCallEvent(settings, request.operation, request.audit.context, outcome, {
    vaultPath: request.path,
    vaultKey: request.audit.vaultKey,
    attempts: outcome.attempts,
    ...(outcome.failure !== undefined
      ? { vaultErrorCode: outcome.failure.code, retryable: RETRYABLE_VAULT_CODES.has(outcome.failure.code) }
      : {}),
    ...(outcome.failure?.status !== undefined ? { httpStatus: outcome.failure.status } : {}),
  });
}

/**
 * Runs `request` until it succeeds, fails for good, or runs out of attempts. A 403 drops the
 * token and retries once with a fresh one (AppRole re-login, or the token function called
 * again); it does not use up a retry.
 * @returns the parsed JSON body of the 2xx answer; the caller zeroes what it decodes from it
 * @throws VaultKeyringError naming the path and the classified failure
 */
export async function callVault(settings: VaultCallSettings, request: VaultRequest): Promise<Record<string, unknown>> {
  const started = performance.now();
  let reauthenticated = false;
  let retries = 0;
  for (let attempts = 1; ; attempts++) {
    const token = request.auth === undefined ? undefined : await tokenOrFail(settings, request, started, attempts);
    const result = await attempt(settings, request, token);
    if (result.ok) {
      if (request.check === undefined)
        emit(settings, request, { success: true, latencyMs: performance.now() - started, attempts });
      return result.body;
    }
    const failure = result.failure;
    if (
      failure.code === 'PermissionDenied' &&
      token !== undefined &&
      !reauthenticated &&
      request.auth!.invalidate(token)
    ) {
      reauthenticated = true;
      continue;
    }
    if (RETRYABLE_VAULT_CODES.has(failure.code) && retries + 1 < settings.retry.maxAttempts) {
      retries++;
      await settings.retry.sleep(backoffDelay(settings.retry, retries, failure.retryAfterMs));
      continue;
    }
    if (request.check?.expected.includes(failure.code) !== true)
      emit(settings, request, { success: false, latencyMs: performance.now() - started, attempts, failure });
    throw new VaultKeyringError(
      messages.callFailed(request.path, describeFailure(failure.code, failure.status, settings.timeoutMs), attempts),
      {
        keyringId: settings.keyringId,
        operation: request.operation,
        vaultCode: failure.code,
        httpStatus: failure.status,
      },
    );
  }
}

async function tokenOrFail(
  settings: VaultCallSettings,
  request: VaultRequest,
  started: number,
  attempts: number,
): Promise<string> {
  try {
    return await request.auth!.token(request.operation);
  } catch (error) {
    // A token or secret id function that throws (or yields no token) is the caller's code: its
    // error may quote a secret, so only its name is kept, in a typed error naming the keyring.
    const typed =
      error instanceof VaultKeyringError
        ? error
        : new VaultKeyringError(messages.tokenSourceFailed(settings.keyringId, request.operation, reasonOf(error)), {
            keyringId: settings.keyringId,
            operation: request.operation,
            vaultCode: 'AuthFailed',
          });
    emit(settings, request, {
      success: false,
      latencyMs: performance.now() - started,
      attempts,
      failure: { code: typed.vaultCode },
    });
    throw typed;
  }
}

/** Why a token source failed: it did not answer in time, or the class name of what it threw, never its message. */
function reasonOf(error: unknown): string {
  return error instanceof SecretSourceTimeout ? error.message : errorName(error);
}

/** The class name of what a token source threw (`TypeError`, ...), never its message. */
function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : undefined;
  return name !== undefined && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'unknown error';
}

/** A typed error for a 2xx answer that lacks what it should hold. */
export function unexpectedResponse(
  settings: VaultCallSettings,
  request: VaultRequest,
  reason: string,
): VaultKeyringError {
  return new VaultKeyringError(messages.unexpectedResponse(request.path, reason), {
    keyringId: settings.keyringId,
    operation: request.operation,
    vaultCode: 'UnexpectedResponse',
  });
}
