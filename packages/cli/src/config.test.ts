import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@hushfield/core';
import { findConfigPath, loadConfig, validateConfig } from './config';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hushfield-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const CONFIG = `
const keyring = { id: 'test:1', wrapKey: async (k: Buffer) => k, unwrapKey: async (k: Buffer) => k };
export const spare = { id: 'test:2', wrapKey: async (k: Buffer) => k, unwrapKey: async (k: Buffer) => k };
export default {
  schema: { formatVersion: 1 as const, keyStoreModel: 'HushfieldKey', models: {} },
  keyring,
  prisma: () => ({ $disconnect: async () => undefined }),
};
`;

test('finds hushfield.config.ts next to prisma.config.ts from a subdirectory', () => {
  writeFileSync(join(dir, 'prisma.config.ts'), 'export default {};');
  writeFileSync(join(dir, 'hushfield.config.ts'), CONFIG);
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  expect(findConfigPath(join(dir, 'src', 'deep'))).toBe(join(dir, 'hushfield.config.ts'));
});

test.each(['cts', 'mts', 'js', 'mjs', 'cjs'])(
  'finds hushfield.config.%s next to a prisma.config of the same extension from a subdirectory',
  (ext) => {
    // Prisma loads prisma.config.{ts,mts,cts,js,mjs,cjs}: each marks the project's directory.
    writeFileSync(join(dir, `prisma.config.${ext}`), 'module.exports = {};');
    writeFileSync(join(dir, `hushfield.config.${ext}`), 'module.exports = {};');
    mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
    expect(findConfigPath(join(dir, 'src', 'deep'))).toBe(join(dir, `hushfield.config.${ext}`));
  },
);

test('does not walk past a prisma.config.cts to a parent project', () => {
  writeFileSync(join(dir, 'prisma.config.ts'), 'export default {};');
  writeFileSync(join(dir, 'hushfield.config.ts'), CONFIG);
  const project = join(dir, 'app');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'prisma.config.cts'), 'module.exports = {};');
  expect(() => findConfigPath(join(project, 'src'))).toThrow(ConfigError);
});

test('loads a CommonJS TypeScript config (hushfield.config.cts) through jiti', async () => {
  writeFileSync(join(dir, 'prisma.config.cts'), 'module.exports = {};');
  writeFileSync(join(dir, 'hushfield.config.cts'), CONFIG);
  const loaded = await loadConfig(dir);
  expect(loaded.path).toBe(join(dir, 'hushfield.config.cts'));
  expect((loaded.config.keyring as { id: string }).id).toBe('test:1');
  expect((loaded.module.spare as { id: string }).id).toBe('test:2');
});

test('stops at the prisma.config.ts directory and says how to point elsewhere', () => {
  writeFileSync(join(dir, 'prisma.config.ts'), 'export default {};');
  expect(() => findConfigPath(dir)).toThrow(ConfigError);
  expect(() => findConfigPath(dir)).toThrow(/--config/);
});

test('--config names a file explicitly, relative to the working directory', () => {
  writeFileSync(join(dir, 'other.ts'), CONFIG);
  expect(findConfigPath(dir, 'other.ts')).toBe(join(dir, 'other.ts'));
  expect(() => findConfigPath(dir, 'missing.ts')).toThrow(/config file not found/);
});

test('loads a TypeScript config through jiti, keeping its named exports', async () => {
  writeFileSync(join(dir, 'prisma.config.ts'), 'export default {};');
  writeFileSync(join(dir, 'hushfield.config.ts'), CONFIG);
  const loaded = await loadConfig(dir);
  expect(loaded.config.schema.keyStoreModel).toBe('HushfieldKey');
  expect((loaded.config.keyring as { id: string }).id).toBe('test:1');
  expect((loaded.module.spare as { id: string }).id).toBe('test:2');
});

test('a config that fails to load is a ConfigError naming the file', async () => {
  writeFileSync(join(dir, 'broken.ts'), 'throw new Error("boom");');
  await expect(loadConfig(dir, 'broken.ts')).rejects.toThrow(/could not load .*broken\.ts: .*boom/);
});

test('validation names the missing or bad property', () => {
  const schema = { formatVersion: 1, keyStoreModel: 'HushfieldKey', models: {} };
  const keyring = { id: 'x', wrapKey: async () => Buffer.alloc(0), unwrapKey: async () => Buffer.alloc(0) };
  const prisma = () => ({ $disconnect: async () => undefined });
  expect(() => validateConfig(undefined)).toThrow(/defineConfig/);
  expect(() => validateConfig({ keyring, prisma })).toThrow(/'schema'/);
  expect(() => validateConfig({ schema, prisma })).toThrow(/'keyring'/);
  expect(() => validateConfig({ schema, keyring })).toThrow(/'prisma'/);
  expect(() => validateConfig({ schema, keyring, prisma, cache: {} })).toThrow(/'cache.ttlMs'/);
  expect(validateConfig({ schema, keyring, prisma }).schema).toBe(schema);
});

test.each([
  ['cache', null, /^config: 'cache' must be an object with ttlMs/],
  ['keyrings', null, /^config: 'keyrings' must be an object of keyrings by name/],
  ['keyrings', 'backup', /^config: 'keyrings' must be an object of keyrings by name/],
  ['keyrings', { backup: 42 }, /^config: 'keyrings.backup' must be a Keyring or a function returning one/],
  ['keyStore', 'HushfieldKey', /^config: 'keyStore' must be a KeyStore or a function of the client returning one/],
  ['databaseUrl', 5432, /^config: 'databaseUrl' must be a connection string/],
])('a %s of %p is a ConfigError naming it, not a TypeError or ignored', (property, value, message) => {
  const schema = { formatVersion: 1, keyStoreModel: 'HushfieldKey', models: {} };
  const keyring = { id: 'x', wrapKey: async () => Buffer.alloc(0), unwrapKey: async () => Buffer.alloc(0) };
  const prisma = () => ({ $disconnect: async () => undefined });
  const validate = () => validateConfig({ schema, keyring, prisma, [property]: value });
  expect(validate).toThrow(ConfigError);
  expect(validate).toThrow(message);
});
