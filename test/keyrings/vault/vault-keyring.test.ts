/**
 * VaultTransitKeyring against the loopback Transit server (server.ts): round trips, context
 * binding, tampering, key versions and rotation, namespaces, least-privilege tokens.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyringError, type AuditEvent } from '@hushfield/core';
import {
  VaultKeyringError,
  VaultTransitKeyring,
  contextParameter,
  type VaultTransitKeyringOptions,
} from '@hushfield/kms-vault';
import { encodeWrappedKey } from '../../../packages/kms-vault/src/wrapped-key-format';
import { startVaultServer, type VaultServer } from './server';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '1' };
const leastPrivilege = (key: string, mount = 'transit') => [`${mount}/encrypt/${key}`, `${mount}/decrypt/${key}`];

describe('VaultTransitKeyring against a Transit server', () => {
  let vault: VaultServer;
  let events: AuditEvent[];

  const keyring = (options: Partial<VaultTransitKeyringOptions> = {}) =>
    new VaultTransitKeyring({
      address: vault.address,
      keyName: 'hushfield',
      auth: { token: vault.createToken(leastPrivilege('hushfield')) },
      audit: { emit: (event) => void events.push(event) },
      retry: { sleep: async () => undefined },
      ...options,
    });

  const failure = async (promise: Promise<unknown>): Promise<VaultKeyringError> => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VaultKeyringError);
    expect(error).toBeInstanceOf(KeyringError);
    return error as VaultKeyringError;
  };

  beforeAll(async () => {
    vault = await startVaultServer();
    vault.createKey('hushfield', { derived: true });
  });
  beforeEach(() => {
    vault.reset();
    events = [];
  });
  afterAll(() => vault.stop());

  it('round-trips a 256-bit key with a least-privilege token, sending the context as the derivation context', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    expect(wrapped.subarray(0, 4).toString('latin1')).toBe('HFV\x01');
    expect(wrapped.includes(key)).toBe(false);
    expect((await ring.unwrapKey(wrapped, { ...context })).equals(key)).toBe(true);
    expect(vault.contexts).toEqual([contextParameter(context), contextParameter(context)]);
    expect(vault.requests.map((r) => `${r.method} ${r.path} ${r.bodyFields.join(',')}`)).toEqual([
      'POST transit/encrypt/hushfield plaintext', // the first use's check that the key is derived
      'POST transit/encrypt/hushfield context,plaintext',
      'POST transit/decrypt/hushfield ciphertext,context',
    ]);
    expect(events.map((e) => [e.operation, e.outcome, e.scope, e.version, e.detail?.attempts])).toEqual([
      ['keyring.wrap', 'success', 'tenant-a', 1, 1],
      ['keyring.unwrap', 'success', 'tenant-a', 1, 1],
    ]);
  });

  it('refuses a wrapped key presented with another context', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    for (const other of [{ ...context, scope: 'tenant-b' }, { ...context, version: '2' }, {}]) {
      const error = await failure(ring.unwrapKey(wrapped, other));
      expect(error).toMatchObject({
        vaultCode: 'InvalidCiphertext',
        retryable: false,
        operation: 'unwrap',
        httpStatus: 400,
      });
    }
    expect(events.at(-1)).toMatchObject({
      operation: 'keyring.unwrap',
      outcome: 'failure',
      errorCode: 'HUSHFIELD_KEYRING',
    });
  });

  it('refuses a tampered ciphertext, and rejects a truncated frame before calling Vault', async () => {
    const ring = keyring();
    const wrapped = await ring.wrapKey(randomBytes(32), context);
    const tampered = Buffer.from(wrapped);
    const at = tampered.length - 10; // inside the base64 body
    tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
    expect(await failure(ring.unwrapKey(tampered, context))).toMatchObject({ vaultCode: 'InvalidCiphertext' });
    const calls = vault.requests.length;
    expect(await failure(ring.unwrapKey(wrapped.subarray(0, wrapped.length - 1), context))).toMatchObject({
      vaultCode: 'MalformedWrappedKey',
    });
    expect(vault.requests.length).toBe(calls);
  });

  it('binds the context as associated data when configured for an AEAD (non-derived) key', async () => {
    vault.createKey('aead-key');
    const ring = keyring({
      keyName: 'aead-key',
      contextBinding: 'associated-data',
      auth: { token: vault.createToken(leastPrivilege('aead-key')) },
    });
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    expect(vault.requests[0].bodyFields).toEqual(['associated_data', 'plaintext']);
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(await failure(ring.unwrapKey(wrapped, { ...context, keyId: 'k-2' }))).toMatchObject({
      vaultCode: 'InvalidCiphertext',
    });
  });

  it('refuses on first use a key that is not derived when binding by derivation, which would bind nothing', async () => {
    vault.createKey('not-derived');
    const ring = keyring({ keyName: 'not-derived', auth: { token: vault.createToken(leastPrivilege('not-derived')) } });
    const wrapError = await failure(ring.wrapKey(randomBytes(32), context));
    expect(wrapError).toMatchObject({ vaultCode: 'KeyNotDerived', retryable: false, operation: 'wrap' });
    expect(wrapError.message).toBe(
      'keyring vault-transit:transit/not-derived: Transit key "not-derived" is not derived, so Vault would ignore the ' +
        "context and bind nothing; create the key with derived=true, or set contextBinding: 'associated-data' for an AEAD key " +
        '(keys wrapped under it before: unwrapUnboundKeys: true, then keys rewrap --to-keyring)',
    );
    // No wrapped key under that key went out: the check came first, and is kept (a key's derivation never changes).
    const encrypts = vault.requests.filter((r) => r.path.includes('/encrypt/')).length;
    await failure(ring.wrapKey(randomBytes(32), context));
    expect(vault.requests.filter((r) => r.path.includes('/encrypt/')).length).toBe(encrypts);

    // A reader (decrypt only) of a key wrapped under it some other way is refused too, and gets no key.
    const aead = keyring({
      keyName: 'not-derived',
      contextBinding: 'associated-data',
      auth: { token: vault.rootToken },
    });
    const wrapped = await aead.wrapKey(randomBytes(32), context);
    const reader = keyring({
      keyName: 'not-derived',
      auth: { token: vault.createToken(['transit/decrypt/not-derived']) },
    });
    expect(await failure(reader.unwrapKey(wrapped, context))).toMatchObject({
      vaultCode: 'KeyNotDerived',
      operation: 'unwrap',
    });
  });

  it('with unwrapUnboundKeys, opens keys wrapped unbound by earlier releases so they can be moved; still wraps none', async () => {
    vault.createKey('legacy');
    // What a release before the first-use check sent: the context, which a non-derived key ignores.
    const key = randomBytes(32);
    const answer = await fetch(`${vault.address}/v1/transit/encrypt/legacy`, {
      method: 'POST',
      headers: { 'X-Vault-Token': vault.rootToken },
      body: JSON.stringify({ plaintext: key.toString('base64'), context: contextParameter(context) }),
    });
    const { data } = (await answer.json()) as { data: { ciphertext: string } };
    const wrapped = encodeWrappedKey('legacy', data.ciphertext);
    const token = vault.createToken(leastPrivilege('legacy'));

    const strict = keyring({ keyName: 'legacy', auth: { token } });
    expect(await failure(strict.unwrapKey(wrapped, context))).toMatchObject({ vaultCode: 'KeyNotDerived' });

    const mover = keyring({ keyName: 'legacy', auth: { token }, unwrapUnboundKeys: true });
    expect((await mover.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(await failure(mover.wrapKey(randomBytes(32), context))).toMatchObject({
      vaultCode: 'KeyNotDerived',
      operation: 'wrap',
    });
    expect(() => keyring({ unwrapUnboundKeys: 'yes' as unknown as boolean })).toThrow(
      'unwrapUnboundKeys must be a boolean',
    );
  });

  it('checks derivation once per keyring, and a derived key passes', async () => {
    const ring = keyring();
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    await ring.wrapKey(key, context);
    // The probe without a context (refused by the derived key), then the three calls.
    expect(vault.requests.map((r) => r.bodyFields)).toEqual([
      ['plaintext'],
      ['context', 'plaintext'],
      ['ciphertext', 'context'],
      ['context', 'plaintext'],
    ]);
    expect(events.map((e) => [e.operation, e.outcome])).toEqual([
      ['keyring.wrap', 'success'],
      ['keyring.unwrap', 'success'],
      ['keyring.wrap', 'success'],
    ]);
  });

  it('reports (through describeKey) a key that is not derived, which would ignore the context', async () => {
    vault.createKey('plain-key');
    const root = keyring({ keyName: 'plain-key', auth: { token: vault.rootToken } });
    expect(await root.describeKey()).toMatchObject({
      name: 'plain-key',
      derived: false,
      latestVersion: 1,
      minDecryptionVersion: 1,
    });
    expect(
      await keyring()
        .describeKey()
        .then(
          () => null,
          (e: VaultKeyringError) => e.vaultCode,
        ),
    ).toBe('PermissionDenied');
  });

  it('a token whose policy lacks the key gets a final PermissionDenied, never a retry', async () => {
    vault.createKey('other', { derived: true });
    const ring = keyring({ keyName: 'other' });
    const error = await failure(ring.wrapKey(randomBytes(32), context));
    expect(error).toMatchObject({ vaultCode: 'PermissionDenied', retryable: false, httpStatus: 403 });
    expect(vault.count('encrypt/other')).toBe(1);
  });

  it('pins the key version on encrypt, and unwraps every version still allowed after rotation', async () => {
    vault.createKey('rotating', { derived: true });
    const token = vault.createToken(leastPrivilege('rotating'));
    const v1 = await keyring({ keyName: 'rotating', auth: { token } }).wrapKey(randomBytes(32), context);
    vault.rotateKey('rotating');
    vault.rotateKey('rotating');
    const latest = keyring({ keyName: 'rotating', auth: { token } });
    const pinned = keyring({ keyName: 'rotating', auth: { token }, keyVersion: 2 });
    const key = randomBytes(32);
    const v2 = await pinned.wrapKey(key, context);
    const v3 = await latest.wrapKey(key, context);
    expect(
      vault.requests
        .filter((r) => r.path.includes('encrypt') && r.bodyFields.includes('context'))
        .map((r) => r.bodyFields.includes('key_version')),
    ).toEqual([false, true, false]);
    expect(v2.toString('latin1')).toContain('vault:v2:');
    expect(v3.toString('latin1')).toContain('vault:v3:');
    expect((await latest.unwrapKey(v2, context)).equals(key)).toBe(true);
    await expect(latest.unwrapKey(v1, context)).resolves.toHaveLength(32);

    // Retiring version 1 (min_decryption_version = 2) makes v1 keys a typed, final error.
    vault.configureKey('rotating', { minDecryptionVersion: 2 });
    expect(await failure(latest.unwrapKey(v1, context))).toMatchObject({
      vaultCode: 'KeyVersionRetired',
      retryable: false,
    });
    expect((await latest.unwrapKey(v2, context)).equals(key)).toBe(true);

    // A pin above the latest version, or below min_encryption_version, is refused by Vault.
    expect(
      await failure(keyring({ keyName: 'rotating', auth: { token }, keyVersion: 9 }).wrapKey(key, context)),
    ).toMatchObject({ vaultCode: 'KeyVersionInvalid', operation: 'wrap' });
    vault.configureKey('rotating', { minEncryptionVersion: 3 });
    expect(await failure(pinned.wrapKey(key, context))).toMatchObject({ vaultCode: 'KeyVersionInvalid' });
  });

  it('sends X-Vault-Namespace on every request and finds the key in that namespace only', async () => {
    vault.createKey('hushfield', { derived: true, namespace: 'team-a' });
    const token = vault.createToken(leastPrivilege('hushfield'), { namespace: 'team-a' });
    const ring = keyring({ namespace: 'team-a', auth: { token } });
    expect(ring.id).toBe('vault-transit:team-a/transit/hushfield');
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    expect((await ring.unwrapKey(wrapped, context)).equals(key)).toBe(true);
    expect(vault.requests.map((r) => r.namespace)).toEqual(['team-a', 'team-a', 'team-a']);
    // The same Transit key name in the root namespace is another key: the namespace's token is refused there.
    expect(await failure(keyring({ auth: { token } }).unwrapKey(wrapped, context))).toMatchObject({
      vaultCode: 'PermissionDenied',
    });
  });

  it('refuses a key wrapped by another Transit key name without calling Vault', async () => {
    vault.createKey('second', { derived: true });
    const wrapped = await keyring({
      keyName: 'second',
      auth: { token: vault.createToken(leastPrivilege('second')) },
    }).wrapKey(randomBytes(32), context);
    vault.reset();
    expect(await failure(keyring().unwrapKey(wrapped, context))).toMatchObject({ vaultCode: 'WrongKey' });
    expect(vault.requests).toHaveLength(0);
  });

  it('puts no key material, plaintext, ciphertext or token in errors, audit events or inspect output', async () => {
    const token = vault.createToken(leastPrivilege('hushfield'));
    const ring = keyring({ auth: { token } });
    const key = randomBytes(32);
    const wrapped = await ring.wrapKey(key, context);
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 5] ^= 1;
    const errors = [
      await failure(ring.unwrapKey(tampered, { ...context, scope: 'x' })),
      await failure(keyring({ keyName: 'absent' }).wrapKey(key, context)),
    ];
    vault.sealed = true;
    errors.push(await failure(ring.unwrapKey(wrapped, context)));
    const ciphertext = wrapped.toString('latin1').slice(wrapped.toString('latin1').indexOf('vault:'));
    const visible = [
      ...errors.map((e) => `${e.message} ${inspect(e)} ${JSON.stringify(e)}`),
      JSON.stringify(events),
      inspect(ring, { showHidden: true }),
    ].join('\n');
    for (const secret of [key.toString('base64'), key.toString('hex'), ciphertext, ciphertext.slice(9, 30), token]) {
      expect(visible).not.toContain(secret);
    }
  });
});
