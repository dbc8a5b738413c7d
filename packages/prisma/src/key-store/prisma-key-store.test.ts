import { inspect } from 'node:util';
import { ConfigError, InvalidArgumentError, KeyStoreError, type NewStoredKey } from '@hushfield/core';
import { PrismaKeyStore } from './prisma-key-store';

// The database behaviour is tested on PostgreSQL and PGlite in test/key-store*.test.ts; these
// cover what must happen before any query: configuration and argument checks.

/** A client shape that records every call, to prove malformed input never reaches it. */
function recordingClient(model = 'hushfieldKey') {
  const calls: string[] = [];
  const record = (name: string) => async () => {
    calls.push(name);
    return null;
  };
  const delegate = {
    findFirst: record('findFirst'),
    findMany: record('findMany'),
    create: record('create'),
    updateMany: record('updateMany'),
  };
  return { calls, client: { [model]: delegate, $transaction: record('$transaction') } };
}

const key: NewStoredKey = {
  keyId: 'k1',
  kind: 'scope',
  scope: 'default',
  version: 1,
  wrappedKey: 'AAAA',
  keyringId: 'local:x',
};

describe('PrismaKeyStore configuration', () => {
  it('uses the HushfieldKey model unless told otherwise', () => {
    expect(() => new PrismaKeyStore(recordingClient().client)).not.toThrow();
    expect(() => new PrismaKeyStore(recordingClient('encryptionKey').client, { model: 'EncryptionKey' })).not.toThrow();
  });

  it.each([
    ['no client', undefined],
    ['a client without the model', recordingClient('otherModel').client],
    ['an object without $transaction', { hushfieldKey: recordingClient().client.hushfieldKey }],
  ])('refuses %s with a ConfigError naming the model', (_label, client) => {
    expect(() => new PrismaKeyStore(client)).toThrow(ConfigError);
    expect(() => new PrismaKeyStore(client)).toThrow('no model HushfieldKey');
  });

  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming PrismaKeyStore',
    (options) => {
      const make = () => new PrismaKeyStore(recordingClient().client, options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(
        new RegExp(`^PrismaKeyStore: options must be an object \\(or left out\\), got (null|number|string)$`),
      );
    },
  );

  it('refuses a model option that is not a model name', () => {
    expect(() => new PrismaKeyStore(recordingClient().client, { model: 'a b' })).toThrow(InvalidArgumentError);
  });

  it.each([
    ['maxWaitMs', 0],
    ['maxWaitMs', -1],
    ['maxWaitMs', 1.5],
    ['maxWaitMs', '10000'],
    ['timeoutMs', Number.NaN],
    ['timeoutMs', Infinity],
    ['timeoutMs', null],
  ])('refuses %s %p with a typed error naming the option', (option, value) => {
    const make = () => new PrismaKeyStore(recordingClient().client, { [option]: value } as never);
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(`options.${option}`);
  });

  it('gives every transaction of the store its wait and run limits: 10 s and 5 s unless told otherwise', async () => {
    const seen: unknown[] = [];
    const client = {
      ...recordingClient().client,
      $transaction: async (_fn: unknown, options: unknown) => {
        seen.push(options);
        throw Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), {
          code: 'P2028',
        });
      },
    };
    const failure = (store: PrismaKeyStore) =>
      store.insert(key).then(
        () => {
          throw new Error('the insert should have failed');
        },
        (error: Error) => error,
      );
    const byDefault = await failure(new PrismaKeyStore(client));
    expect(byDefault).toBeInstanceOf(KeyStoreError);
    expect(byDefault.message).toMatch(/could not start within 10000 ms .*maxWaitMs/);
    await failure(new PrismaKeyStore(client, { maxWaitMs: 30_000, timeoutMs: 8_000 }));
    await new PrismaKeyStore(client).destroy('scope', 'default').catch(() => undefined);
    expect(seen).toEqual([
      { maxWait: 10_000, timeout: 5_000 },
      { maxWait: 30_000, timeout: 8_000 },
      { maxWait: 10_000, timeout: 5_000 },
    ]);
  });

  it('prints only the model name', () => {
    const store = new PrismaKeyStore(recordingClient().client);
    expect(inspect(store)).toBe("PrismaKeyStore { model: 'HushfieldKey' }");
    expect(JSON.parse(JSON.stringify({ store }))).toEqual({ store: { model: 'HushfieldKey' } });
  });
});

describe('PrismaKeyStore argument checks', () => {
  it.each<[string, Partial<NewStoredKey>, string]>([
    ['an empty key id', { keyId: '' }, 'key.keyId'],
    ['an unknown kind', { kind: 'data' as never }, 'key.kind'],
    ['an empty scope', { scope: '' }, 'key.scope'],
    ['version 0', { version: 0 }, 'key.version'],
    ['a fractional version', { version: 1.5 }, 'key.version'],
    ['a version past 2^31-1', { version: 2 ** 31 }, 'key.version'],
    ['an empty wrapped key', { wrappedKey: '' }, 'key.wrappedKey'],
    ['an empty keyring id', { keyringId: '' }, 'key.keyringId'],
  ])('refuses %s before any query', async (_label, change, argument) => {
    const { calls, client } = recordingClient();
    const store = new PrismaKeyStore(client);
    await expect(store.insert({ ...key, ...change })).rejects.toMatchObject({ name: 'InvalidArgumentError', argument });
    await expect(store.rotate({ ...key, version: 2, ...change })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(calls).toEqual([]);
  });

  it('refuses to rotate to version 1', async () => {
    const { calls, client } = recordingClient();
    await expect(new PrismaKeyStore(client).rotate(key)).rejects.toMatchObject({ argument: 'next.version' });
    expect(calls).toEqual([]);
  });

  it('answers an impossible version without a query', async () => {
    const { calls, client } = recordingClient();
    expect(await new PrismaKeyStore(client).getVersion('k1', -1)).toBeNull();
    expect(calls).toEqual([]);
  });
});
