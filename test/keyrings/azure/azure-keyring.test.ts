/**
 * AzureKeyVaultKeyring through the official @azure/keyvault-keys SDK against the loopback Key
 * Vault fake (server.ts): round trips with A256KW (Managed HSM oct-HSM key) and RSA-OAEP-256
 * (Key Vault RSA key), context binding, swapped and tampered wrapped keys, key versions and
 * rotation, least-privilege permissions, the challenge check, and what reaches messages.
 */
import { constants, createHash, publicEncrypt, randomBytes, type JsonWebKey } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { inspect } from 'node:util';
import { encodeEncryptionContext, type AuditEvent } from '@hushfield/core';
import { AzureKeyVaultKeyring, CONTEXT_DOMAIN, type AzureKeyVaultKeyringOptions } from '@hushfield/kms-azure';
import { azureFailure as failure } from './support';
import { startAzureFake, type AzureFake, type FakePermission } from './server';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '1' };

describe.each([
  { kind: 'managedhsm', algorithm: 'A256KW', type: 'oct-HSM', ciphertextBytes: 80 },
  { kind: 'vault', algorithm: 'RSA-OAEP-256', type: 'RSA', ciphertextBytes: 256 },
] as const)('AzureKeyVaultKeyring with $algorithm ($type key)', ({ kind, algorithm, type, ciphertextBytes }) => {
  let fake: AzureFake;
  let events: AuditEvent[];
  let version1: string;

  const keyring = (options: Partial<AzureKeyVaultKeyringOptions> & { permissions?: FakePermission[] } = {}) =>
    new AzureKeyVaultKeyring(
      fake.keyringOptions({
        audit: { emit: (event) => void events.push(event) },
        retry: { maxAttempts: 2, sleep: async () => undefined },
        ...options,
      }),
    );

  beforeAll(async () => {
    fake = await startAzureFake({ kind });
    version1 = fake.createKey('hushfield', type);
  });
  beforeEach(() => {
    fake.reset();
    events = [];
  });
  afterAll(() => fake.stop());

  it('round-trips a 256-bit key through wrapkey/unwrapkey, recording the key version Key Vault used', async () => {
    const ring = keyring();
    expect(ring.id).toBe(`azure-kv:${new URL(fake.vaultUrl).host}/hushfield`);
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    // "HFZ" 0x01, the algorithm, the key name and the version, then Key Vault's ciphertext.
    expect(wrapped.subarray(0, 4).toString('latin1')).toBe('HFZ\x01');
    expect(wrapped.includes(Buffer.concat([Buffer.from('hushfield'), Buffer.of(32), Buffer.from(version1)]))).toBe(
      true,
    );
    expect(wrapped.length).toBe(4 + 2 + 'hushfield'.length + 1 + 32 + ciphertextBytes);
    expect(wrapped.includes(key)).toBe(false);
    expect((await ring.unwrapKey(wrapped, { ...context })).equals(key)).toBe(true);

    const calls = fake.requests.filter((r) => r.hadToken && r.method === 'POST');
    expect(calls.map((r) => [r.path, r.alg, r.status])).toEqual([
      ['/keys/hushfield//wrapkey', algorithm, 200], // the latest version
      [`/keys/hushfield/${version1}/unwrapkey`, algorithm, 200], // the recorded one
    ]);
    // The SDK's key lookup is refused (no `get` permission) and it falls back to the service.
    expect(fake.requests.filter((r) => r.method === 'GET' && r.hadToken).map((r) => r.status)).toEqual([403, 403]);
    expect(events.map((e) => [e.operation, e.outcome, e.scope, e.version, e.detail?.attempts])).toEqual([
      ['keyring.wrap', 'success', 'tenant-a', 1, 1],
      ['keyring.unwrap', 'success', 'tenant-a', 1, 1],
    ]);
    expect(events[1].detail).toMatchObject({ kmsOperation: 'unwrapKey', kmsKey: `hushfield/${version1}` });
  });

  it('works the same with the Key Vault Crypto User role (get allowed: the SDK reads the key first)', async () => {
    const ring = keyring({ permissions: ['get', 'wrapKey', 'unwrapKey'] });
    const key = randomBytes(32);
    expect((await ring.unwrapKey(await ring.wrapKey(key, context), context)).equals(key)).toBe(true);
    expect(fake.requests.filter((r) => r.method === 'GET' && r.hadToken).map((r) => r.status)).toEqual([200, 200]);
  });

  it('refuses a wrapped key presented with another encryption context, as a final ContextMismatch', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const other of [
      { ...context, scope: 'tenant-b' },
      { ...context, version: '2' },
      { ...context, purpose: 'hushfield/index-key' },
      { ...context, extra: '' },
      {},
    ]) {
      const error = await failure(ring.unwrapKey(wrapped, other));
      expect(error).toMatchObject({ azureCode: 'ContextMismatch', retryable: false, operation: 'unwrap' });
      expect(error.message).toContain('bound to another encryption context');
    }
    // Refused after Key Vault unwrapped (the binding is ours), once each: never retried.
    expect(fake.count('/unwrapkey')).toBe(5);
    expect(events.at(-1)).toMatchObject({
      operation: 'keyring.unwrap',
      outcome: 'failure',
      errorCode: 'HUSHFIELD_KEYRING',
      detail: { kmsErrorCode: 'ContextMismatch', retryable: false },
    });
  });

  it('refuses wrapped keys swapped between scopes and between key versions', async () => {
    const ring = keyring();
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const a = await ring.wrapKey(keyA, { ...context, scope: 'tenant-a' });
    const b = await ring.wrapKey(keyB, { ...context, scope: 'tenant-b' });
    const a2 = await ring.wrapKey(keyA, { ...context, scope: 'tenant-a', version: '2' });
    expect((await failure(ring.unwrapKey(a, { ...context, scope: 'tenant-b' }))).azureCode).toBe('ContextMismatch');
    expect((await failure(ring.unwrapKey(b, { ...context, scope: 'tenant-a' }))).azureCode).toBe('ContextMismatch');
    expect((await failure(ring.unwrapKey(a2, { ...context, scope: 'tenant-a' }))).azureCode).toBe('ContextMismatch');
    expect((await ring.unwrapKey(b, { ...context, scope: 'tenant-b' })).equals(keyB)).toBe(true);
  });

  it("refuses a tampered ciphertext (Key Vault's own check), and a malformed frame before any call", async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const at of [wrapped.length - 1, wrapped.length - ciphertextBytes, wrapped.length - 40]) {
      const tampered = Buffer.from(wrapped);
      tampered[at] ^= 0x01;
      expect(await failure(ring.unwrapKey(tampered, context))).toMatchObject({
        azureCode: 'BadParameter',
        retryable: false,
      });
    }
    fake.reset();
    const frames = [
      wrapped.subarray(0, wrapped.length - 1), // truncated
      Buffer.concat([wrapped, Buffer.of(0)]), // trailing byte
      Buffer.concat([Buffer.from('HFZ\x02'), wrapped.subarray(4)]), // unknown format version
      Buffer.alloc(0),
    ];
    for (const frame of frames) {
      expect(await failure(ring.unwrapKey(frame, context))).toMatchObject({ azureCode: 'MalformedWrappedKey' });
    }
    // The version field may not smuggle a path into the request URL.
    const at = 4 + 2 + 'hushfield'.length + 1;
    const smuggled = Buffer.from(wrapped);
    smuggled.write('../../x', at, 'latin1');
    expect(await failure(ring.unwrapKey(smuggled, context))).toMatchObject({ azureCode: 'MalformedWrappedKey' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a key wrapped by another Key Vault key, or with another algorithm, without calling Key Vault', async () => {
    fake.createKey('second', type);
    const wrapped = await keyring({ keyName: 'second' }).wrapKey(randomBytes(32), context);
    fake.reset();
    expect(await failure(keyring().unwrapKey(wrapped, context))).toMatchObject({ azureCode: 'WrongKey' });
    const other = algorithm === 'A256KW' ? 'RSA-OAEP-256' : 'A256KW';
    expect(await failure(keyring({ keyName: 'second', algorithm: other }).unwrapKey(wrapped, context))).toMatchObject({
      azureCode: 'AlgorithmMismatch',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('wraps under the latest version after a rotation, unwraps each key with its own, and pins on request', async () => {
    fake.createKey('rotating', type);
    const ring = keyring({ keyName: 'rotating' });
    const key = randomBytes(32);
    const [v1] = fake.versions('rotating');
    const old = await ring.wrapKey(key, context);
    const v2 = fake.rotateKey('rotating');
    // A new keyring (as after a restart) and the same one both follow the rotation.
    const fresh = await keyring({ keyName: 'rotating' }).wrapKey(key, context);
    expect(fresh.includes(Buffer.from(v2))).toBe(true);
    expect((await ring.wrapKey(key, context)).includes(Buffer.from(v2))).toBe(true);
    expect(old.includes(Buffer.from(v1))).toBe(true);
    expect((await ring.unwrapKey(old, context)).equals(key)).toBe(true);
    expect((await ring.unwrapKey(fresh, context)).equals(key)).toBe(true);
    expect(fake.requests.filter((r) => r.path.endsWith('/unwrapkey') && r.status === 200).map((r) => r.path)).toEqual([
      `/keys/rotating/${v1}/unwrapkey`,
      `/keys/rotating/${v2}/unwrapkey`,
    ]);

    const pinned = await keyring({ keyName: 'rotating', keyVersion: v1 }).wrapKey(key, context);
    expect(pinned.includes(Buffer.from(v1))).toBe(true);
    expect(fake.requests.filter((r) => r.path.endsWith('/wrapkey')).at(-1)?.path).toBe(`/keys/rotating/${v1}/wrapkey`);

    // Disabling the old version makes its keys a final KeyDisabled, and leaves the new ones alone.
    fake.setEnabled('rotating', v1, false);
    expect(await failure(ring.unwrapKey(old, context))).toMatchObject({ azureCode: 'KeyDisabled', retryable: false });
    expect((await ring.unwrapKey(fresh, context)).equals(key)).toBe(true);
    fake.setEnabled('rotating', v1, true);
  });

  it('an expired key version is a final KeyNotUsable (the SDK checks it); after a rotation the same keyring wraps again', async () => {
    fake.createKey('expiring', type);
    const [v1] = fake.versions('expiring');
    fake.setExpires('expiring', v1, Math.floor(Date.now() / 1000) - 60);
    const ring = keyring({ keyName: 'expiring', permissions: ['get', 'wrapKey', 'unwrapKey'] });
    expect(await failure(ring.wrapKey(randomBytes(32), context))).toMatchObject({
      azureCode: 'KeyNotUsable',
      retryable: false,
    });
    expect(fake.count('/wrapkey')).toBe(0);
    const v2 = fake.rotateKey('expiring');
    expect((await ring.wrapKey(randomBytes(32), context)).includes(Buffer.from(v2))).toBe(true);
  });

  it('an identity without the permission gets a final Forbidden; a missing key a final KeyNotFound', async () => {
    const readOnly = keyring({ permissions: ['unwrapKey'] });
    expect(await failure(readOnly.wrapKey(randomBytes(32), context))).toMatchObject({
      azureCode: 'Forbidden',
      retryable: false,
      operation: 'wrap',
    });
    expect(fake.count('/wrapkey')).toBe(1);
    expect(await failure(keyring({ keyName: 'absent' }).wrapKey(randomBytes(32), context))).toMatchObject({
      azureCode: 'KeyNotFound',
    });
  });

  it('puts no key material, blob, ciphertext or token in errors, audit events, inspect or JSON', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 3] ^= 1;
    const errors = [
      await failure(ring.unwrapKey(wrapped, { ...context, scope: 'x' })),
      await failure(ring.unwrapKey(tampered, context)),
      await failure(keyring({ keyName: 'absent' }).wrapKey(key, context)),
      await failure(keyring({ permissions: [] }).unwrapKey(wrapped, context)),
    ];
    fake.inject({ status: 503 }, 10);
    errors.push(await failure(ring.unwrapKey(wrapped, context)));
    const ciphertext = wrapped.subarray(wrapped.length - ciphertextBytes);
    const visible = [
      ...errors.map((e) => `${e.message} ${inspect(e, { depth: 5 })} ${JSON.stringify(e)}`),
      JSON.stringify(events),
      inspect(ring, { showHidden: true }),
      JSON.stringify(ring),
    ].join('\n');
    const secrets = [key, ciphertext, ciphertext.subarray(0, 24)];
    for (const secret of secrets) {
      for (const encoding of ['base64', 'base64url', 'hex'] as const)
        expect(visible).not.toContain(secret.toString(encoding));
    }
    expect(visible).not.toContain('fake-'); // access tokens
    expect(errors.every((e) => e.cause === undefined)).toBe(true);
  });
});

