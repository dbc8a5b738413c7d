import { InvalidArgumentError } from '@hushfield/core';
import { Pkcs11Keyring } from './pkcs11-keyring';
import type { Pkcs11Module } from './pkcs11-module';

/** A module that must never be called: these tests stop before the token. */
const untouchable = new Proxy(
  {},
  {
    get: (_, name) => () => {
      throw new Error(`called ${String(name)}`);
    },
  },
) as Pkcs11Module;
const base = { module: untouchable, tokenLabel: 'hsm', pin: '1234', keyLabel: 'root' };

describe('Pkcs11Keyring configuration', () => {
  it('is identified by token and key label', () => {
    const keyring = new Pkcs11Keyring(base);
    expect(keyring.id).toBe('pkcs11:hsm/root');
    expect(JSON.stringify(keyring)).toBe('{"id":"pkcs11:hsm/root","tokenLabel":"hsm","keyLabel":"root"}');
    expect(new Pkcs11Keyring({ ...base, id: 'hsm-eu' }).id).toBe('hsm-eu');
  });

  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming Pkcs11Keyring',
    (options) => {
      const make = () => new Pkcs11Keyring(options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(new RegExp(`^Pkcs11Keyring: options must be an object, got (null|number|string)$`));
    },
  );

  it('names the bad argument', () => {
    expect(() => new Pkcs11Keyring({ ...base, tokenLabel: '' })).toThrow(
      'tokenLabel must be a string of 1 to 64 bytes',
    );
    expect(() => new Pkcs11Keyring({ ...base, keyLabel: 'x'.repeat(65) })).toThrow('keyLabel');
    expect(() => new Pkcs11Keyring({ ...base, pin: '' })).toThrow('pin must be');
    expect(() => new Pkcs11Keyring({ ...base, sessions: 0 })).toThrow('sessions must be an integer from 1 to 64');
    expect(() => new Pkcs11Keyring({ ...base, module: 42 as never })).toThrow(InvalidArgumentError);
    expect(() => new Pkcs11Keyring({ ...base, timeoutMs: -1 })).toThrow('timeoutMs');
    expect(() => new Pkcs11Keyring({ ...base, audit: (() => undefined) as never })).toThrow(
      'audit must be an AuditSink',
    );
    expect(() => new Pkcs11Keyring({ ...base, actor: 'ada' as never })).toThrow('actor must be a function');
  });

  it('refuses bad arguments and malformed wrapped bytes before calling the token', async () => {
    const keyring = new Pkcs11Keyring(base);
    await expect(keyring.wrapKey(Buffer.alloc(0), {})).rejects.toThrow(
      'plaintextKey must be a Buffer of 1 to 4096 bytes',
    );
    await expect(keyring.wrapKey(Buffer.alloc(32), { v: 1 as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(keyring.unwrapKey(Buffer.from('nonsense'), {})).rejects.toMatchObject({
      code: 'HUSHFIELD_KEYRING',
      operation: 'unwrap',
      retryable: false,
    });
  });
});
