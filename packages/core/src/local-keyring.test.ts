import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, InvalidArgumentError, KeyringError } from './errors';
import { LocalKeyring, serializeContext } from './local-keyring';

const context = { purpose: 'hushfield/scope-key', keyId: 'k1', scope: 'default', version: '1' };

describe('LocalKeyring', () => {
  it('wraps and unwraps a key under the same context', async () => {
    const keyring = new LocalKeyring(randomBytes(32));
    const key = randomBytes(32);
    const wrapped = await keyring.wrapKey(key, context);
    expect(wrapped).toHaveLength(61);
    expect(await keyring.unwrapKey(wrapped, { ...context })).toEqual(key);
    expect(
      await keyring.unwrapKey(wrapped, { version: '1', scope: 'default', keyId: 'k1', purpose: 'hushfield/scope-key' }),
    ).toEqual(key);
  });

  it.each([
    ['another scope', { ...context, scope: 'tenant-2' }],
    ['another version', { ...context, version: '2' }],
    ['another key id', { ...context, keyId: 'k2' }],
    ['an extra entry', { ...context, extra: '' }],
    ['a missing entry', { purpose: context.purpose, keyId: 'k1', scope: 'default' }],
  ])('refuses to unwrap with %s', async (_label, other) => {
    const keyring = new LocalKeyring(randomBytes(32));
    const wrapped = await keyring.wrapKey(randomBytes(32), context);
    await expect(keyring.unwrapKey(wrapped, other)).rejects.toThrow(KeyringError);
  });

  it('refuses tampered bytes and another root key', async () => {
    const keyring = new LocalKeyring(randomBytes(32));
    const wrapped = await keyring.wrapKey(randomBytes(32), context);
    for (let i = 0; i < wrapped.length; i++) {
      const tampered = Buffer.from(wrapped);
      tampered[i] ^= 0x80;
      await expect(keyring.unwrapKey(tampered, context)).rejects.toThrow(KeyringError);
    }
    await expect(new LocalKeyring(randomBytes(32)).unwrapKey(wrapped, context)).rejects.toThrow(KeyringError);
    await expect(keyring.unwrapKey(wrapped.subarray(1), context)).rejects.toThrow(KeyringError);
  });

  it('serializes contexts canonically and unambiguously', () => {
    expect(serializeContext({ a: '1', b: '2' })).toEqual(serializeContext({ b: '2', a: '1' }));
    expect(serializeContext({ ab: 'c' })).not.toEqual(serializeContext({ a: 'bc' }));
    expect(() => serializeContext({ a: 1 as unknown as string })).toThrow(InvalidArgumentError);
  });

  it('refuses a root key that is not 32 bytes, naming the argument', () => {
    expect(() => new LocalKeyring(randomBytes(16))).toThrow('rootKey must be a Buffer of 32 bytes');
  });

  it.each([null, 42, 'local:dev', ['id']])('refuses options %p that are not an object, naming the class', (options) => {
    const make = () => new LocalKeyring(randomBytes(32), options as unknown as { id?: string });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(
      /^LocalKeyring: options must be an object \(or left out\), got (null|number|string|an array)$/,
    );
  });

  it('copies the root key, so the caller may zero its buffer', async () => {
    const root = randomBytes(32);
    const keyring = new LocalKeyring(root);
    const wrapped = await keyring.wrapKey(Buffer.alloc(32, 5), context);
    root.fill(0);
    expect(await keyring.unwrapKey(wrapped, context)).toEqual(Buffer.alloc(32, 5));
  });

  it('has an id from a fingerprint of the key, and an override', () => {
    const root = randomBytes(32);
    expect(new LocalKeyring(root).id).toMatch(/^local:[0-9a-f]{8}$/);
    expect(new LocalKeyring(root).id).toBe(new LocalKeyring(Buffer.from(root)).id);
    expect(new LocalKeyring(root, { id: 'dev' }).id).toBe('dev');
  });

  it.each([null, 42, { variable: 'HUSHFIELD_LOCAL_KEY' }])(
    'refuses a variable name %p that is not a string, naming the argument (not as an unset variable)',
    (variable) => {
      const read = () => LocalKeyring.fromEnv(variable as never);
      expect(read).toThrow(InvalidArgumentError);
      expect(read).toThrow('variable must be a non-empty string');
    },
  );

  it('reads a base64 key from an environment variable', () => {
    const root = randomBytes(32);
    process.env.HUSHFIELD_TEST_KEY = root.toString('base64');
    process.env.HUSHFIELD_LOCAL_KEY = root.toString('base64');
    try {
      expect(LocalKeyring.fromEnv('HUSHFIELD_TEST_KEY').id).toBe(new LocalKeyring(root).id);
      expect(LocalKeyring.fromEnv().id).toBe(new LocalKeyring(root).id);
      process.env.HUSHFIELD_TEST_KEY = randomBytes(16).toString('base64');
      expect(() => LocalKeyring.fromEnv('HUSHFIELD_TEST_KEY')).toThrow(ConfigError);
      process.env.HUSHFIELD_TEST_KEY = 'not base64!';
      expect(() => LocalKeyring.fromEnv('HUSHFIELD_TEST_KEY')).toThrow(ConfigError);
      expect(() => LocalKeyring.fromEnv('HUSHFIELD_UNSET_VARIABLE')).toThrow('HUSHFIELD_UNSET_VARIABLE is not set');
    } finally {
      delete process.env.HUSHFIELD_TEST_KEY;
      delete process.env.HUSHFIELD_LOCAL_KEY;
    }
  });

  it('generates a key file with mode 0600, reads it back, and refuses to overwrite it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hushfield-')), 'root.key');
    LocalKeyring.generateKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toHaveLength(32);
    const keyring = LocalKeyring.fromFile(path);
    const again = LocalKeyring.fromFile(path);
    expect(await again.unwrapKey(await keyring.wrapKey(Buffer.alloc(32, 1), context), context)).toEqual(
      Buffer.alloc(32, 1),
    );
    const before = readFileSync(path);
    expect(() => LocalKeyring.generateKeyFile(path)).toThrow(ConfigError);
    expect(readFileSync(path)).toEqual(before);
  });

  it('reports a key file it cannot write', () => {
    expect(() => LocalKeyring.generateKeyFile('/nonexistent-dir/root.key')).toThrow('cannot write key file');
  });

  it('refuses a key file that is missing or malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hushfield-'));
    expect(() => LocalKeyring.fromFile(join(dir, 'missing'))).toThrow(ConfigError);
    writeFileSync(join(dir, 'short'), randomBytes(31).toString('base64'));
    expect(() => LocalKeyring.fromFile(join(dir, 'short'))).toThrow(ConfigError);
  });

  it('prints its id and never its key', () => {
    const root = randomBytes(32);
    const keyring = new LocalKeyring(root);
    const printed = inspect(keyring, { showHidden: true, depth: 9 }) + JSON.stringify(keyring) + String(keyring);
    expect(printed).toContain(keyring.id);
    for (const encoding of ['hex', 'base64', 'base64url'] as const)
      expect(printed).not.toContain(root.toString(encoding));
    expect(JSON.parse(JSON.stringify(keyring))).toEqual({ id: keyring.id });
  });
});
