import { inspect } from 'node:util';
import { InvalidArgumentError } from '@hushfield/core';
import { VaultTransitKeyring, type VaultTransitKeyringOptions } from './vault-transit-keyring';
import { VaultKeyringError } from './vault-error';

const base: VaultTransitKeyringOptions = {
  address: 'http://127.0.0.1:9',
  keyName: 'hushfield',
  auth: { token: 'hvs.secret-token' },
};

describe('VaultTransitKeyring configuration', () => {
  it('is identified by namespace, mount and key name, and prints no token', () => {
    expect(new VaultTransitKeyring(base).id).toBe('vault-transit:transit/hushfield');
    const keyring = new VaultTransitKeyring({
      ...base,
      namespace: 'team-a/',
      mount: '/kv-transit',
      auth: { appRole: { roleId: 'r', secretId: 's3cret' } },
    });
    expect(keyring.id).toBe('vault-transit:team-a/kv-transit/hushfield');
    expect(JSON.stringify(keyring)).toBe(
      JSON.stringify({ id: keyring.id, keyName: 'hushfield', mount: 'kv-transit', namespace: 'team-a' }),
    );
    expect(inspect(keyring, { showHidden: true, depth: 5 })).not.toContain('s3cret');
    expect(inspect(new VaultTransitKeyring(base))).not.toContain('hvs.');
  });

  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming VaultTransitKeyring',
    (options) => {
      const make = () => new VaultTransitKeyring(options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(new RegExp(`^VaultTransitKeyring: options must be an object, got (null|number|string)$`));
    },
  );

  it('names the bad option', () => {
    const bad: Array<[Partial<VaultTransitKeyringOptions>, string]> = [
      [{ address: 'ftp://vault' }, 'address'],
      [{ address: 'http://vault.example.com:8200' }, 'address must use https'],
      [{ address: 'https://user:pw@vault.example.com' }, 'address must not hold credentials'],
      [{ keyName: 'a/b' }, 'keyName'],
      [{ keyName: '' }, 'keyName'],
      [{ mount: '../sys' }, 'mount'],
      [{ keyVersion: 0 }, 'keyVersion must be an integer'],
      [{ timeoutMs: 0 }, 'timeoutMs must be an integer from 1 to 300000'],
      [{ contextBinding: 'none' as never }, 'contextBinding'],
      [{ auth: {} as never }, 'auth must be'],
      [{ auth: { token: '' } }, 'auth.token'],
      [{ auth: { appRole: { roleId: '', secretId: 'x' } } }, 'auth.appRole.roleId'],
      [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ audit: (() => undefined) as never }, 'audit must be an AuditSink'],
      [{ audit: { emit() {} }, actor: 'ada' as never }, 'actor must be a function'],
    ];
    for (const [options, message] of bad) {
      expect(() => new VaultTransitKeyring({ ...base, ...options })).toThrow(InvalidArgumentError);
      expect(() => new VaultTransitKeyring({ ...base, ...options })).toThrow(message);
    }
    expect(
      () => new VaultTransitKeyring({ ...base, address: 'http://vault.internal:8200', allowInsecureHttp: true }),
    ).not.toThrow();
  });

  it("refuses malformed wrapped bytes, another key's bytes and bad arguments before calling Vault", async () => {
    const calls: unknown[] = [];
    const keyring = new VaultTransitKeyring({
      ...base,
      fetch: (async (...args: unknown[]) => {
        calls.push(args);
        throw new Error('no');
      }) as typeof fetch,
    });
    await expect(keyring.unwrapKey(Buffer.from('garbage'), {})).rejects.toMatchObject({
      vaultCode: 'MalformedWrappedKey',
      retryable: false,
    });
    const other = Buffer.concat([
      Buffer.from('HFV\x01'),
      Buffer.of(5),
      Buffer.from('other'),
      Buffer.from([0, 13]),
      Buffer.from('vault:v1:AAAA'),
    ]);
    await expect(keyring.unwrapKey(other, {})).rejects.toBeInstanceOf(VaultKeyringError);
    await expect(keyring.unwrapKey(other, {})).rejects.toMatchObject({
      vaultCode: 'WrongKey',
      code: 'HUSHFIELD_KEYRING',
    });
    await expect(keyring.wrapKey(Buffer.alloc(0), {})).rejects.toThrow(
      'plaintextKey must be a Buffer of 1 to 4096 bytes',
    );
    await expect(keyring.wrapKey(Buffer.alloc(32), { version: 1 as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(calls).toHaveLength(0);
  });
});
