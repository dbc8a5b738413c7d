/**
 * Runs the real `hushfield` command in a child process, from the sources (`node --import tsx
 * packages/cli/src/bin.ts`, with `@hushfield/*` mapped to `packages/<pkg>/src` like Jest
 * does), against a `hushfield.config.ts` written into a temp directory. Used where a test
 * needs a separate process: SIGKILL mid-run, a concurrent writer, KMS faults.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testProvider } from '../support/provider';

/** Repository root. */
export const ROOT = resolve(__dirname, '..', '..');

/**
 * Config-file source for the Jest project's provider: the lines loading its generated client,
 * hushfield schema and driver adapter (`PrismaClient`, `hushfieldSchema`, `adapter(url)`),
 * and a client on the connection string the expression `url` evaluates to in the child.
 */
export function providerClientSource(url: string): { setup: string; client: string } {
  const path = (relative: string) => JSON.stringify(join(ROOT, relative));
  const root = JSON.stringify(ROOT);
  const provider = testProvider();
  const generated = provider === 'postgresql' ? 'prisma/generated' : `prisma/${provider}/generated`;
  const adapter = {
    postgresql: `const { PrismaPg } = require(require.resolve('@prisma/adapter-pg', { paths: [${root}] }));
const adapter = (url) => new PrismaPg({ connectionString: url });`,
    mysql: `const { PrismaMariaDb } = require(require.resolve('@prisma/adapter-mariadb', { paths: [${root}] }));
const adapter = (url) => new PrismaMariaDb(url);`,
    sqlite: `const { PrismaBetterSqlite3 } = require(require.resolve('@prisma/adapter-better-sqlite3', { paths: [${root}] }));
const adapter = (url) => new PrismaBetterSqlite3({ url, timeout: 30000 });`,
  }[provider];
  return {
    setup: `${adapter}
const { PrismaClient } = require(${path(`${generated}/client/client.ts`)});
const { hushfieldSchema } = require(${path(`${generated}/hushfield/index.ts`)});`,
    client: `new PrismaClient({ adapter: adapter(${url}) })`,
  };
}

/** How the config's keyring is built. */
export type KeyringSpec = { kind: 'local' } | { kind: 'aws-kms'; endpoint: string; keyId: string };

/** A temp directory holding `hushfield.config.ts` and the tsconfig mapping the workspace. */
export interface CliSandbox {
  readonly dir: string;
  readonly configPath: string;
  /** Environment for the child (database URL, root key). */
  readonly env: NodeJS.ProcessEnv;
  spawn(args: readonly string[], extraEnv?: NodeJS.ProcessEnv): SpawnedCli;
  remove(): void;
}

/** A running child and its captured output. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Writes the sandbox for a database URL and a base64 root key (or a KMS keyring). */
export function createSandbox(
  databaseUrl: string,
  rootKeyBase64: string,
  keyring: KeyringSpec = { kind: 'local' },
): CliSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-cli-'));
  const path = (relative: string) => JSON.stringify(join(ROOT, relative));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        baseUrl: ROOT,
        paths: { '@hushfield/*': ['packages/*/src/index.ts'] },
        module: 'commonjs',
        target: 'es2022',
        esModuleInterop: true,
      },
    }),
  );
  const keyringCode =
    keyring.kind === 'local'
      ? `() => new LocalKeyring(Buffer.from(process.env.HUSHFIELD_TEST_ROOT_KEY as string, 'base64'))`
      : `() => { const { AwsKmsKeyring } = require(${path('packages/kms-aws/src/index.ts')});
           const { KMSClient } = require(require.resolve('@aws-sdk/client-kms', { paths: [${path('packages/kms-aws')}] }));
           return new AwsKmsKeyring({ keyId: ${JSON.stringify(keyring.keyId)}, retry: { maxAttempts: 2, baseDelayMs: 20 }, timeoutMs: 2000,
             client: new KMSClient({ endpoint: ${JSON.stringify(keyring.endpoint)}, region: 'us-east-1', maxAttempts: 1,
               credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }) }); }`;
  const configPath = join(dir, 'hushfield.config.ts');
  const source = providerClientSource('process.env.HUSHFIELD_TEST_DB_URL');
  writeFileSync(
    configPath,
    `// Written by test/cli/spawn-cli.ts.
${source.setup}
const { LocalKeyring } = require(${path('packages/core/src/index.ts')});
export default {
  schema: hushfieldSchema,
  keyring: ${keyringCode},
  prisma: () => ${source.client},
  databaseUrl: process.env.HUSHFIELD_TEST_DB_URL,
};
`,
  );
  const env = {
    ...process.env,
    HUSHFIELD_TEST_DB_URL: databaseUrl,
    HUSHFIELD_TEST_ROOT_KEY: rootKeyBase64,
    TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'),
  };
  delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not for the child
  return {
    dir,
    configPath,
    env,
    spawn(args, extraEnv = {}) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'packages/cli/src/bin.ts'), '--config', configPath, ...args],
        {
          cwd: ROOT,
          env: { ...env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
        (resolveDone) => {
          child.on('close', (code, signal) =>
            resolveDone({
              code,
              signal,
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(err).toString('utf8'),
            }),
          );
        },
      );
      return { child, done };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
