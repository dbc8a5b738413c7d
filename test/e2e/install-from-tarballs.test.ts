/**
 * Installing the packed packages into a new project outside the repository, as the README's
 * "Install into your Prisma project" section says, with npm and with pnpm (the pinned one):
 * 1. pack every package (`scripts/pack.js`, as `pnpm pack:all` does);
 * 2. in a temp dir, an app with TypeScript runs the README's install commands (pnpm with the
 *    README's pnpm-workspace.yaml), the tarball paths put in;
 * 3. `prisma generate` with the hushfield generator, offline (`PRISMA_SCHEMA_ENGINE_BINARY`);
 * 4. `tsc --strict` over the app, the generated code and the configs, under `nodenext` (ESM
 *    files and a CommonJS `.cts` one, emitted and run) and under `bundler`;
 * 5. on a new PostgreSQL database holding the app's table and the README's SQL for the
 *    hushfield tables: create, find by blind index, ciphertext only in the table, then the
 *    installed `hushfield` binary: status, keys rotate, reencrypt (which checkpoints), status.
 * Step 5 needs PostgreSQL (`TEST_DATABASE_URL`, or the container the test harness starts):
 * on PGlite alone it is skipped with a notice. npm and pnpm reach the registry for Prisma and
 * the other dependencies (their caches make a second run quick).
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ENVELOPE_PREFIX } from '@hushfield/core';
import { type EmptyDatabase, MIGRATIONS_DIR, createEmptyDatabase, migrationSql } from '../support/database';
import { type PackedPackage, ROOT, packTarballs } from '../support/tarballs';
import { README_TARBALL_DIR, readInstallDocs } from './readme-install';
import { pnpmCommand } from '../../scripts/pnpm-command';

const run = promisify(execFile);
const FIXTURE = join(__dirname, 'fixture-app');
const COMMAND_TIMEOUT = 300_000;
/** A step runs a few commands; one slow command (a cold install, tsc on a busy machine) fits. */
const STEP_TIMEOUT = 2 * COMMAND_TIMEOUT + 30_000;

const docs = readInstallDocs();
const hasPostgres = process.env.HUSHFIELD_TEST_BACKEND !== 'pglite' && Boolean(process.env.TEST_DATABASE_URL);
const itWithPostgres = hasPostgres ? it : it.skip;

let workDir: string;
let tarballDir: string;
let binDir: string;
let packed: PackedPackage[];
/** The packages the README's install commands name (the keyring packages beyond AWS are optional). */
let required: PackedPackage[];

/**
 * Runs a command to completion, with no input (a prompt ends instead of waiting) and killed
 * after `COMMAND_TIMEOUT`; on failure the error carries the command and all its output.
 */
async function exec(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<string> {
  try {
    const running = run(file, args, {
      ...options,
      maxBuffer: 64 * 1024 * 1024,
      timeout: COMMAND_TIMEOUT,
      killSignal: 'SIGKILL',
    });
    running.child.stdin?.end();
    const { stdout } = await running;
    return stdout;
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(
      `${[file, ...args].join(' ')} (in ${options.cwd}) exited ${String(failed.code)}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/** The environment of the app's commands: this one, less what Jest and the running pnpm set. */
function appEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(key) || key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return {
    ...env,
    PATH: `${binDir}:${env.PATH ?? ''}`,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    // Offline, as the README's note says: any existing file satisfies generate's check.
    PRISMA_SCHEMA_ENGINE_BINARY: env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/** Every statement of `sql`, comments dropped and whitespace collapsed. */
function statements(sql: string): string[] {
  return sql
    .replace(/--.*$/gm, '')
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'hushfield-install-'));
  expect(relative(ROOT, workDir).startsWith('..')).toBe(true); // outside the workspace
  tarballDir = join(workDir, 'tarballs');
  packed = packTarballs(tarballDir);
  required = packed.filter((pkg) => docs.npm.includes(basename(pkg.filename)));
  // `pnpm` in the README's commands is the pinned pnpm, whatever else is on PATH.
  binDir = join(workDir, 'bin');
  mkdirSync(binDir);
  const pnpm = pnpmCommand();
  const shim = join(binDir, 'pnpm');
  writeFileSync(shim, `#!/bin/sh\nexec ${[pnpm.command, ...pnpm.args].map((part) => `'${part}'`).join(' ')} "$@"\n`);
  chmodSync(shim, 0o755);
  if (!hasPostgres) {
    console.warn(
      'install-from-tarballs: no PostgreSQL (TEST_DATABASE_URL unset and no container runtime): ' +
        'the database steps are skipped; installing, generating and type-checking still run.',
    );
  }
}, STEP_TIMEOUT);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the README install section', () => {
  it('names the tarballs pack:all writes', () => {
    expect(docs.tarballNames).toEqual(packed.map((pkg) => basename(pkg.filename)).sort());
  });

  it('installs the four packages every project needs; the keyring packages are optional', () => {
    expect(required.map((pkg) => pkg.name).sort()).toEqual([
      '@hushfield/cli',
      '@hushfield/core',
      '@hushfield/kms-aws',
      '@hushfield/prisma',
    ]);
  });

  it('gives, for the hushfield tables, the SQL the migrations run', () => {
    const ours = (sql: string) =>
      statements(sql).filter((statement) => /"hushfield_(keys|checkpoints)"/.test(statement));
    expect(existsSync(MIGRATIONS_DIR)).toBe(true);
    expect(statements(docs.sql)).toEqual(ours(migrationSql().join(';\n')));
  });
});