describe('what the context binding guarantees, per algorithm', () => {
  let vault: AzureFake;
  let hsm: AzureFake;
  const context2 = { ...context, scope: 'tenant-z' };

  beforeAll(async () => {
    [vault, hsm] = await Promise.all([startAzureFake({ kind: 'vault' }), startAzureFake({ kind: 'managedhsm' })]);
    vault.createKey('hushfield', 'RSA');
    hsm.createKey('hushfield', 'oct-HSM');
  });
  afterAll(() => Promise.all([vault.stop(), hsm.stop()]));

  /** The blob format of key-blob.ts, built by someone who is not the keyring. */
  const forgedBlob = (key: Buffer, ctx: typeof context) =>
    Buffer.concat([
      Buffer.from('HFAZ\x01\x00\x00\x00', 'latin1'),
      createHash('sha256').update(encodeEncryptionContext(CONTEXT_DOMAIN, ctx)).digest(),
      key,
    ]);

  it('RSA-OAEP-256: anyone with the public key can make a wrapped key that unwraps (documented limitation)', async () => {
    const ring = new AzureKeyVaultKeyring(vault.keyringOptions());
    const genuine = await ring.wrapKey(randomBytes(32), context2);
    // An attacker with write access to the key store and the public key (readable with `get`):
    const reader = vault.credential(['get']);
    const token = (await reader.getToken(`${vault.resource}/.default`))!.token;
    const [version] = vault.versions('hushfield');
    const response = await new Promise<string>((resolve, reject) => {
      const request = httpsRequest(
        `${vault.vaultUrl}/keys/hushfield/${version}?api-version=7.5`,
        { agent: vault.agent(), headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end();
    });
    const jwk = (JSON.parse(response) as { key: JsonWebKey }).key;
    const attackerKey = Buffer.alloc(32, 7);
    const forgedCiphertext = publicEncrypt(
      {
        key: { kty: 'RSA', n: jwk.n, e: jwk.e } as JsonWebKey,
        format: 'jwk',
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
      },
      forgedBlob(attackerKey, context2),
    );
    const forged = Buffer.concat([genuine.subarray(0, genuine.length - 256), forgedCiphertext]);
    // The keyring cannot tell: confidentiality of keys wrapped later is lost to that attacker.
    expect((await ring.unwrapKey(forged, context2)).equals(attackerKey)).toBe(true);
  });

  it('A256KW: without wrap permission on the HSM key no one can make a wrapped key that unwraps', async () => {
    const ring = new AzureKeyVaultKeyring(hsm.keyringOptions({ retry: { maxAttempts: 1 } }));
    const genuine = await ring.wrapKey(randomBytes(32), context2);
    // The same forgery under any key but the HSM's fails AES key wrap's integrity check.
    const { createCipheriv } = await import('node:crypto');
    const cipher = createCipheriv('id-aes256-wrap', randomBytes(32), Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    const forgedCiphertext = Buffer.concat([cipher.update(forgedBlob(Buffer.alloc(32, 7), context2)), cipher.final()]);
    const forged = Buffer.concat([genuine.subarray(0, genuine.length - 80), forgedCiphertext]);
    expect(await failure(ring.unwrapKey(forged, context2))).toMatchObject({ azureCode: 'BadParameter' });
  });
});

describe('AzureKeyVaultKeyring configuration and the authentication challenge', () => {
  let fake: AzureFake;
  beforeAll(async () => {
    fake = await startAzureFake();
    fake.createKey('hushfield', 'RSA');
  });
  afterAll(() => fake.stop());

  const base = (): AzureKeyVaultKeyringOptions => fake.keyringOptions({ retry: { maxAttempts: 1 } });

  it.each([
    [{ vaultUrl: 'http://hushfield.vault.localhost' }, 'vaultUrl'],
    [{ vaultUrl: 'https://hushfield.vault.localhost/keys/x' }, 'vaultUrl'],
    [{ vaultUrl: 'https://user:pw@hushfield.vault.localhost' }, 'vaultUrl'],
    [{ keyName: 'a/b' }, 'keyName'],
    [{ keyName: '' }, 'keyName'],
    [{ algorithm: 'RSA1_5' }, 'algorithm'],
    [{ algorithm: 'RSA-OAEP' }, 'algorithm'],
    [{ keyVersion: '../x' }, 'keyVersion'],
    [{ credential: {} }, 'credential'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ audit: () => undefined }, 'audit'], // a sink without emit() would lose every event
    [{ actor: 'ada' }, 'actor'],
  ])('refuses %j (naming %s)', (override, argument) => {
    expect(() => new AzureKeyVaultKeyring({ ...base(), ...(override as object) })).toThrow(
      expect.objectContaining({ argument }),
    );
  });

  it('refuses plaintext keys that are not 32 bytes, and contexts that are not objects of strings', async () => {
    const ring = new AzureKeyVaultKeyring(base());
    await expect(ring.wrapKey(randomBytes(16), context)).rejects.toMatchObject({ argument: 'plaintextKey' });
    await expect(ring.wrapKey(randomBytes(32), { scope: 1 } as never)).rejects.toMatchObject({
      argument: 'context.scope',
    });
  });

  it('sends no token to a vault whose challenge names another resource (the SDK check stays on)', async () => {
    const credential = fake.credential();
    // The vault is reached as hushfield.vault.localhost; a challenge for vault.azure.net does not match it.
    const other = await startAzureFake({ resource: 'https://vault.azure.net' });
    try {
      other.createKey('hushfield', 'RSA');
      const ring = new AzureKeyVaultKeyring({
        ...base(),
        vaultUrl: other.vaultUrl,
        credential,
        clientOptions: { agent: other.agent() },
      });
      expect(await failure(ring.wrapKey(randomBytes(32), context))).toMatchObject({
        azureCode: 'ChallengeRejected',
        retryable: false,
      });
      expect(credential.calls).toEqual([]);
      expect(other.requests.every((r) => !r.hadToken)).toBe(true);
    } finally {
      await other.stop();
    }
  });

  it('a credential that cannot get a token is a final CredentialFailed', async () => {
    const ring = new AzureKeyVaultKeyring({
      ...base(),
      credential: {
        getToken: async () => {
          throw Object.assign(new Error('no identity endpoint'), { name: 'CredentialUnavailableError' });
        },
      },
    });
    expect(await failure(ring.wrapKey(randomBytes(32), context))).toMatchObject({ azureCode: 'CredentialFailed' });
  });
});
