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

  it('refuses a wrong keyring, keyStore, cache, audit or actor at the fieldEncryption() call, naming it, not when the client is extended', () => {
    const wrong: [string, unknown, string, string][] = [
      ['keyring', { id: 'k' }, 'InvalidArgumentError', 'options.keyring must be a Keyring'],
      ['keyring', null, 'InvalidArgumentError', 'options.keyring must be a Keyring'],
      ['keyStore', { get: () => undefined }, 'InvalidArgumentError', 'options.keyStore must be a KeyStore'],
      ['keyStore', null, 'InvalidArgumentError', 'options.keyStore must be a KeyStore'],
      ['cache', { maxEntries: 10 }, 'ConfigError', 'cache.ttlMs is required'],
      ['cache', null, 'ConfigError', 'cache must be an object'],
      ['cache', { ttlMs: 1000, maxEntries: null }, 'ConfigError', 'cache.maxEntries must be a positive integer'],
      ['cache', { ttlMs: 1000, indexVersionsTtlMs: null }, 'ConfigError', 'cache.indexVersionsTtlMs must be'],
      ['audit', { log: () => undefined }, 'InvalidArgumentError', 'options.audit must be an AuditSink'],
      ['actor', 'ada', 'InvalidArgumentError', 'options.actor must be a function'],
      ['auditDecrypts', { sample: 2 }, 'InvalidArgumentError', 'options.auditDecrypts.sample must be'],
      ['unicodeMismatch', 'ignore', 'InvalidArgumentError', 'options.unicodeMismatch must be'],
      ['parallelDecrypt', { minValues: null }, 'InvalidArgumentError', 'options.parallelDecrypt.minValues must be'],
    ];
    for (const [name, value, errorName, message] of wrong) {
      const options = { schema, keyring, [name]: value };
      const error = thrown(untyped(options)) as Error | undefined;
      expect([name, value, error?.name, error?.message]).toEqual([
        name,
        value,
        errorName,
        expect.stringContaining(message),
      ]);
    }
    const fine = { schema, keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 1000, maxEntries: 5 } };
    expect(untyped(fine)).not.toThrow();
    expect(untyped({ schema, keyring, audit: { emit: () => undefined }, actor: () => undefined })).not.toThrow();
  });
});
