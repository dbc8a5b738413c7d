/**
 * VaultTransitKeyring under faults (sealed, 429, 500, timeouts, unreachable) and its token
 * lifecycle (AppRole login, renew-self, re-login after 403 or expiry). Retries use an injected
 * sleep that records the backoff instead of waiting.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { type AuditEvent } from '@hushfield/core';
import { VaultKeyringError, VaultTransitKeyring, type VaultTransitKeyringOptions } from '@hushfield/kms-vault';
import { startVaultServer, type VaultServer } from './server';

const context = { purpose: 'hushfield/index-key', keyId: 'k-7', scope: 'default', version: '2' };
const paths = ['transit/encrypt/hushfield', 'transit/decrypt/hushfield'];

describe('VaultTransitKeyring faults and authentication', () => {
  let vault: VaultServer;
  let sleeps: number[];
  let events: AuditEvent[];

  const keyring = (options: Partial<VaultTransitKeyringOptions> = {}) =>
    new VaultTransitKeyring({
      address: vault.address,
      keyName: 'hushfield',
      auth: { token: vault.createToken(paths) },
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

  const failure = async (promise: Promise<unknown>): Promise<VaultKeyringError> => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VaultKeyringError);
    return error as VaultKeyringError;
  };

  beforeAll(async () => {
    vault = await startVaultServer();
    vault.createKey('hushfield', { derived: true });
  });
  beforeEach(() => {
    vault.reset();
    sleeps = [];
    events = [];
  });
  afterAll(() => vault.stop());

  describe('faults', () => {
    it('retries through 429 and 503 with backoff, honouring Retry-After', async () => {
      const ring = keyring();
      const key = randomBytes(32);
      await ring.wrapKey(key, context); // the first use's check that the key is derived
      vault.reset();
      events.length = 0;
      vault.inject({ status: 429, retryAfter: 1 }, 1);
      vault.inject({ status: 503 }, 2);
      const wrapped = await ring.wrapKey(key, context);
      expect(vault.count('encrypt/hushfield')).toBe(4);
      expect(sleeps).toEqual([1_000, 100, 200]); // Retry-After 1 s (capped at maxDelayMs), then jittered backoff
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'success', detail: { attempts: 4 } });
      expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    });

    it('gives up with a typed retryable error after maxAttempts (sealed, throttled, 500)', async () => {
      const ring = keyring();
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      for (const [status, code] of [
        [503, 'Sealed'],
        [429, 'Throttled'],
        [500, 'ServerError'],
      ] as const) {
        vault.reset();
        vault.inject({ status }, 10);
        const error = await failure(ring.unwrapKey(wrapped, context));
        expect(error).toMatchObject({
          vaultCode: code,
          retryable: true,
          httpStatus: status,
          operation: 'unwrap',
          code: 'HUSHFIELD_KEYRING',
        });
        expect(error.message).toContain('after 4 attempts');
        expect(vault.count('decrypt/hushfield')).toBe(4);
      }
      expect(events.at(-1)).toMatchObject({
        outcome: 'failure',
        detail: { attempts: 4, vaultErrorCode: 'ServerError', retryable: true, httpStatus: 500 },
      });
    });

    it('fails closed while Vault is sealed and recovers once it is unsealed', async () => {
      const ring = keyring({ retry: { maxAttempts: 2, sleep: async () => undefined } });
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      vault.sealed = true;
      expect(await failure(ring.unwrapKey(wrapped, context))).toMatchObject({ vaultCode: 'Sealed', retryable: true });
      vault.sealed = false;
      await expect(ring.unwrapKey(wrapped, context)).resolves.toHaveLength(32);
    });

    it('times out a hung request per attempt and retries it', async () => {
      const ring = keyring({ timeoutMs: 100 });
      vault.inject({ hangMs: 2_000 }, 1);
      const started = Date.now();
      await expect(ring.wrapKey(randomBytes(32), context)).resolves.toBeInstanceOf(Buffer);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(sleeps).toHaveLength(1);
      vault.inject({ hangMs: 2_000 }, 10);
      const error = await failure(
        keyring({ timeoutMs: 100, retry: { maxAttempts: 2, sleep: async () => undefined } }).wrapKey(
          randomBytes(32),
          context,
        ),
      );
      expect(error).toMatchObject({ vaultCode: 'Timeout', retryable: true });
      expect(error.message).toContain('no answer within 100 ms');
    });

    it('reports an unreachable Vault as a retryable NetworkError', async () => {
      const ring = keyring({ address: 'http://127.0.0.1:9' });
      const error = await failure(ring.wrapKey(randomBytes(32), context));
      expect(error).toMatchObject({ vaultCode: 'NetworkError', retryable: true });
      expect(sleeps).toHaveLength(3);
    });

    it('does not follow a redirect (the token would go where it points), and does not retry it', async () => {
      const ring = keyring();
      vault.inject({ redirect: 307, location: 'http://127.0.0.1:9/v1/transit/encrypt/hushfield' }, 1);
      const error = await failure(ring.wrapKey(randomBytes(32), context));
      expect(error).toMatchObject({ vaultCode: 'Redirected', retryable: false, httpStatus: 307 });
      expect(error.message).toContain('redirected');
      expect(vault.count('encrypt/hushfield')).toBe(1);
      expect(sleeps).toEqual([]);
    });

    it('does not retry final errors (bad ciphertext, retired version)', async () => {
      const ring = keyring();
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      await failure(ring.unwrapKey(wrapped, { ...context, version: '3' }));
      expect(vault.count('decrypt/hushfield')).toBe(1);
      expect(sleeps).toEqual([]);
    });
  });

  describe('authentication', () => {
    it('logs in with AppRole on first use, then reuses the token', async () => {
      vault.createAppRole('role-1', 'secret-1', paths);
      let secretReads = 0;
      const ring = keyring({
        auth: {
          appRole: {
            roleId: 'role-1',
            secretId: () => {
              secretReads++;
              return 'secret-1';
            },
          },
        },
      });
      const key = randomBytes(32);
      const [a, b] = await Promise.all([ring.wrapKey(key, context), ring.wrapKey(key, context)]);
      expect((await ring.unwrapKey(a, context)).equals(key)).toBe(true);
      expect((await ring.unwrapKey(b, context)).equals(key)).toBe(true);
      expect(vault.count('auth/approle/login')).toBe(1);
      expect(secretReads).toBe(1);
      expect(vault.requests.find((r) => r.path === 'auth/approle/login')).toMatchObject({
        hadToken: false,
        bodyFields: ['role_id', 'secret_id'],
      });
      expect(vault.requests.filter((r) => r.path.startsWith('transit/')).every((r) => r.hadToken)).toBe(true);
    });

    it('logs in within the namespace, and uses a custom AppRole mount path', async () => {
      vault.createKey('hushfield', { derived: true, namespace: 'ops' });
      vault.createAppRole('role-ns', 'secret-ns', paths, { namespace: 'ops' });
      const ring = keyring({ namespace: 'ops', auth: { appRole: { roleId: 'role-ns', secretId: 'secret-ns' } } });
      await ring.wrapKey(randomBytes(32), context);
      expect(vault.requests.map((r) => [r.path, r.namespace])).toEqual([
        ['auth/approle/login', 'ops'],
        ['transit/encrypt/hushfield', 'ops'], // the first use's check that the key is derived
        ['transit/encrypt/hushfield', 'ops'],
      ]);
      const elsewhere = keyring({
        auth: { appRole: { roleId: 'role-ns', secretId: 'secret-ns', mount: 'approle-ci' } },
      });
      expect(await failure(elsewhere.wrapKey(randomBytes(32), context))).toMatchObject({
        vaultCode: 'AuthFailed',
        retryable: false,
      });
    });

    it('fails with AuthFailed (final) on a wrong secret id, naming no secret', async () => {
      vault.createAppRole('role-2', 'right-secret', paths);
      const error = await failure(
        keyring({ auth: { appRole: { roleId: 'role-2', secretId: 'wrong-secret' } } }).wrapKey(
          randomBytes(32),
          context,
        ),
      );
      expect(error).toMatchObject({ vaultCode: 'AuthFailed', retryable: false, httpStatus: 400 });
      expect(`${error.message} ${JSON.stringify(events)}`).not.toMatch(/wrong-secret|right-secret/);
      expect(events).toMatchObject([
        { operation: 'keyring.wrap', outcome: 'failure', detail: { vaultErrorCode: 'AuthFailed' } },
      ]);
    });

    it('renews the token with renew-self after two thirds of its lease, and logs in again once it expired', async () => {
      vault.createAppRole('role-3', 'secret-3', paths, { ttlSeconds: 60 });
      let now = 1_000_000;
      const ring = keyring({ auth: { appRole: { roleId: 'role-3', secretId: 'secret-3' } }, now: () => now });
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      now += 30_000; // half the lease: no renewal
      await ring.unwrapKey(wrapped, context);
      expect(vault.count('renew-self')).toBe(0);
      now += 15_000; // 45 s of 60: renew
      await ring.unwrapKey(wrapped, context);
      expect(vault.count('renew-self')).toBe(1);
      expect(vault.count('auth/approle/login')).toBe(1);
      now += 120_000; // long expired: renew-self cannot help, log in again
      await ring.unwrapKey(wrapped, context);
      expect(vault.count('renew-self')).toBe(1);
      expect(vault.count('auth/approle/login')).toBe(2);
    });

    it('logs in again when Vault answers 403 (token revoked) and retries the call once', async () => {
      vault.createAppRole('role-4', 'secret-4', paths);
      const ring = keyring({ auth: { appRole: { roleId: 'role-4', secretId: 'secret-4' } } });
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      expect(vault.count('auth/approle/login')).toBe(1);
      // Revoke every token issued so far: the next call gets 403, logs in again, succeeds.
      vault.revokeIssued();
      await expect(ring.unwrapKey(wrapped, context)).resolves.toHaveLength(32);
      expect(vault.count('auth/approle/login')).toBe(2);
      expect(vault.count('decrypt/hushfield')).toBe(2);
      expect(events.at(-1)).toMatchObject({ outcome: 'success', detail: { attempts: 2 } });
    });

    it.each([
      ['a token function that throws', { token: () => Promise.reject(new Error('EACCES /run/vault-token s.SECRET')) }],
      ['a token function that returns no token', { token: () => '' }],
      [
        'a secret id function that throws',
        { appRole: { roleId: 'role-x', secretId: () => Promise.reject(new TypeError('secret-id s.SECRET')) } },
      ],
    ])('reports %s as a final AuthFailed naming the keyring, without its text', async (_name, auth) => {
      const ring = keyring({ auth: auth as VaultTransitKeyringOptions['auth'] });
      const error = await failure(ring.wrapKey(randomBytes(32), context));
      expect(error).toMatchObject({ vaultCode: 'AuthFailed', retryable: false, operation: 'wrap', keyringId: ring.id });
      expect(error.message).toContain(ring.id);
      expect(error.cause).toBeUndefined();
      expect(inspect(error) + JSON.stringify(error)).not.toContain('SECRET');
      expect(vault.requests).toHaveLength(0);
      expect(events).toMatchObject([
        { operation: 'keyring.wrap', outcome: 'failure', detail: { vaultErrorCode: 'AuthFailed' } },
      ]);
    });

    it.each([
      ['a token function', { token: () => new Promise<string>(() => undefined) }],
      ['a secret id function', { appRole: { roleId: 'role-x', secretId: () => new Promise<string>(() => undefined) } }],
    ])(
      'fails with AuthFailed after timeoutMs when %s never returns, and calls it again next time',
      async (_n, auth) => {
        const ring = keyring({ auth: auth as VaultTransitKeyringOptions['auth'], timeoutMs: 50 });
        const started = Date.now();
        const error = await failure(ring.wrapKey(randomBytes(32), context));
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(error).toMatchObject({
          vaultCode: 'AuthFailed',
          retryable: false,
          operation: 'wrap',
          keyringId: ring.id,
        });
        expect(error.message).toContain('no answer within 50 ms');
        expect(vault.requests).toHaveLength(0);
        await failure(ring.wrapKey(randomBytes(32), context));
        expect(events).toHaveLength(2);
      },
    );

    it('calls a token function again after a 403, but treats a 403 on a fixed token as final', async () => {
      const first = vault.createToken(paths);
      const second = vault.createToken(paths);
      let current = first;
      const ring = keyring({ auth: { token: () => current } });
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      vault.revokeToken(first);
      current = second;
      await expect(ring.unwrapKey(wrapped, context)).resolves.toHaveLength(32);

      const fixed = keyring({ auth: { token: second } });
      vault.revokeToken(second);
      vault.reset();
      expect(await failure(fixed.unwrapKey(wrapped, context))).toMatchObject({
        vaultCode: 'PermissionDenied',
        retryable: false,
      });
      expect(vault.count('decrypt/hushfield')).toBe(1);
    });
  });
});
