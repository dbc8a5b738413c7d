import { InvalidArgumentError } from '@hushfield/core';
import { Pkcs11KeyringError } from './pkcs11-errors';
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
    expect(() => new Pkcs11Keyring({ ...base, pin: '1'.repeat(257) })).toThrow(
      'pin must be a string of 1 to 256 characters or a function returning one',
    );
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
      pkcs11Code: 'MalformedWrappedKey',
    });
  });
});

describe('Pkcs11Keyring PIN function', () => {
  /** A token that is present; anything past finding its slot (the login) must not be reached. */
  const present = new Proxy(
    {
      C_GetSlotList: () => [Buffer.from([1])],
      C_GetTokenInfo: () => ({ label: 'hsm' + ' '.repeat(29) }),
    } as Record<string, unknown>,
    {
      get: (target, name) =>
        target[name as string] ??
        (() => {
          throw new Error(`called ${String(name)}`);
        }),
    },
  ) as unknown as Pkcs11Module;

  it('fails a call with a typed, final error when the PIN function does not answer within timeoutMs, and asks it again on the next call', async () => {
    let asked = 0;
    const keyring = new Pkcs11Keyring({
      ...base,
      module: present,
      pin: () => {
        asked++;
        return new Promise<string>(() => undefined);
      },
      timeoutMs: 40,
    });
    for (let call = 1; call <= 2; call++) {
      const started = Date.now();
      const error = await keyring.wrapKey(Buffer.alloc(32, 7), { keyId: 'k' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(Pkcs11KeyringError);
      expect(error).toMatchObject({
        code: 'HUSHFIELD_KEYRING',
        operation: 'wrap',
        retryable: false,
        pkcs11Code: 'PinSourceTimeout',
      });
      expect((error as Error).message).toBe(
        'PKCS#11 C_Encrypt with key hsm/root failed after 1 attempt: the PIN function gave no PIN within 40 ms ' +
          '(it is called again on the next call)',
      );
      expect(asked).toBe(call);
    }
  });

  it('fails a call with a typed error when the PIN function throws, without its message, and asks it again next time', async () => {
    let asked = 0;
    const keyring = new Pkcs11Keyring({
      ...base,
      module: present,
      pin: () => {
        asked++;
        throw new Error('vault path secret/hsm-pin-9876 unreadable');
      },
    });
    for (let call = 1; call <= 2; call++) {
      const error = await keyring.wrapKey(Buffer.alloc(32, 7), {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'HUSHFIELD_KEYRING', retryable: false, pkcs11Code: 'PinSourceFailed' });
      expect((error as Error).message).toContain(
        'the PIN function threw or gave no PIN (it is called again on the next call)',
      );
      expect(JSON.stringify(error) + String((error as Error).message)).not.toContain('9876');
      expect((error as Error).cause).toBeUndefined();
      expect(asked).toBe(call);
    }
  });
});
