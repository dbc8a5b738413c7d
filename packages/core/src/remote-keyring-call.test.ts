import { InvalidArgumentError, KeyringError } from './errors';
import type { AuditEvent } from './audit';
import {
  callRemoteKeyring,
  keyringBackoffDelay,
  networkErrorCode,
  resolveKeyringRetry,
  resolveKeyringTimeout,
  type KeyringFailure,
  type RemoteKeyringSettings,
} from './remote-keyring-call';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '2' };

function settings(
  overrides: Partial<RemoteKeyringSettings> & { sleeps?: number[]; events?: AuditEvent[] } = {},
): RemoteKeyringSettings {
  const sleeps = overrides.sleeps ?? [];
  const events = overrides.events ?? [];
  return {
    keyringId: 'test:ring',
    service: 'Test KMS',
    timeoutMs: 1_000,
    retry: resolveKeyringRetry({
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
    }),
    audit: { emit: (event) => void events.push(event) },
    classify: (error: unknown, timedOut: boolean): KeyringFailure =>
      timedOut ? { code: 'Timeout', retryable: true } : (error as { failure: KeyringFailure }).failure,
    describe: (code: string) => `reason ${code}`,
    ...overrides,
  };
}

const fail = (code: string, retryable: boolean, retryAfterMs?: number) =>
  Object.assign(new Error('server text'), { failure: { code, retryable, retryAfterMs } });

describe('callRemoteKeyring', () => {
  it('retries retryable failures with full-jitter backoff and emits one audit event', async () => {
    const sleeps: number[] = [];
    const events: AuditEvent[] = [];
    let calls = 0;
    const result = await callRemoteKeyring(
      settings({ sleeps, events }),
      { operation: 'unwrap', remoteOperation: 'decrypt', key: 'k', context },
      async () => {
        calls++;
        if (calls < 3) throw fail('Throttled', true);
        return 'ok';
      },
    );
    expect(result).toBe('ok');
    expect(sleeps).toEqual([50, 100]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      operation: 'keyring.unwrap',
      outcome: 'success',
      keyringId: 'test:ring',
      keyId: 'k-1',
      kind: 'scope',
      scope: 'tenant-a',
      version: 2,
      detail: { kmsOperation: 'decrypt', kmsKey: 'k', attempts: 3 },
    });
  });

  it('does not retry a refusal, and names service, operation, key and reason but not the server text', async () => {
    const events: AuditEvent[] = [];
    const error = await callRemoteKeyring(
      settings({ events }),
      { operation: 'wrap', remoteOperation: 'encrypt', key: 'transit/keys/x', context },
      async () => {
        throw fail('PermissionDenied', false);
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toMatchObject({ operation: 'wrap', retryable: false, keyringId: 'test:ring' });
    expect((error as Error).message).toBe(
      'Test KMS encrypt with key transit/keys/x failed after 1 attempt: reason PermissionDenied',
    );
    expect((error as Error).message).not.toContain('server text');
    expect((error as Error).cause).toBeUndefined();
    expect(events[0]).toMatchObject({
      outcome: 'failure',
      errorCode: 'HUSHFIELD_KEYRING',
      detail: { kmsErrorCode: 'PermissionDenied', retryable: false, attempts: 1 },
    });
  });

  it('waits at least a server Retry-After, capped by maxDelayMs', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await callRemoteKeyring(
      settings({ sleeps }),
      { operation: 'wrap', remoteOperation: 'encrypt', key: 'k' },
      async () => {
        if (++calls < 3) throw fail('RateLimited', true, calls === 1 ? 700 : 60_000);
      },
    );
    expect(sleeps).toEqual([700, 1_000]);
  });

  it('aborts an attempt after timeoutMs and reports a retryable timeout once attempts run out', async () => {
    const ring = settings({
      timeoutMs: 20,
      retry: resolveKeyringRetry({ maxAttempts: 2, sleep: async () => undefined }),
    });
    let aborted = 0;
    const error = await callRemoteKeyring(
      ring,
      { operation: 'unwrap', remoteOperation: 'decrypt', key: 'k' },
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted++;
            reject(new Error('aborted'));
          }),
        ),
    ).catch((e: unknown) => e);
    expect(aborted).toBe(2);
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringContaining('failed after 2 attempts: reason Timeout'),
    });
  });

  it('stops waiting for an attempt that ignores its signal and never settles, after timeoutMs', async () => {
    const ring = settings({
      timeoutMs: 20,
      retry: resolveKeyringRetry({ maxAttempts: 2, sleep: async () => undefined }),
    });
    let attempts = 0;
    const started = Date.now();
    const error = await callRemoteKeyring(ring, { operation: 'wrap', remoteOperation: 'encrypt', key: 'k' }, () => {
      attempts++;
      return new Promise<Buffer>(() => undefined);
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(attempts).toBe(2);
    expect(error).toBeInstanceOf(KeyringError);
    expect(error).toMatchObject({
      retryable: true,
      message: 'Test KMS encrypt with key k failed after 2 attempts: reason Timeout',
    });
  });

  it('zeroes the key bytes of an attempt that answers after it was given up on', async () => {
    const ring = settings({ timeoutMs: 20, retry: resolveKeyringRetry({ maxAttempts: 1 }) });
    const late = Buffer.alloc(32, 9);
    let answer!: (key: Buffer) => void;
    const error = await callRemoteKeyring(
      ring,
      { operation: 'unwrap', remoteOperation: 'decrypt', key: 'k' },
      () => new Promise<Buffer>((resolve) => (answer = resolve)),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true });
    answer(late);
    await new Promise((resolve) => setImmediate(resolve));
    expect(late.equals(Buffer.alloc(32))).toBe(true);
  });

  it('survives an audit sink that throws', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const ring = settings({
      audit: {
        emit: () => {
          throw new TypeError('sink down');
        },
      },
    });
    await expect(
      callRemoteKeyring(ring, { operation: 'wrap', remoteOperation: 'encrypt', key: 'k' }, async () => 1),
    ).resolves.toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('TypeError'), 'HushfieldAuditWarning');
    warn.mockRestore();
  });
});

describe('remote keyring settings', () => {
  it('names a bad setting', () => {
    expect(() => resolveKeyringRetry({ maxAttempts: 0 })).toThrow(InvalidArgumentError);
    expect(() => resolveKeyringRetry({ maxAttempts: 1.5 })).toThrow(
      'retry.maxAttempts must be an integer from 1 to 20',
    );
    expect(() => resolveKeyringRetry({ baseDelayMs: 100, maxDelayMs: 50 })).toThrow('retry.maxDelayMs');
    expect(() => resolveKeyringTimeout(0)).toThrow('timeoutMs must be an integer from 1 to 300000');
    expect(resolveKeyringTimeout(undefined)).toBe(5_000);
  });

  it('caps the exponential backoff ceiling', () => {
    const options = resolveKeyringRetry({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 });
    expect([1, 2, 3, 4, 5, 6].map((retry) => keyringBackoffDelay(options, retry))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
  });

  it('finds a network code on an error or its cause', () => {
    expect(
      networkErrorCode(
        new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      ),
    ).toBe('ECONNREFUSED');
    expect(networkErrorCode(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe('UND_ERR_SOCKET');
    expect(networkErrorCode(Object.assign(new Error('x'), { code: 'ERR_INVALID_URL' }))).toBeUndefined();
    expect(networkErrorCode('nope')).toBeUndefined();
  });
});
