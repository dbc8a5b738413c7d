/**
 * GcpKmsKeyring over the client's default transport, gRPC, against the Cloud KMS fake served by
 * @grpc/grpc-js (grpc-front.ts): round trip with the context as AAD and CRC32C, wrong context,
 * disabled version, permission, retried outages and corrupted answers, and a hang bounded by the
 * timeout, which the gRPC deadline also cancels on the server's side.
 */
import { randomBytes } from 'node:crypto';
import { PassThroughClient } from 'google-auth-library';
import { GcpKmsKeyring, wrappedKeyVersion, type GcpKmsKeyringOptions } from '@hushfield/kms-gcp';
import { KEY, KeyringPool, keyringFailure } from './client';
import { startGrpcFront, type GrpcFront } from './grpc-front';
import { startCloudKmsFake, type CloudKmsFake } from './server';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-9', scope: 'tenant-g', version: '1' };

describe('GcpKmsKeyring over gRPC', () => {
  let fake: CloudKmsFake;
  let front: GrpcFront;
  const pool = new KeyringPool();

  const keyring = (options: Partial<GcpKmsKeyringOptions> = {}) => {
    const ring = new GcpKmsKeyring({
      keyName: KEY,
      clientOptions: {
        apiEndpoint: '127.0.0.1',
        port: front.port,
        sslCreds: front.credentials,
        authClient: new PassThroughClient(),
      },
      retry: { sleep: async () => undefined },
      ...options,
    });
    return pool.add(ring);
  };

  beforeAll(async () => {
    fake = await startCloudKmsFake();
    fake.createKey(KEY);
    front = await startGrpcFront(fake);
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await pool.close();
    await front.stop();
    await fake.stop();
  });

  it('round-trips with the context as AAD and every CRC32C field, and refuses another context', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    expect(wrappedKeyVersion(wrapped)?.version).toBe(1);
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(fake.requests.map((r) => r.fields.join(','))).toEqual([
      'additionalAuthenticatedData,additionalAuthenticatedDataCrc32c,plaintext,plaintextCrc32c',
      'additionalAuthenticatedData,additionalAuthenticatedDataCrc32c,ciphertext,ciphertextCrc32c',
    ]);
    const refused = await keyringFailure(ring.unwrapKey(wrapped, { ...context, scope: 'tenant-h' }));
    expect(refused).toMatchObject({ retryable: false });
    expect(refused.message).toContain('INVALID_ARGUMENT');
  });

  it('maps gRPC status codes: FAILED_PRECONDITION and PERMISSION_DENIED are final, UNAVAILABLE is retried', async () => {
    const key = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/grpc-states';
    fake.createKey(key);
    const ring = keyring({ keyName: key });
    const secret = randomBytes(32);
    const wrapped = await ring.wrapKey(secret, context);
    fake.setVersionState(key, 1, 'DISABLED');
    expect((await keyringFailure(ring.unwrapKey(wrapped, context))).message).toContain('FAILED_PRECONDITION');
    fake.setVersionState(key, 1, 'ENABLED');
    fake.revoke(key, 'cloudkms.cryptoKeyVersions.useToDecrypt');
    fake.reset();
    expect((await keyringFailure(ring.unwrapKey(wrapped, context))).message).toContain('PERMISSION_DENIED');
    expect(fake.count('decrypt')).toBe(1);

    fake.reset();
    fake.inject({ status: 'UNAVAILABLE' }, 2, 'encrypt');
    fake.inject({ corrupt: 'ciphertextCrc32c' }, 1, 'encrypt');
    await expect(keyring().wrapKey(secret, context)).resolves.toBeInstanceOf(Buffer);
    expect(fake.count('encrypt')).toBe(4);
  });

  it('bounds a hang by timeoutMs; the deadline cancels the call on the server', async () => {
    const ring = keyring({ timeoutMs: 200, retry: { maxAttempts: 2, sleep: async () => undefined } });
    fake.inject({ hangMs: 3_000 }, 10, 'encrypt');
    const cancelledBefore = front.cancelled();
    const started = performance.now();
    const error = await keyringFailure(ring.wrapKey(randomBytes(32), context));
    expect(performance.now() - started).toBeLessThan(2 * 200 + 1_000);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toMatch(/no answer within 200 ms|DEADLINE_EXCEEDED/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(front.cancelled() - cancelledBefore).toBe(2);
  });
});
