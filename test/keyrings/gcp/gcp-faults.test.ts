/**
 * GcpKmsKeyring under service faults, through the official client against the Cloud KMS fake:
 * 503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 403 PERMISSION_DENIED, hangs past the
 * timeout, reset connections and a refused connection. Retries use an injected sleep that
 * records the backoff instead of waiting; timeouts are real and bounded.
 */
import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '@hushfield/core';
import type { GcpKmsKeyringOptions } from '@hushfield/kms-gcp';
import { PassThroughClient } from 'google-auth-library';
import { fakeClientOptions, fakeKeyring, KEY, KeyringPool, keyringFailure } from './client';
import { startCloudKmsFake, type CloudKmsFake, type RpcStatus } from './server';

const context = { purpose: 'hushfield/index-key', keyId: 'k-7', scope: 'default', version: '2' };

describe('GcpKmsKeyring faults', () => {
  let fake: CloudKmsFake;
  let sleeps: number[];
  let events: AuditEvent[];
  const pool = new KeyringPool();

  const keyring = (options: Partial<GcpKmsKeyringOptions> = {}) => {
    const ring = fakeKeyring(fake, {
      retry: {
        maxAttempts: 4,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        random: () => 0.5,
        sleep: async (ms) => void sleeps.push(ms),
      },
      audit: { emit: (event) => void events.push(event) },
      ...options,
    });
    return pool.add(ring);
  };

  beforeAll(async () => {
    fake = await startCloudKmsFake();
    fake.createKey(KEY);
  });
  beforeEach(() => {
    fake.reset();
    sleeps = [];
    events = [];
  });
  afterAll(async () => {
    await pool.close();
    await fake.stop();
  });

  it('bounds an auth client that never answers (a token refresh that hangs) by timeoutMs: a retryable Timeout', async () => {
    let asked = 0;
    // The REST transport sends every call through the auth client's fetch, which gets the token
    // first: one whose refresh never returns, and ignores the call's cancellation, hangs there.
    class HangingAuth extends PassThroughClient {
      override fetch(): Promise<never> {
        asked++;
        return new Promise<never>(() => undefined);
      }
    }
    const ring = keyring({
      timeoutMs: 200,
      retry: { maxAttempts: 2, sleep: async () => undefined },
      clientOptions: { ...fakeClientOptions(fake), authClient: new HangingAuth() },
    });
    const started = performance.now();
    const error = await keyringFailure(ring.wrapKey(randomBytes(32), context));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ retryable: true, operation: 'wrap' });
    expect(error.message).toContain('after 2 attempts: no answer within 200 ms');
    expect(asked).toBeGreaterThanOrEqual(1);
  });

  it('retries through 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE with jittered backoff, then succeeds', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    fake.inject({ status: 'RESOURCE_EXHAUSTED' }, 1, 'encrypt');
    fake.inject({ status: 'UNAVAILABLE' }, 2, 'encrypt');
    const wrapped = await ring.wrapKey(key, context);
    expect(fake.count('encrypt')).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]); // random 0.5 of 100, 200, 400 ms
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ operation: 'keyring.wrap', outcome: 'success', detail: { attempts: 4 } });
    fake.inject({ status: 'INTERNAL' }, 1, 'decrypt');
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(fake.count('decrypt')).toBe(2);
  });

  it('gives up with a typed retryable error after maxAttempts, naming the canonical code', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const status of ['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'INTERNAL', 'DEADLINE_EXCEEDED'] as RpcStatus[]) {
      fake.reset();
      events = [];
      fake.inject({ status }, 10);
      const error = await keyringFailure(ring.unwrapKey(wrapped, context));
      expect(error).toMatchObject({ code: 'HUSHFIELD_KEYRING', retryable: true, operation: 'unwrap' });
      expect(error.message).toContain(`(${status})`);
      expect(error.message).toContain('after 4 attempts');
      expect(fake.count('decrypt')).toBe(4);
      expect(events).toEqual([
        expect.objectContaining({
          outcome: 'failure',
          detail: expect.objectContaining({ kmsErrorCode: status, retryable: true, attempts: 4 }),
        }),
      ]);
    }
  });

  it('does not retry 403 PERMISSION_DENIED, 401 UNAUTHENTICATED or 400 INVALID_ARGUMENT', async () => {
    const ring = keyring();
    for (const status of ['PERMISSION_DENIED', 'UNAUTHENTICATED', 'INVALID_ARGUMENT'] as RpcStatus[]) {
      fake.reset();
      fake.inject({ status }, 10);
      const error = await keyringFailure(ring.wrapKey(randomBytes(32), context));
      expect(error).toMatchObject({ retryable: false, operation: 'wrap' });
      expect(error.message).toContain(`(${status})`);
      expect(fake.count('encrypt')).toBe(1);
    }
    expect(sleeps).toEqual([]);
  });

  it('bounds a hanging call by timeoutMs per attempt, retries, and succeeds when the service answers again', async () => {
    const ring = keyring({ timeoutMs: 200 });
    const key = randomBytes(32);
    fake.inject({ hangMs: 2_000 }, 1, 'encrypt');
    const started = performance.now();
    const wrapped = await ring.wrapKey(key, context);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(fake.count('encrypt')).toBe(2);
    expect(events[0]).toMatchObject({ outcome: 'success', detail: { attempts: 2 } });

    fake.inject({ hangMs: 2_000 }, 10, 'decrypt');
    const began = performance.now();
    const error = await keyringFailure(ring.unwrapKey(wrapped, context));
    const elapsed = performance.now() - began;
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toContain('no answer within 200 ms');
    expect(elapsed).toBeGreaterThanOrEqual(4 * 190);
    expect(elapsed).toBeLessThan(4 * 200 + 1_000); // four attempts, sleeps injected
  });

  it('retries a connection reset mid-request, then succeeds', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    fake.inject({ reset: true }, 1, 'decrypt');
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(fake.count('decrypt')).toBe(2);
  });

  it('fails closed with a retryable error naming the network code when nothing listens', async () => {
    const closed = await startCloudKmsFake();
    const port = closed.port;
    await closed.stop();
    const ring = keyring({ timeoutMs: 1_000 });
    const unreachable = fakeKeyring(
      { apiEndpoint: '127.0.0.1', port },
      {
        retry: { maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms), random: () => 0 },
      },
    );
    pool.add(unreachable);
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    const started = performance.now();
    const error = await keyringFailure(unreachable.unwrapKey(wrapped, context));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error).toMatchObject({ retryable: true, operation: 'unwrap' });
    expect(error.message).toContain('could not be reached (ECONNREFUSED)');
    expect(error.message).toContain('after 3 attempts');
  });
});
