/**
 * AzureKeyVaultKeyring under Key Vault faults, through the official SDK and the loopback fake:
 * 503 and 429 (Retry-After) retried with core's backoff, never by the SDK as well; 401, 403
 * and 500; hangs bounded by the per-attempt timeout; connections reset or refused. Retries use
 * an injected sleep that records the waits.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AuditEvent } from '@hushfield/core';
import { AzureKeyVaultKeyring, type AzureKeyVaultKeyringOptions } from '@hushfield/kms-azure';
import { azureFailure as failure } from './support';
import { startAzureFake, type AzureFake } from './server';

const context = { purpose: 'hushfield/index-key', keyId: 'k-7', scope: 'default', version: '2' };

describe('AzureKeyVaultKeyring faults', () => {
  let fake: AzureFake;
  let sleeps: number[];
  let events: AuditEvent[];

  const keyring = (options: Partial<AzureKeyVaultKeyringOptions> = {}) =>
    new AzureKeyVaultKeyring({
      ...fake.keyringOptions(),
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

  beforeAll(async () => {
    fake = await startAzureFake({ kind: 'managedhsm' });
    fake.createKey('hushfield', 'oct-HSM');
  });
  beforeEach(() => {
    fake.reset();
    sleeps = [];
    events = [];
  });
  afterAll(() => fake.stop());

  it('retries 429 (honouring Retry-After) and 503 with backoff, then succeeds; the SDK adds no retries', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    fake.inject({ status: 429, retryAfter: 1 }, 1, '/wrapkey');
    fake.inject({ status: 503 }, 2, '/wrapkey');
    const wrapped = await ring.wrapKey(key, context);
    expect(fake.count('/wrapkey')).toBe(4); // one per attempt: none of the SDK's own
    expect(sleeps).toEqual([1_000, 100, 200]); // Retry-After 1 s (capped at maxDelayMs), then jittered backoff
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', detail: { attempts: 4 } });
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
  });

  it.each([
    [503, 'ServiceUnavailable', 'Key Vault is unavailable (HTTP 503)'],
    [429, 'Throttled', 'throttled by Key Vault (HTTP 429)'],
    [500, 'ServerError', 'Key Vault failed'],
  ] as const)('gives up on a persistent %i after maxAttempts with a retryable %s', async (status, code, words) => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    fake.reset();
    fake.inject({ status }, 100);
    const error = await failure(ring.unwrapKey(wrapped, context));
    expect(error).toMatchObject({ azureCode: code, retryable: true, operation: 'unwrap', code: 'HUSHFIELD_KEYRING' });
    expect(error.message).toContain(words);
    expect(error.message).toContain('after 4 attempts');
    expect(fake.requests.filter((r) => r.status === status)).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({
      outcome: 'failure',
      detail: { attempts: 4, kmsErrorCode: code, retryable: true },
    });
  });

  it.each([
    // The SDK answers a 401's challenge once with its cached token; the keyring then once with a new client.
    [401, 'Unauthorized', 4],
    [403, 'Forbidden', 1],
  ] as const)('a %i is final: %s, no backoff retries', async (status, code, requests) => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    fake.reset();
    fake.inject({ status }, 100, '/unwrapkey');
    expect(await failure(ring.unwrapKey(wrapped, context))).toMatchObject({ azureCode: code, retryable: false });
    expect(fake.count('/unwrapkey')).toBe(requests);
    expect(sleeps).toEqual([]);
  });

  it('a revoked token: the same keyring gets a new one from the credential and succeeds', async () => {
    const credential = fake.credential();
    const ring = keyring({ credential });
    const key = randomBytes(32);
    await ring.wrapKey(key, context);
    const tokensBefore = credential.calls.length;
    fake.revokeTokens();
    // The same client (the latest version's) was used before: its cached token is refused, twice
    // (the SDK answers the 401's challenge with the token it cached); a new client asks for a new one.
    const wrapped = await ring.wrapKey(key, context);
    expect(credential.calls.length).toBe(tokensBefore + 1);
    expect(fake.requests.filter((r) => r.path.endsWith('/wrapkey') && r.hadToken).map((r) => r.status)).toEqual([
      200, 401, 401, 200,
    ]);
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
  });

  it('bounds a hanging Key Vault by the per-attempt timeout, retries, and then succeeds', async () => {
    const ring = keyring({ timeoutMs: 1_000 });
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    await ring.unwrapKey(wrapped, context); // the version's client is set up (challenge, token) before the hangs
    events.length = 0;
    fake.inject({ hangMs: 20_000 }, 2, '/unwrapkey');
    const started = performance.now();
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(10_000);
    expect(events.at(-1)).toMatchObject({ outcome: 'success', detail: { attempts: 3 } });
  });

  it('fails a Key Vault that never answers with a retryable Timeout within attempts x timeout', async () => {
    const ring = keyring({ timeoutMs: 200, retry: { maxAttempts: 2, sleep: async () => undefined } });
    // Wrapped under the default timeout: a first call (challenge, token, wrap) can take more than
    // 200 ms on a loaded machine, and only the hanging calls are under test.
    const wrapped = await keyring().wrapKey(randomBytes(32), context);
    fake.inject({ hangMs: 10_000 }, 100, '/unwrapkey');
    const started = performance.now();
    const error = await failure(ring.unwrapKey(wrapped, context));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ azureCode: 'Timeout', retryable: true });
    expect(error.message).toContain('no answer within 200 ms');
  });

  it('bounds a credential whose getToken never returns by timeoutMs: a retryable Timeout, not a hang', async () => {
    let asked = 0;
    const credential = {
      getToken: () => {
        asked++;
        return new Promise<never>(() => undefined);
      },
    };
    const ring = keyring({ credential, timeoutMs: 200, retry: { maxAttempts: 2, sleep: async () => undefined } });
    const started = performance.now();
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ azureCode: 'Timeout', retryable: true, operation: 'wrap' });
    expect(error.message).toContain('after 2 attempts: no answer within 200 ms');
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(fake.count('/wrapkey')).toBeLessThanOrEqual(2); // challenges only: no token was ever sent
    expect(events.at(-1)).toMatchObject({ outcome: 'failure', detail: { attempts: 2, kmsErrorCode: 'Timeout' } });
  });

  it('retries a connection reset by Key Vault', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    fake.inject({ reset: true }, 1, '/unwrapkey');
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(sleeps).toHaveLength(1);
  });

  it('a refused connection is retryable and ends in a typed error naming the network code', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const ring = keyring({ vaultUrl: `https://hushfield.managedhsm.localhost:${port}` });
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(error).toMatchObject({ azureCode: 'ECONNREFUSED', retryable: true });
    expect(error.message).toContain('could not be reached (ECONNREFUSED)');
    expect(sleeps).toHaveLength(3);
  });
});
