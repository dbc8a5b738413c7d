/**
 * `.env` files, read the way `prisma.config.ts` projects read them (`import 'dotenv/config'`,
 * parsed by dotenv): before the configuration is imported, the `.env` next to it (or the
 * file `--dotenv` names) sets the variables the environment does not already set; a
 * variable set in the environment wins. Only variable names are ever reported, never values.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '@hushfield/core';
import { parse } from 'dotenv';
import { messages } from './messages';

/** What was read from an env file. */
export interface EnvFile {
  /** The file looked for. */
  readonly path: string;
  /** Whether it exists (a missing default `.env` is not an error). */
  readonly found: boolean;
  /** Variables it set. */
  readonly loaded: readonly string[];
  /** Variables it names that the environment already set (the environment's value was kept). */
  readonly kept: readonly string[];
}

/**
 * The env file for a configuration at `configPath`: `explicit` (relative to `cwd`), else `.env`
 * beside the configuration.
 */
export function envFilePath(configPath: string, cwd: string, explicit?: string): string {
  if (explicit !== undefined) return isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
  return join(dirname(configPath), '.env');
}

/**
 * Reads `path` into `env` without overriding what `env` already holds.
 * @param required - whether a missing file is an error (`--dotenv` named it)
 * @throws ConfigError when a required file is missing or the file cannot be read
 */
export function loadEnvFile(path: string, required: boolean, env: NodeJS.ProcessEnv = process.env): EnvFile {
  if (!existsSync(path)) {
    if (required) throw new ConfigError(messages.envFile.notFound(path));
    return { path, found: false, loaded: [], kept: [] };
  }
  let parsed: Record<string, string>;
  try {
    parsed = parse(readFileSync(path));
  } catch (error) {
    throw new ConfigError(messages.envFile.unreadable(path), { cause: error });
  }
  const loaded: string[] = [];
  const kept: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (env[name] !== undefined) kept.push(name);
    else {
      env[name] = value;
      loaded.push(name);
    }
  }
  return { path, found: true, loaded, kept };
}

/** Prisma's error codes for a database that could not be reached or refused the credentials. */
const CONNECTION_CODES = new Set([
  'P1000',
  'P1001',
  'P1002',
  'P1003',
  'P1010',
  'P1011',
  'P1013',
  'P1017',
  'ECONNREFUSED',
  'ENOTFOUND',
]);
/** The same failures as a driver adapter reports them (a raw query's P2010 carries them). */
const CONNECTION_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseAccessDenied',
  'DatabaseDoesNotExist',
  'AuthenticationFailed',
  'TlsConnectionError',
]);

function isConnectionFailure(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, errorCode, meta } = error as {
    code?: unknown;
    errorCode?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown } } };
  };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (typeof errorCode === 'string' && CONNECTION_CODES.has(errorCode)) return true;
  const kind = meta?.driverAdapterError?.cause?.kind;
  return typeof kind === 'string' && CONNECTION_KINDS.has(kind);
}

/**
 * A hint for a failure to reach the database while `DATABASE_URL` is unset, naming where the
 * CLI looked for it; `undefined` otherwise. (A config may read another variable; this is the
 * one `prisma.config.ts` and the quick start use.)
 */
export function missingUrlHint(
  error: unknown,
  envFile: EnvFile | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!isConnectionFailure(error) || env.DATABASE_URL !== undefined) return undefined;
  return messages.envFile.missingDatabaseUrl(envFile);
}
