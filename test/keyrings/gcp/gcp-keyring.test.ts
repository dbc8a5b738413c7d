/**
 * GcpKmsKeyring through the official @google-cloud/kms client (REST transport) against the
 * loopback Cloud KMS fake (server.ts): round trips, the context bound as AAD, tampering, keys
 * of another CryptoKey, key versions and rotation, IAM, CRC32C integrity, and what errors show.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { InvalidArgumentError, type AuditEvent } from '@hushfield/core';
import { GcpKmsKeyring, contextAad, wrappedKeyVersion, type GcpKmsKeyringOptions } from '@hushfield/kms-gcp';
import { fakeKeyring, KEY, KeyringPool, keyringFailure } from './client';
import { startCloudKmsFake, type CloudKmsFake } from './server';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '1' };

describe('GcpKmsKeyring against the Cloud KMS fake', () => {
  let fake: CloudKmsFake;
  let events: AuditEvent[];
  const pool = new KeyringPool();

  const keyring = (options: Partial<GcpKmsKeyringOptions> = {}) => {
    const ring = fakeKeyring(fake, {
      audit: { emit: (event) => void events.push(event) },
      retry: { sleep: async () => undefined },
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
    events = [];
  });
  afterAll(async () => {
    await pool.close();
    await fake.stop();
  });

  it('round-trips a 256-bit key, sending the context as AAD with CRC32C checksums of every field', async () => {
    const ring = keyring();
    expect(ring.id).toBe(`gcp-kms:${KEY}`);
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    expect(wrapped.subarray(0, 4).toString('latin1')).toBe('HFG\x01');
    expect(wrapped.includes(key)).toBe(false);
    expect(wrappedKeyVersion(wrapped)).toEqual({ cryptoKeyVersion: `${KEY}/cryptoKeyVersions/1`, version: 1 });
    const unwrapped = await ring.unwrapKey(wrapped, { ...context });
    expect(unwrapped.equals(key)).toBe(true);
    expect(fake.requests.map((r) => `${r.method} ${r.name} ${r.fields.join(',')}`)).toEqual([
      `encrypt ${KEY} additionalAuthenticatedData,additionalAuthenticatedDataCrc32c,plaintext,plaintextCrc32c`,
      `decrypt ${KEY} additionalAuthenticatedData,additionalAuthenticatedDataCrc32c,ciphertext,ciphertextCrc32c`,
    ]);
    const aad = contextAad(context).toString('base64');
    expect(fake.requests.map((r) => r.aad)).toEqual([aad, aad]);
    expect(events.map((e) => [e.operation, e.outcome, e.keyId, e.scope, e.version, e.detail?.attempts])).toEqual([
      ['keyring.wrap', 'success', 'k-1', 'tenant-a', 1, 1],
      ['keyring.unwrap', 'success', 'k-1', 'tenant-a', 1, 1],
    ]);
    expect(events[1].detail?.kmsKey).toBe(`${KEY}/cryptoKeyVersions/1`);
  });

  it('refuses a wrapped key presented with another context (INVALID_ARGUMENT, not retried)', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const other of [{ ...context, scope: 'tenant-b' }, { ...context, version: '2' }, { ...context, x: '' }, {}]) {
      fake.reset();
      const error = await keyringFailure(ring.unwrapKey(wrapped, other));
      expect(error).toMatchObject({ code: 'HUSHFIELD_KEYRING', retryable: false, operation: 'unwrap' });
      expect(error.message).toContain('INVALID_ARGUMENT');
      expect(fake.count('decrypt')).toBe(1);
    }
    expect(events.at(-1)).toMatchObject({
      operation: 'keyring.unwrap',
      outcome: 'failure',
      errorCode: 'HUSHFIELD_KEYRING',
      detail: { kmsErrorCode: 'INVALID_ARGUMENT', retryable: false },
    });
  });

  it('refuses wrapped keys swapped between scopes', async () => {
    const ring = keyring();
    const contextA = { ...context, keyId: 'k-a', scope: 'tenant-a' };
    const contextB = { ...context, keyId: 'k-b', scope: 'tenant-b' };
    const wrappedA = await ring.wrapKey(randomBytes(32), contextA);
    const wrappedB = await ring.wrapKey(randomBytes(32), contextB);
    expect(await keyringFailure(ring.unwrapKey(wrappedA, contextB))).toMatchObject({ retryable: false });
    expect(await keyringFailure(ring.unwrapKey(wrappedB, contextA))).toMatchObject({ retryable: false });
    await expect(ring.unwrapKey(wrappedA, contextA)).resolves.toHaveLength(32);
  });

  it('refuses a tampered ciphertext, and rejects a malformed frame before calling Cloud KMS', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const at of [wrapped.length - 1, wrapped.length - 20, wrapped.length - 40]) {
      const tampered = Buffer.from(wrapped);
      tampered[at] ^= 0x01;
      expect((await keyringFailure(ring.unwrapKey(tampered, context))).message).toContain('INVALID_ARGUMENT');
    }
    const calls = fake.requests.length;
    const malformed = [
      wrapped.subarray(0, wrapped.length - 1),
      Buffer.concat([wrapped, Buffer.of(0)]),
      Buffer.from('HFK\x01'),
      Buffer.alloc(0),
    ];
    for (const bytes of malformed) {
      expect((await keyringFailure(ring.unwrapKey(bytes, context))).message).toContain('malformed');
    }
    expect(fake.requests.length).toBe(calls);
  });

  it('refuses a key wrapped under another CryptoKey without calling Cloud KMS', async () => {
    const other = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/other';
    fake.createKey(other);
    const wrapped = await keyring({ keyName: other }).wrapKey(randomBytes(32), context);
    fake.reset();
    const error = await keyringFailure(keyring().unwrapKey(wrapped, context));
    expect(error.message).toContain('another CryptoKey');
    expect(fake.requests).toHaveLength(0);
  });

  it('records the primary version that encrypted; after rotation unwraps both; a disabled or destroyed version is FAILED_PRECONDITION', async () => {
    const rotating = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/rotating';
    fake.createKey(rotating);
    const ring = keyring({ keyName: rotating });
    const key1 = randomBytes(32);
    const v1 = await ring.wrapKey(key1, context);
    expect(fake.addVersion(rotating, { primary: true })).toBe(2);
    const key2 = randomBytes(32);
    const v2 = await ring.wrapKey(key2, context);
    expect(wrappedKeyVersion(v1)?.version).toBe(1);
    expect(wrappedKeyVersion(v2)).toEqual({ cryptoKeyVersion: `${rotating}/cryptoKeyVersions/2`, version: 2 });
    expect((await ring.unwrapKey(v1, context)).equals(key1)).toBe(true);
    expect((await ring.unwrapKey(v2, context)).equals(key2)).toBe(true);

    fake.setVersionState(rotating, 1, 'DISABLED');
    fake.reset();
    const disabled = await keyringFailure(ring.unwrapKey(v1, context));
    expect(disabled).toMatchObject({ retryable: false, operation: 'unwrap' });
    expect(disabled.message).toContain('FAILED_PRECONDITION');
    expect(disabled.message).toContain(`${rotating}/cryptoKeyVersions/1`);
    expect(fake.count('decrypt')).toBe(1);
    expect((await ring.unwrapKey(v2, context)).equals(key2)).toBe(true);

    fake.setVersionState(rotating, 1, 'ENABLED');
    expect((await ring.unwrapKey(v1, context)).equals(key1)).toBe(true);
    fake.setVersionState(rotating, 1, 'DESTROYED');
    expect((await keyringFailure(ring.unwrapKey(v1, context))).message).toContain('FAILED_PRECONDITION');

    // A disabled primary refuses new wraps the same way.
    fake.setVersionState(rotating, 2, 'DISABLED');
    expect(await keyringFailure(ring.wrapKey(key2, context))).toMatchObject({ operation: 'wrap', retryable: false });
  });

  it('a caller without useToDecrypt gets a final PERMISSION_DENIED; an unknown key likewise', async () => {
    const limited = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/encrypt-only';
    fake.createKey(limited);
    fake.revoke(limited, 'cloudkms.cryptoKeyVersions.useToDecrypt');
    const ring = keyring({ keyName: limited });
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    const denied = await keyringFailure(ring.unwrapKey(wrapped, context));
    expect(denied).toMatchObject({ retryable: false });
    expect(denied.message).toContain('PERMISSION_DENIED');
    expect(fake.count('decrypt')).toBe(1);

    const missing = keyring({ keyName: 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/absent' });
    expect((await keyringFailure(missing.wrapKey(randomBytes(32), context))).message).toContain('PERMISSION_DENIED');
  });

  describe('CRC32C integrity', () => {
    it('retries an encrypt whose ciphertext checksum does not match, or whose request checksums were not verified', async () => {
      const ring = keyring();
      const key = randomBytes(32);
      for (const corrupt of ['ciphertextCrc32c', 'unverifiedPlaintext', 'unverifiedAad'] as const) {
        fake.reset();
        fake.inject({ corrupt }, 1, 'encrypt');
        const wrapped = await ring.wrapKey(key, context);
        expect(fake.count('encrypt')).toBe(2);
        expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
      }
    });

    it('retries a decrypt whose plaintext arrived corrupted (or its checksum did), returning the right key', async () => {
      const ring = keyring();
      const key = randomBytes(32);
      const wrapped = await ring.wrapKey(key, context);
      for (const corrupt of ['plaintext', 'plaintextCrc32c'] as const) {
        fake.reset();
        fake.inject({ corrupt }, 1, 'decrypt');
        expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
        expect(fake.count('decrypt')).toBe(2);
      }
    });

    it('gives up with a retryable error when every answer is corrupted, and refuses a version of another key', async () => {
      const ring = keyring({ retry: { maxAttempts: 3, sleep: async () => undefined } });
      const wrapped = await ring.wrapKey(randomBytes(32), context);
      fake.inject({ corrupt: 'plaintext' }, 10, 'decrypt');
      const corrupted = await keyringFailure(ring.unwrapKey(wrapped, context));
      expect(corrupted).toMatchObject({ retryable: true });
      expect(corrupted.message).toContain('CRC32C');
      expect(corrupted.message).toContain('after 3 attempts');

      fake.reset();
      fake.inject({ corrupt: 'versionName' }, 1, 'encrypt');
      expect((await keyringFailure(ring.wrapKey(randomBytes(32), context))).message).toContain('names another key');
      expect(fake.count('encrypt')).toBe(1);
    });
  });

  it('checks its options', () => {
    for (const keyName of [
      '',
      'root',
      `${KEY}/cryptoKeyVersions/1`,
      `${KEY}/`,
      'projects/a b/locations/l/keyRings/r/cryptoKeys/k',
    ]) {
      expect(() => new GcpKmsKeyring({ keyName })).toThrow(InvalidArgumentError);
    }
    expect(() => fakeKeyring(fake, { timeoutMs: 0 })).toThrow('timeoutMs');
    expect(() => fakeKeyring(fake, { retry: { maxAttempts: 0 } })).toThrow('retry.maxAttempts');
    expect(() => fakeKeyring(fake, { audit: (() => undefined) as never })).toThrow('audit must be an AuditSink');
    expect(() => fakeKeyring(fake, { actor: 'ada' as never })).toThrow('actor must be a function');
  });

  it('puts no key material, plaintext or ciphertext in errors, audit events or inspect output', async () => {
    const ring = keyring({ retry: { maxAttempts: 2, sleep: async () => undefined } });
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 5] ^= 1;
    const errors = [await keyringFailure(ring.unwrapKey(tampered, { ...context, scope: 'x' }))];
    fake.inject({ status: 'UNAVAILABLE' }, 10);
    errors.push(
      await keyringFailure(ring.wrapKey(key, context)),
      await keyringFailure(ring.unwrapKey(wrapped, context)),
    );
    fake.reset();
    fake.inject({ corrupt: 'plaintext' }, 10);
    errors.push(await keyringFailure(ring.unwrapKey(wrapped, context)));
    fake.reset();
    fake.inject({ status: 'INVALID_ARGUMENT', message: `echo ${key.toString('base64')}` }, 1);
    errors.push(await keyringFailure(ring.wrapKey(key, context)));
    const ciphertext = wrapped.subarray(wrapped.length - 40);
    const visible = [
      ...errors.map((e) => `${e.message} ${inspect(e, { showHidden: true, depth: 5 })} ${JSON.stringify(e)}`),
      JSON.stringify(events),
      inspect(ring, { showHidden: true }),
      JSON.stringify(ring),
    ].join('\n');
    for (const secret of [key.toString('base64'), key.toString('hex'), ciphertext.toString('base64').slice(4, 40)]) {
      expect(visible).not.toContain(secret);
    }
    expect(errors.every((e) => e.cause === undefined)).toBe(true);
  });
});
