/**
 * `hushfield.config.ts`: what the CLI needs to reach the data and the keys. It lives next to
 * `prisma.config.ts` (found by walking up from the working directory) unless `--config` names
 * it, and is loaded through jiti so that it may be TypeScript, after the `.env` beside it
 * (see `env-file.ts`), as a `prisma.config.ts` that imports `dotenv/config` would.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '@hushfield/core';
import type { ActorContext, AuditSink, KeyStore, Keyring } from '@hushfield/core';
import type { HushfieldSchema } from '@hushfield/prisma';
import { type EnvFile, envFilePath, loadEnvFile } from './env-file';
import { messages } from './messages';

/** A value given directly or by a (possibly async) factory, so that configs can defer I/O. */
export type Lazy<T> = T | (() => T | Promise<T>);

/** The base (unextended) Prisma client the CLI reads and writes stored values with. */
export type BasePrismaClient = object & { $disconnect(): Promise<void> };

/** Key cache settings for the CLI's `FieldCrypto` (mirrors core's `KeyCacheOptions`). */
export interface CliCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries?: number;
  readonly maxUses?: number;
  /**
   * How long the list of live blind-index root versions is trusted before it is read again, in
   * ms (core's `indexVersionsTtlMs`): how soon a long run writes a version another process added
   * with `keys rotate --index`. Default 30,000; never longer than `ttlMs`.
   */
  readonly indexVersionsTtlMs?: number;
}

/** What `hushfield.config.ts` default-exports (build it with {@link defineConfig}). */
export interface HushfieldConfig {
  /** The generator's output (`hushfieldSchema` from `<output>/index.ts`). */
  readonly schema: HushfieldSchema;
  /** The root keyring (KMS or local) the application uses. */
  readonly keyring: Lazy<Keyring>;
  /** Returns a base PrismaClient: the CLI never uses the extended client. */
  readonly prisma: () => BasePrismaClient | Promise<BasePrismaClient>;
  /** Key store; default: `PrismaKeyStore` on the client from {@link HushfieldConfig.prisma}. */
  readonly keyStore?: KeyStore | ((client: BasePrismaClient) => KeyStore);
  /** Key cache; default `{ ttlMs: 5 minutes, maxEntries: 10000 }`. */
  readonly cache?: CliCacheOptions;
  /** Other keyrings by name, for `keys rewrap --to-keyring <name>`. */
  readonly keyrings?: Readonly<Record<string, Lazy<Keyring>>>;
  /** Connection string `doctor` uses to read the server certificate (default `DATABASE_URL`). */
  readonly databaseUrl?: string;
  /** Audit sink for key lifecycle events and keyring calls the CLI makes. */
  readonly audit?: AuditSink;
  /** The actor recorded in audit events (default: `{ tool: 'hushfield-cli', user: $USER }`). */
  readonly actor?: () => ActorContext | undefined;
  /** As the extension's option: `'refuse'` (default) or `'warn'` on a Unicode mismatch of a normalizer. */
  readonly unicodeMismatch?: 'refuse' | 'warn';
}

/**
 * Declares a hushfield configuration (identity function that type-checks it).
 * @example
 * export default defineConfig({
 *   schema: hushfieldSchema,
 *   keyring: () => new AwsKmsKeyring({ keyId: process.env.KMS_KEY_ID! }),
 *   prisma: () => new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) }),
 * });
 */
export function defineConfig(config: HushfieldConfig): HushfieldConfig {
  return config;
}

/** A loaded configuration and the module it came from (for named keyring exports). */
export interface LoadedConfig {
  readonly path: string;
  readonly config: HushfieldConfig;
  readonly module: Readonly<Record<string, unknown>>;
  /** The env file read before the configuration was imported. */
  readonly envFile?: EnvFile;
}

// The extensions Prisma 7 loads `prisma.config.*` with (its config loader's list).
const CONFIG_NAMES = [
  'hushfield.config.ts',
  'hushfield.config.mts',
  'hushfield.config.cts',
  'hushfield.config.js',
  'hushfield.config.mjs',
  'hushfield.config.cjs',
];
const PRISMA_CONFIG_NAMES = [
  'prisma.config.ts',
  'prisma.config.mts',
  'prisma.config.cts',
  'prisma.config.js',
  'prisma.config.mjs',
  'prisma.config.cjs',
];

