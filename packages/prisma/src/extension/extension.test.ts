import { randomBytes } from 'node:crypto';
import { ConfigError, FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { HushfieldSchema } from '../metadata';
import { fieldEncryption } from './extension';

const schema: HushfieldSchema = { formatVersion: 1, keyStoreModel: 'HushfieldKey', models: {} };
const keyring = new LocalKeyring(randomBytes(32));
/** Options as a JavaScript caller may give them, past the types. */
const untyped = (options: unknown) => () => fieldEncryption(options as never);
/** What `call` throws, for asserting on its class and message together. */
const thrown = (call: () => unknown): unknown => {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
};
const configError = (message: string) =>
  expect.objectContaining({ name: 'ConfigError', code: 'HUSHFIELD_CONFIG', message });

describe('fieldEncryption options given from JavaScript', () => {
  it('refuses options that are not an object with ConfigError', () => {
    for (const options of [undefined, null, 'schema'])
      expect(thrown(untyped(options))).toEqual(configError('fieldEncryption: options must be an object'));
  });

  it('refuses a crypto that is not a FieldCrypto with ConfigError, before any query', () => {
    for (const crypto of [{}, 'crypto', { decrypt: () => 'x' }]) {
      expect(untyped({ schema, crypto })).toThrow(ConfigError);
      expect(untyped({ schema, crypto })).toThrow('`crypto` must be a FieldCrypto');
    }
    const crypto = new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 1000 } });
    expect(untyped({ schema, crypto })).not.toThrow();
  });

  it('refuses, beside a shared crypto, the options that crypto stands for (they were ignored)', () => {
    const crypto = new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 1000 } });
    const ignored = {
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 1000 },
      audit: { emit: () => undefined },
      actor: () => ({ user: 'ada' }),
      auditDecrypts: true,
      unicodeMismatch: 'warn',
      parallelDecrypt: false,
      singleConnection: true,
    };
    for (const [name, value] of Object.entries(ignored)) {
      expect(thrown(untyped({ schema, crypto, [name]: value }))).toEqual(
        configError(`fieldEncryption: \`${name}\` is the shared crypto's setting: give it to that FieldCrypto`),
      );
    }
    // the keyring the crypto was made with may be named too
    expect(untyped({ schema, crypto, keyring })).not.toThrow();
  });

  it("refuses an onDecryptError other than 'throw' or 'null' with ConfigError", () => {
    for (const onDecryptError of ['nul', 'Null', null, false, true])
      expect(thrown(untyped({ schema, keyring, onDecryptError }))).toEqual(
        configError("fieldEncryption: `onDecryptError` must be 'throw' or 'null'"),
      );
    for (const onDecryptError of ['throw', 'null', undefined])
      expect(untyped({ schema, keyring, onDecryptError })).not.toThrow();
  });

  it('refuses a singleConnection that is not a boolean with ConfigError', () => {
    for (const singleConnection of ['no', 'false', 0, null])
      expect(thrown(untyped({ schema, keyring, singleConnection }))).toEqual(
        configError('fieldEncryption: `singleConnection` must be true or false'),
      );
    for (const singleConnection of [true, false, undefined])
      expect(untyped({ schema, keyring, singleConnection })).not.toThrow();
  });
});
