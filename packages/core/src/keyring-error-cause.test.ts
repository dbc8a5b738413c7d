import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyringError } from './errors';
import { FieldCrypto } from './field-crypto';
import type { EncryptionContext, Keyring } from './keyring';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const ctx = { model: 'users', field: 'email', rowId: '1' };

/** What an HTTP client's error looks like: the request it failed on, body included. */
function clientError(key: Buffer): Error {
  return Object.assign(new Error(`POST /wrap failed: {"plaintext":"${key.toString('base64')}"}`), {
    name: 'AxiosError',
    code: 'ECONNRESET',
    config: { data: JSON.stringify({ plaintext: key.toString('base64') }) },
    key,
  });
}

function crypto(keyring: Keyring, keyStore = new MemoryKeyStore()): FieldCrypto {
  return new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
}

async function failure(promise: Promise<unknown>): Promise<KeyringError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyringError);
  return error as KeyringError;
}

describe("a custom keyring's own error", () => {
  it('is kept as cause by class, code and stack frames only: the key it was given is nowhere in the error', async () => {
    let given: Buffer | undefined;
    const keyring: Keyring = {
      id: 'custom:http',
      wrapKey: async (key: Buffer) => {
        given = Buffer.from(key);
        throw clientError(key);
      },
      unwrapKey: async () => Buffer.alloc(32),
    };
    const error = await failure(crypto(keyring).rowEncryptor('tenant-a'));
    expect(given).toHaveLength(32);
    const printed = inspect(error, { depth: 10 }) + JSON.stringify(error) + String(error.stack);
    for (const form of ['base64', 'hex', 'latin1'] as const) expect(printed).not.toContain(given!.toString(form));
    expect(printed).not.toContain('"plaintext"');
    expect(error.message).toBe('keyring custom:http failed to wrap: AxiosError');
    const cause = error.cause as Error & { code?: unknown };
    expect(cause).toBeInstanceOf(Error);
    expect(cause).toMatchObject({ name: 'AxiosError', code: 'ECONNRESET' });
    expect(Object.keys(cause).sort()).toEqual(['code', 'name']);
    // Where it was thrown is still there to debug the keyring with.
    expect(cause.stack).toContain('keyring-error-cause.test.ts');
  });

  it('keeps nothing of an unwrap failure that quotes the key either, nor of one that is not an Error', async () => {
    const local = new LocalKeyring(randomBytes(32));
    const keyStore = new MemoryKeyStore();
    const writer = crypto(local, keyStore);
    const row = await writer.rowEncryptor('tenant-a');
    const envelope = row.encrypt('alice@example.com', ctx);
    row.dispose();
    let unwrapped: Buffer | undefined;
    const quoting: Keyring = {
      id: local.id,
      wrapKey: (key, context) => local.wrapKey(key, context),
      unwrapKey: async (wrapped: Buffer, context: EncryptionContext) => {
        unwrapped = await local.unwrapKey(wrapped, context);
        throw new RangeError(`unexpected key ${unwrapped.toString('hex')}`);
      },
    };
    const error = await failure(crypto(quoting, keyStore).decrypt(envelope, ctx));
    expect(inspect(error, { depth: 10 })).not.toContain(unwrapped!.toString('hex'));
    expect(error.cause).toMatchObject({ name: 'RangeError' });

    const odd: Keyring = {
      id: 'custom:odd',
      wrapKey: () => Promise.reject({ key: 'c2VjcmV0' }),
      unwrapKey: async () => Buffer.alloc(32),
    };
    const thrown = await failure(crypto(odd).rowEncryptor('tenant-b'));
    expect(inspect(thrown, { depth: 10 })).not.toContain('c2VjcmV0');
  });

  it("passes a built-in keyring's typed error through as it is, with no cause", async () => {
    const local = new LocalKeyring(randomBytes(32));
    const other = new LocalKeyring(randomBytes(32));
    const keyStore = new MemoryKeyStore();
    const row = await crypto(local, keyStore).rowEncryptor('tenant-a');
    const envelope = row.encrypt('alice@example.com', ctx);
    row.dispose();
    // Same id, another root key: the unwrap is refused by LocalKeyring itself.
    const impostor: Keyring = {
      id: local.id,
      wrapKey: other.wrapKey.bind(other),
      unwrapKey: other.unwrapKey.bind(other),
    };
    const error = await failure(crypto(impostor, keyStore).decrypt(envelope, ctx));
    expect(error.cause).toBeUndefined();
  });

  it('names an error whose name is not a class name (text set by the thrower) as Error in the message too', async () => {
    let given: Buffer | undefined;
    const keyring: Keyring = {
      id: 'custom:named',
      wrapKey: async (key: Buffer) => {
        given = Buffer.from(key);
        throw Object.assign(new Error('failed'), { name: `wrap of ${key.toString('base64')} failed` });
      },
      unwrapKey: async () => Buffer.alloc(32),
    };
    const error = await failure(crypto(keyring).rowEncryptor('tenant-b'));
    const printed = inspect(error, { depth: 10 }) + JSON.stringify(error) + String(error.stack);
    expect(printed).not.toContain(given!.toString('base64'));
    expect(error.message).toBe('keyring custom:named failed to wrap: Error');
  });
});
