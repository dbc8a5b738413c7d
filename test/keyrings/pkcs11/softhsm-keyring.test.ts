/**
 * Pkcs11Keyring against a real SoftHSM v2 token (initialised in a temp dir by the global
 * setup and `softhsm2-util`): CKM_AES_GCM wrap/unwrap with the context as AAD, key checks,
 * PIN handling, sessions, and faults injected by wrapping the real module (device errors,
 * sessions closed underneath, a slow token). Skipped, with the reason, only where SoftHSM is
 * not installed.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { FieldCrypto, KeyringError, MemoryKeyStore, type AuditEvent } from '@hushfield/core';
import { Pkcs11Keyring, type Pkcs11KeyringOptions, type Pkcs11Module } from '@hushfield/kms-pkcs11';
import { createSoftHsmToken, softHsmMissing, SOFTHSM_LIBRARY } from './softhsm';

const missing = softHsmMissing();
if (missing !== undefined) process.stdout.write(`\nPKCS#11 suite skipped: ${missing}\n`);
const describeWithSoftHsm = missing === undefined ? describe : describe.skip;

const TOKEN = `hf-${process.pid}`;
const PIN = '246810';
const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '1' };

describeWithSoftHsm('Pkcs11Keyring on SoftHSM', () => {
  const keyrings: Pkcs11Keyring[] = [];
  let sleeps: number[];
  const keyring = (options: Partial<Pkcs11KeyringOptions> = {}): Pkcs11Keyring => {
    const created = new Pkcs11Keyring({
      module: SOFTHSM_LIBRARY,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'hushfield-root',
      retry: { maxAttempts: 3, baseDelayMs: 10, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
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

  beforeAll(() => {
    createSoftHsmToken(TOKEN, PIN, [
      { label: 'hushfield-root' },
      { label: 'other-root' },
      { label: 'exposed', sensitive: false },
      { label: 'short', length: 16 },
      { label: 'twice' },
      { label: 'twice' },
    ]);
    createSoftHsmToken(`${TOKEN}-b`, PIN, [{ label: 'hushfield-root' }]);
  });
  beforeEach(() => {
    sleeps = [];
  });
  afterAll(() => {
    for (const created of keyrings) created.close();
  });

  it('wraps with CKM_AES_GCM in the token and unwraps with the same context', async () => {
    const ring = keyring();
    const plaintext = randomBytes(32);
    const wrapped = await ring.wrapKey(plaintext, context);
    expect(wrapped.subarray(0, 5)).toEqual(Buffer.from('HFP\x01\x01', 'latin1'));
    expect(wrapped).toHaveLength(5 + 12 + 32 + 16);
    expect(wrapped.includes(plaintext)).toBe(false);
    expect((await ring.unwrapKey(wrapped, { ...context })).equals(plaintext)).toBe(true);
    const generated = await ring.generateKey(context);
    expect((await ring.unwrapKey(generated.wrappedKey, context)).equals(generated.plaintextKey)).toBe(true);
  });

  it('binds the context: another scope, version or key id fails inside the token and is not retried', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const other of [
      { ...context, scope: 'tenant-b' },
      { ...context, version: '2' },
      { ...context, keyId: 'k-2' },
      { ...context, extra: '' },
    ]) {
      const error = await failure(ring.unwrapKey(wrapped, other));
      expect(error).toMatchObject({
        code: 'HUSHFIELD_KEYRING',
        operation: 'unwrap',
        retryable: false,
        keyringId: `pkcs11:${TOKEN}/hushfield-root`,
      });
      expect(error.message).toContain('presented with another encryption context');
    }
    expect(sleeps).toEqual([]);
  });

  it('refuses a tampered IV, ciphertext or tag, another key, and malformed bytes', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const at of [5, 20, wrapped.length - 1]) {
      const tampered = Buffer.from(wrapped);
      tampered[at] ^= 1;
      expect((await failure(ring.unwrapKey(tampered, context))).retryable).toBe(false);
    }
    expect((await failure(keyring({ keyLabel: 'other-root' }).unwrapKey(wrapped, context))).retryable).toBe(false);
    expect((await failure(ring.unwrapKey(Buffer.from('HFP\x01\x02'), context))).message).toContain(
      'malformed (unsupported mechanism 2)',
    );
    expect((await failure(ring.unwrapKey(wrapped.subarray(0, 30), context))).message).toContain(
      'malformed (truncated)',
    );
  });

  it('runs concurrent operations over its sessions', async () => {
    const ring = keyring({ sessions: 3 });
    const keys = Array.from({ length: 24 }, () => randomBytes(32));
    const wrapped = await Promise.all(keys.map((key) => ring.wrapKey(key, context)));
    const back = await Promise.all(wrapped.map((bytes) => ring.unwrapKey(bytes, context)));
    expect(back.every((key, i) => key.equals(keys[i]))).toBe(true);
  });

  it('refuses a missing token or key, a key that is not sensitive, not 256-bit or not unique', async () => {
    const reason = async (options: Partial<Pkcs11KeyringOptions>) =>
      (await failure(keyring(options).wrapKey(randomBytes(32), context))).message;
    expect(await reason({ tokenLabel: 'no-such-token' })).toContain('no token with that label');
    expect(await reason({ keyLabel: 'no-such-key' })).toContain('no AES secret key with that label');
    expect(await reason({ keyLabel: 'exposed' })).toContain('sensitive');
    expect(await reason({ keyLabel: 'short' })).toContain('not a 256-bit AES key');
    expect(await reason({ keyLabel: 'twice' })).toContain('more than one AES secret key');
  });

  it('stops using a PIN the token refused, so it cannot lock the token', async () => {
    // Login state is per application and token: a token no session of this process is logged in to.
    const { module, calls } = countingModule();
    const ring = keyring({ module, tokenLabel: `${TOKEN}-b`, pin: 'wrong-pin' });
    const first = await failure(ring.wrapKey(randomBytes(32), context));
    expect(first.message).toContain('the token refused the PIN (CKR_PIN_INCORRECT)');
    expect(first.message).not.toContain('wrong-pin');
    expect(first.retryable).toBe(false);
    const second = await failure(ring.unwrapKey(await keyring().wrapKey(randomBytes(32), context), context));
    expect(second.message).toContain('does not try it again');
    expect(calls.C_Login).toBe(1);
  });

  it('describes the key without revealing it, and prints no PIN', async () => {
    const ring = keyring({ pin: () => PIN });
    expect(await ring.describeKey()).toEqual({
      tokenLabel: TOKEN,
      keyLabel: 'hushfield-root',
      valueLength: 32,
      sensitive: true,
      extractable: false,
    });
    expect(inspect(ring)).toBe(`Pkcs11Keyring { id: "pkcs11:${TOKEN}/hushfield-root" }`);
    expect(JSON.stringify(ring)).not.toContain(PIN);
  });

  it('serves FieldCrypto end to end, with audit events naming the token call', async () => {
    const events: AuditEvent[] = [];
    const ring = keyring({ audit: { emit: (event) => void events.push(event) } });
    const keyStore = new MemoryKeyStore();
    const field = { model: 'users', field: 'email' };
    const sealed = (
      await new FieldCrypto({ keyring: ring, keyStore, cache: { ttlMs: 60_000 } }).rowEncryptor('tenant-a')
    ).encrypt('ada@example.com', field);
    expect(await new FieldCrypto({ keyring: ring, keyStore, cache: { ttlMs: 60_000 } }).decrypt(sealed, field)).toBe(
      'ada@example.com',
    );
    expect(events.map((event) => [event.operation, event.detail?.kmsOperation])).toEqual([
      ['keyring.generate', 'C_Encrypt'],
      ['keyring.unwrap', 'C_Decrypt'],
    ]);
    expect(events[1]).toMatchObject({
      outcome: 'success',
      scope: 'tenant-a',
      kind: 'scope',
      detail: { kmsKey: `${TOKEN}/hushfield-root`, attempts: 1 },
    });
  });

  describe('under token faults', () => {
    it('retries a device error, reopening the sessions', async () => {
      const { module, calls, fail } = countingModule();
      const ring = keyring({ module });
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      fail('C_Decrypt', 2, pkcs11js.CKR_DEVICE_ERROR);
      const opened = calls.C_OpenSession;
      await ring.unwrapKey(wrapped, context);
      expect(sleeps).toEqual([5, 10]);
      expect(calls.C_OpenSession).toBe(opened + 4); // two sessions, reopened after each failure
    });

    it('recovers when its sessions are closed underneath it', async () => {
      const { module, real } = countingModule();
      const ring = keyring({ module });
      const plaintext = randomBytes(32);
      const wrapped = await ring.wrapKey(plaintext, context);
      const slot = real.C_GetSlotList(true).find((s) => real.C_GetTokenInfo(s).label.trimEnd() === TOKEN) as Buffer;
      real.C_CloseAllSessions(slot);
      expect((await ring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
      expect(sleeps).toHaveLength(1);
    });

    it('gives up on a persistent device error with a retryable KeyringError', async () => {
      const { module, fail } = countingModule();
      const ring = keyring({ module });
      await ring.describeKey();
      fail('C_Encrypt', 10, pkcs11js.CKR_DEVICE_ERROR);
      const error = await failure(ring.wrapKey(randomBytes(32), context));
      expect(error).toMatchObject({ retryable: true, operation: 'wrap' });
      expect(error.message).toBe(
        `PKCS#11 C_Encrypt with key ${TOKEN}/hushfield-root failed after 3 attempts: the token is unavailable (CKR_DEVICE_ERROR)`,
      );
    });

    it('times out a slow token, zeroes the late result, and keeps working', async () => {
      const { module, slow, late } = countingModule();
      // A timeout the token's ordinary calls stay well within on a loaded machine too (with 50 ms,
      // the first C_Encrypt timed out there), and a slow call well past it.
      const ring = keyring({ module, timeoutMs: 1_000, retry: { maxAttempts: 1 } });
      const plaintext = randomBytes(32);
      const wrapped = await ring.wrapKey(plaintext, context);
      slow('C_Decrypt', 2_000);
      const error = await failure(ring.unwrapKey(wrapped, context));
      expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('no answer within 1000 ms') });
      for (const deadline = Date.now() + 30_000; late.length === 0 && Date.now() < deadline;)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(late).toHaveLength(1);
      expect(late[0].equals(Buffer.alloc(32))).toBe(true);
      expect((await ring.unwrapKey(wrapped, context)).equals(plaintext)).toBe(true);
    });
  });

  describe('sessions under load', () => {
    it('hands a freed session to a caller still waiting, not to one that stopped waiting', async () => {
      const { module, slow } = countingModule();
      // Timings that leave 500 ms on either side on a loaded machine (400 / 700 / 450 ms left 150 ms
      // for the last caller's decrypt once the session was free, and its own timeout cut it off).
      const ring = keyring({ module, sessions: 1, timeoutMs: 1_000, retry: { maxAttempts: 1 } });
      const plaintext = randomBytes(32);
      const wrapped = await ring.wrapKey(plaintext, context);
      slow('C_Decrypt', 1_500);
      // Holds the only session for ~1,500 ms (its caller gives up at 1,000 ms).
      const holder = failure(ring.unwrapKey(wrapped, context));
      // Waits for the session and gives up at 1,000 ms.
      const gaveUp = await failure(ring.unwrapKey(wrapped, context));
      // Waits from ~1,000 ms; the session is free at ~1,500 ms, well before its own ~2,000 ms deadline.
      const waiting = ring.unwrapKey(wrapped, context);
      expect((await waiting).equals(plaintext)).toBe(true);
      expect(await holder).toMatchObject({
        retryable: true,
        message: expect.stringContaining('no answer within 1000 ms'),
      });
      expect(gaveUp).toMatchObject({
        retryable: true,
        message: expect.stringContaining('no answer within 1000 ms'),
      });
    });
  });

  /**
   * The real SoftHSM module (initialised once, finalised by the keyrings' library path users
   * or left to process exit), wrapped to count calls and inject faults.
   */
  function countingModule() {
    const real = new pkcs11js.PKCS11();
    real.load(SOFTHSM_LIBRARY);
    try {
      real.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch {
      // already initialised in this process by a keyring given the library path
    }
    const calls: Record<string, number> = {};
    const faults: Record<string, { count: number; code: number }> = {};
    const delays: Record<string, number> = {};
    const late: Buffer[] = [];
    const module = new Proxy(real, {
      get(target, property: string) {
        const value = (target as unknown as Record<string, unknown>)[property];
        if (typeof value !== 'function' || !property.startsWith('C_')) return value;
        return (...args: unknown[]) => {
          calls[property] = (calls[property] ?? 0) + 1;
          const fault = faults[property];
          const callback =
            typeof args[args.length - 1] === 'function'
              ? (args[args.length - 1] as (e: Error | null, d: Buffer | null) => void)
              : undefined;
          if (fault !== undefined && fault.count > 0) {
            fault.count--;
            const error = new pkcs11js.Pkcs11Error(`CKR_DEVICE_ERROR:${fault.code}`, fault.code, property);
            if (callback) return void setImmediate(() => callback(error, null));
            throw error;
          }
          if (callback && delays[property] !== undefined) {
            const wait = delays[property];
            delete delays[property];
            args[args.length - 1] = (e: Error | null, d: Buffer | null) =>
              setTimeout(() => {
                if (d) late.push(d);
                callback(e, d);
              }, wait);
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as unknown as Pkcs11Module;
    return {
      module,
      real,
      calls,
      late,
      fail: (method: string, count: number, code: number) => void (faults[method] = { count, code }),
      slow: (method: string, ms: number) => void (delays[method] = ms),
    };
  }
});