/**
 * Finds the configuration file: `explicit` if given, else `hushfield.config.*` in the nearest
 * directory (from `cwd` upwards) holding a `prisma.config.*`, else in `cwd` itself.
 * @throws ConfigError when there is none.
 */
export function findConfigPath(cwd: string, explicit?: string): string {
  if (explicit) {
    const path = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError(messages.config.notFound(path));
    return path;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const here = (names: string[]) => names.map((name) => join(dir, name)).find((path) => existsSync(path));
    const own = here(CONFIG_NAMES);
    if (own && (dir === resolve(cwd) || here(PRISMA_CONFIG_NAMES))) return own;
    if (here(PRISMA_CONFIG_NAMES)) break;
    if (dirname(dir) === dir) break;
  }
  throw new ConfigError(messages.config.notFoundNearPrisma(cwd));
}

/** Loads a module (TypeScript or JavaScript) through jiti. */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(__filename, { interopDefault: false });
  return (await jiti.import(path)) as Record<string, unknown>;
}

/**
 * Loads and validates the configuration file, after reading the env file: `envFile` (relative
 * to `cwd`), else the `.env` beside the configuration when there is one.
 * @throws ConfigError when the file is missing, fails to load, or lacks schema/keyring/prisma,
 *   or when `envFile` is missing
 */
export async function loadConfig(cwd: string, explicit?: string, envFile?: string): Promise<LoadedConfig> {
  const path = findConfigPath(cwd, explicit);
  const env = loadEnvFile(envFilePath(path, cwd, envFile), envFile !== undefined);
  let module: Record<string, unknown>;
  try {
    module = await importModule(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(messages.config.loadFailed(path, reason), { cause: error });
  }
  let config = module.default as unknown;
  if (config && typeof config === 'object' && 'default' in config && !('schema' in config)) {
    config = (config as { default: unknown }).default; // CommonJS interop of `export default`
  }
  return { path, config: validateConfig(config, path), module, envFile: env };
}

/** Checks the shape of a configuration object. @throws ConfigError naming the bad property. */
export function validateConfig(config: unknown, source = 'config'): HushfieldConfig {
  if (!config || typeof config !== 'object') throw new ConfigError(messages.config.noDefaultExport(source));
  const candidate = config as Partial<HushfieldConfig>;
  const schema = candidate.schema as Partial<HushfieldSchema> | undefined;
  if (!schema || schema.formatVersion !== 1 || typeof schema.models !== 'object') {
    throw new ConfigError(messages.config.schema(source));
  }
  if (!candidate.keyring || (typeof candidate.keyring !== 'function' && typeof candidate.keyring !== 'object')) {
    throw new ConfigError(messages.config.keyring(source));
  }
  if (typeof candidate.prisma !== 'function') {
    throw new ConfigError(messages.config.prisma(source));
  }
  if (candidate.cache !== undefined) {
    if (!isObject(candidate.cache)) throw new ConfigError(messages.config.cache(source));
    if (!(typeof candidate.cache.ttlMs === 'number' && candidate.cache.ttlMs > 0)) {
      throw new ConfigError(messages.config.cacheTtl(source));
    }
  }
  // Checked here, not when a command first uses them: `doctor` would take a string's characters
  // for named keyrings, and `keys rewrap --to-keyring` would look for the name elsewhere.
  if (candidate.keyrings !== undefined) {
    if (!isObject(candidate.keyrings)) throw new ConfigError(messages.config.keyrings(source));
    for (const [name, keyring] of Object.entries(candidate.keyrings)) {
      if (!isObject(keyring) && typeof keyring !== 'function') {
        throw new ConfigError(messages.config.namedKeyring(source, name));
      }
    }
  }
  const keyStore: unknown = candidate.keyStore;
  if (keyStore !== undefined && !isObject(keyStore) && typeof keyStore !== 'function') {
    throw new ConfigError(messages.config.keyStore(source));
  }
  if (candidate.databaseUrl !== undefined && typeof candidate.databaseUrl !== 'string') {
    throw new ConfigError(messages.config.databaseUrl(source));
  }
  return candidate as HushfieldConfig;
}

/** Whether `value` is an object (not `null`, not an array). */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves a {@link Lazy} value. */
export async function resolveLazy<T extends object>(value: Lazy<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : value;
}
