/**
 * AwsKmsKeyring under KMS faults injected by the emulator: throttling, internal errors,
 * connection resets, timeouts and a full outage. Retries use an injected sleep that records
 * the backoff instead of waiting.
 */
import { randomBytes } from 'node:crypto';
import { KeyringError, type AuditEvent } from '@hushfield/core';
import { AwsKmsKeyring, type AwsKmsKeyringOptions } from '@hushfield/kms-aws';
import { kmsAdmin, startKmsEmulator, type CreatedKey, type KmsEmulator } from './emulator';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-9', scope: 'tenant-a', version: '3' };

describe('AwsKmsKeyring under KMS faults', () => {
  let emulator: KmsEmulator;
  let key: CreatedKey;
  let sleeps: number[];
  let events: AuditEvent[];
  const keyrings: AwsKmsKeyring[] = [];

  const keyring = (options: Partial<AwsKmsKeyringOptions> = {}): AwsKmsKeyring => {
    const created = new AwsKmsKeyring({
      keyId: key.arn,
      clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials },
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
    keyrings.push(created);
    return created;
  };

  const failure = async (promise: Promise<unknown>): Promise<KeyringError> => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyringError);
    return error as KeyringError;
  };

  beforeAll(async () => {
    emulator = await startKmsEmulator();
    key = await kmsAdmin(emulator).createKey();
  });
  beforeEach(async () => {
    await emulator.faults.clear();
    emulator.calls.reset();
    sleeps = [];
    events = [];
  });
  afterAll(async () => {
    for (const created of keyrings) created.destroy();
    await emulator.stop();
  });

  it('retries through 3 throttled calls with exponential backoff and full jitter', async () => {
    const ring = keyring();
    const plaintext = randomBytes(32);
    const wrapped = await ring.wrapKey(plaintext, context);
    events = [];
    emulator.faults.throttle(3, { operations: ['Decrypt'] });
    expect((await ring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    expect(emulator.calls.get('Decrypt')).toBe(4);
    // random() = 0.5 of min(1000, 100 * 2^(n-1)).
    expect(sleeps).toEqual([50, 100, 200]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      operation: 'keyring.unwrap',
      outcome: 'success',
      keyId: 'k-9',
      scope: 'tenant-a',
      version: 3,
      kind: 'scope',
      keyringId: ring.id,
      detail: { kmsOperation: 'Decrypt', attempts: 4, kmsKey: key.arn },
    });
    expect(events[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('gives up after maxAttempts throttled calls with a retryable KeyringError', async () => {
    const ring = keyring();
    emulator.faults.throttle(10);
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(error).toMatchObject({ code: 'HUSHFIELD_KEYRING', operation: 'wrap', retryable: true, keyringId: ring.id });
    expect(error.message).toContain('failed after 4 attempts');
    expect(error.message).toContain('ThrottlingException');
    expect(emulator.calls.get('Encrypt')).toBe(4);
    expect(sleeps).toHaveLength(3);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      operation: 'keyring.wrap',
      outcome: 'failure',
      errorCode: 'HUSHFIELD_KEYRING',
      detail: { attempts: 4, kmsErrorCode: 'ThrottlingException', retryable: true },
    });
  });

  it('caps the backoff at maxDelayMs', async () => {
    const ring = keyring({
      retry: {
        maxAttempts: 6,
        baseDelayMs: 100,
        maxDelayMs: 300,
        random: () => 0.999,
        sleep: async (ms) => void sleeps.push(ms),
      },
    });
    emulator.faults.throttle(5);
    await ring.wrapKey(randomBytes(32), context);
    expect(sleeps).toEqual([99, 199, 299, 299, 299]);
  });

  it('retries KMS internal errors (HTTP 500)', async () => {
    const ring = keyring();
    emulator.faults.fail(2, { type: 'KMSInternalException', status: 500 });
    const generated = await ring.generateKey(context);
    expect(generated.plaintextKey).toHaveLength(32);
    expect(emulator.calls.get('GenerateDataKey')).toBe(3);
  });

  it('does not retry a refusal that cannot succeed later', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    emulator.calls.reset();
    const error = await failure(ring.unwrapKey(wrapped, { ...context, scope: 'tenant-b' }));
    expect(error.retryable).toBe(false);
    expect(emulator.calls.get('Decrypt')).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a connection reset and succeeds', async () => {
    const ring = keyring();
    const plaintext = randomBytes(32);
    const wrapped = await ring.wrapKey(plaintext, context);
    emulator.faults.resetConnections(2);
    expect((await ring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    expect(sleeps).toHaveLength(2);
  });

  it('reports connection resets beyond the limit as a retryable KeyringError', async () => {
    const ring = keyring({ retry: { maxAttempts: 2, sleep: async (ms) => void sleeps.push(ms) } });
    emulator.faults.resetConnections(5);
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(error).toMatchObject({ operation: 'wrap', retryable: true });
    expect(error.message).toContain('ECONNRESET');
    expect(emulator.calls.get('Encrypt')).toBe(2);
  });

  it('aborts a call that exceeds timeoutMs and reports it as retryable', async () => {
    const ring = keyring({ timeoutMs: 100, retry: { maxAttempts: 1 } });
    emulator.faults.latencyMs = 1_000;
    const started = performance.now();
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(performance.now() - started).toBeLessThan(800);
    expect(error).toMatchObject({ operation: 'wrap', retryable: true });
    expect(error.message).toContain('no answer within 100 ms');
  });

  it('retries after a timeout and succeeds once KMS answers in time', async () => {
    const ring = keyring({ timeoutMs: 150 });
    emulator.faults.latencyMs = 400;
    const wrapping = ring.wrapKey(randomBytes(32), context);
    setTimeout(() => (emulator.faults.latencyMs = 0), 200);
    await expect(wrapping).resolves.toBeInstanceOf(Buffer);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
  });

  it('fails an outage with a retryable KeyringError and works again once KMS is back', async () => {
    const ring = keyring();
    const plaintext = randomBytes(32);
    const wrapped = await ring.wrapKey(plaintext, context);
    await emulator.faults.outage();
    const error = await failure(ring.unwrapKey(wrapped, context));
    expect(error).toMatchObject({ operation: 'unwrap', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('failed after 4 attempts');
    await emulator.faults.restore();
    expect((await ring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
  });

  it('reports an unreachable KMS from describeKey as a retryable describe error', async () => {
    await emulator.faults.outage();
    const error = await failure(keyring().describeKey());
    expect(error).toMatchObject({ operation: 'describe', retryable: true });
    expect(error.message).toContain('DescribeKey');
  });

  it('bounds a credentials provider that never returns by timeoutMs: a retryable KeyringError, not a hang', async () => {
    let asked = 0;
    const credentials = () => {
      asked++;
      return new Promise<never>(() => undefined);
    };
    const ring = keyring({
      timeoutMs: 150,
      retry: { maxAttempts: 2, sleep: async () => undefined },
      clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials },
    });
    const started = performance.now();
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ retryable: true, operation: 'wrap' });
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(emulator.calls.get('Encrypt')).toBe(0);
  });

  it('keeps working when the audit sink throws', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const ring = keyring({
        audit: {
          emit: () => {
            throw new TypeError('sink broke');
          },
        },
      });
      const plaintext = randomBytes(32);
      expect((await ring.unwrapKey(await ring.wrapKey(plaintext, context), context)).equals(plaintext)).toBe(true);
      const asyncRing = keyring({
        audit: {
          emit: async () => {
            throw new RangeError('sink broke later');
          },
        },
      });
      await asyncRing.wrapKey(plaintext, context);
      await new Promise((resolve) => setImmediate(resolve));
      const warnings = emitWarning.mock.calls.map((call) => String(call[0]));
      expect(warnings).toEqual([
        expect.stringContaining('audit sink failed (TypeError)'),
        expect.stringContaining('audit sink failed (TypeError)'),
        expect.stringContaining('audit sink failed (RangeError)'),
      ]);
    } finally {
      emitWarning.mockRestore();
    }
  });
});