describe.each(['npm', 'pnpm'] as const)('a new project installing the tarballs with %s', (manager) => {
  let app: string;
  let database: EmptyDatabase | undefined;
  const rootKey = Buffer.alloc(32, 7).toString('base64');

  const inApp = (file: string, args: readonly string[], extra?: NodeJS.ProcessEnv) =>
    exec(file, args, { cwd: app, env: appEnv(extra) });
  const withDatabase = (): NodeJS.ProcessEnv => ({ DATABASE_URL: database!.url, HUSHFIELD_LOCAL_KEY: rootKey });
  const tsc = (project: string) =>
    inApp(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]);
  const hushfield = (args: readonly string[]) =>
    inApp(join(app, 'node_modules', '.bin', 'hushfield'), args, withDatabase());

  beforeAll(() => {
    app = join(workDir, `app-${manager}`);
    cpSync(FIXTURE, app, { recursive: true });
    // An existing TypeScript project, with the workspace's versions of the tools (cached).
    const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const devDependencies = {
      typescript: rootManifest.devDependencies.typescript,
      '@types/node': rootManifest.devDependencies['@types/node'],
    };
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: `hushfield-install-${manager}`, private: true, type: 'module', devDependencies }, null, 2)}\n`,
    );
    const schema = readFileSync(join(app, 'prisma', 'app.prisma'), 'utf8');
    writeFileSync(join(app, 'prisma', 'schema.prisma'), `${schema}\n${docs.models}`);
    if (manager === 'pnpm')
      writeFileSync(join(app, 'pnpm-workspace.yaml'), docs.pnpmWorkspace.replaceAll(README_TARBALL_DIR, tarballDir));
  });

  afterAll(async () => {
    await database?.drop();
  });

  it(
    "installs the four tarballs with the README's commands",
    async () => {
      const commands = (manager === 'npm' ? docs.npm : docs.pnpm).replaceAll(README_TARBALL_DIR, tarballDir);
      await inApp('sh', ['-e', '-c', commands]);
      for (const pkg of required) {
        const installed = JSON.parse(readFileSync(join(app, 'node_modules', pkg.name, 'package.json'), 'utf8')) as {
          version: string;
        };
        expect({ name: pkg.name, version: installed.version }).toEqual({ name: pkg.name, version: pkg.version });
      }
      // One copy of core, the tarball's, whichever package asks for it.
      if (manager === 'pnpm') {
        expect(
          readdirSync(join(app, 'node_modules', '.pnpm')).filter((entry) => entry.startsWith('@hushfield+core@')),
        ).toHaveLength(1);
      } else {
        const nested = ['prisma', 'kms-aws', 'cli'].filter((dir) =>
          existsSync(join(app, 'node_modules', '@hushfield', dir, 'node_modules', '@hushfield', 'core')),
        );
        expect(nested).toEqual([]);
      }
    },
    STEP_TIMEOUT,
  );

  it(
    'generates the client and the hushfield metadata with the installed generator, offline',
    async () => {
      await inApp(
        manager === 'npm' ? 'npx' : 'pnpm',
        manager === 'npm' ? ['--no', 'prisma', 'generate'] : ['exec', 'prisma', 'generate'],
      );
      const metadata = readFileSync(join(app, 'prisma', 'generated', 'hushfield', 'index.ts'), 'utf8');
      expect(metadata).toContain('"Patient"');
      expect(metadata).toContain('"keyStoreModel": "HushfieldKey"');
    },
    STEP_TIMEOUT,
  );

  it(
    'type-checks with tsc --strict under nodenext (ESM and CommonJS files) and bundler',
    async () => {
      await tsc('tsconfig.json');
      await tsc('tsconfig.bundler.json');
    },
    STEP_TIMEOUT,
  );

  it(
    'imports every package by name from ESM and from CommonJS at run time',
    async () => {
      const expected = {
        LocalKeyring: 'function',
        isEnvelope: 'function',
        AwsKmsKeyring: 'function',
        computedBlindIndex: 'string',
        fieldEncryption: 'function',
        ExitCode: 'object',
        defineConfig: 'function',
      };
      expect(JSON.parse(await inApp(process.execPath, ['dist/src/exports.js']))).toEqual(expected);
      expect(JSON.parse(await inApp(process.execPath, ['dist/src/exports-cjs.cjs']))).toEqual(expected);
    },
    STEP_TIMEOUT,
  );

  itWithPostgres(
    'creates a row and finds it by its blind index; the table holds only ciphertext',
    async () => {
      database = await createEmptyDatabase(process.env.TEST_DATABASE_URL as string);
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query(readFileSync(join(app, 'prisma', 'app.sql'), 'utf8'));
        await client.query(docs.sql);
        const result = JSON.parse(await inApp(process.execPath, ['dist/src/main.js'], withDatabase())) as Record<
          string,
          unknown
        >;
        expect(result).toMatchObject({ email: 'ada@example.com', notes: 'allergic to penicillin' });
        expect(result.found).toBe(result.created);
        expect(result.unique).toBe(result.created);
        const rows = (await client.query('SELECT email, email_idx, notes FROM patients')).rows as {
          email: string;
          email_idx: string;
          notes: string;
        }[];
        expect(rows).toHaveLength(1);
        expect(rows[0].email.startsWith(ENVELOPE_PREFIX)).toBe(true);
        expect(rows[0].notes.startsWith(ENVELOPE_PREFIX)).toBe(true);
        expect(JSON.stringify(rows)).not.toMatch(/ada@example|penicillin/i);
        const keys = (await client.query('SELECT kind, scope, wrapped_key FROM hushfield_keys ORDER BY kind')).rows;
        expect(keys).toEqual([
          { kind: 'index', scope: expect.any(String), wrapped_key: expect.any(String) },
          { kind: 'scope', scope: 'acme', wrapped_key: expect.any(String) },
        ]);
      } finally {
        await client.end();
      }
    },
    STEP_TIMEOUT,
  );

  itWithPostgres(
    'runs the installed hushfield binary: status, keys rotate, reencrypt (checkpointed), status',
    async () => {
      type Status = {
        models: {
          model: string;
          rows: number;
          fields: {
            field: string;
            plaintext: number;
            current: number;
            versions: { version: number; count: number }[];
          }[];
        }[];
        keyring: { ok: boolean };
      };
      const before = JSON.parse(await hushfield(['status', '--json'])) as Status;
      expect(before.keyring.ok).toBe(true);
      const patient = before.models.find((model) => model.model === 'Patient');
      expect(patient?.rows).toBe(1);
      expect(patient?.fields.find((field) => field.field === 'email')).toMatchObject({
        plaintext: 0,
        current: 1,
        versions: [{ version: 1, count: 1 }],
      });

      await hushfield(['keys', 'rotate', '--scope', 'acme', '--json']);
      const reencrypt = JSON.parse(await hushfield(['reencrypt', '--json'])) as {
        models: { model: string; written: number; failed: number }[];
      };
      expect(reencrypt.models).toEqual([expect.objectContaining({ model: 'Patient', written: 1, failed: 0 })]);

      const after = JSON.parse(await hushfield(['status', '--json'])) as Status;
      const email = after.models
        .find((model) => model.model === 'Patient')
        ?.fields.find((field) => field.field === 'email');
      expect(email).toMatchObject({ current: 1, versions: [{ version: 2, count: 1 }] });
      const client = new Client({ connectionString: database!.url });
      await client.connect();
      try {
        expect((await client.query('SELECT id, state FROM hushfield_checkpoints')).rows).toEqual([
          { id: 'reencrypt:Patient', state: 'done' },
        ]);
      } finally {
        await client.end();
      }
    },
    STEP_TIMEOUT,
  );
});
