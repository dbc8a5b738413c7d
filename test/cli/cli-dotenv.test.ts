/**
 * The CLI reads `.env` the way a `prisma.config.ts` project does (issue 11): a project whose
 * `DATABASE_URL` is only in `.env` works from its directory; the environment wins over the
 * file; `--dotenv` names another file; and with no URL anywhere the failure says what is
 * missing and where the CLI looked. Runs the real binary in a child process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { testProvider } from '../support/provider';
import { ROOT, providerClientSource } from './spawn-cli';

let db: TestDatabase;
let dir: string;
const rootKey = randomBytes(32).toString('base64');

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'hushfield-env-'));
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
  writeFileSync(
    join(dir, 'prisma.config.ts'),
    "// the project's Prisma config (not read by hushfield)\nexport default {};\n",
  );
  // A config as the README shows it: everything from the environment.
  const source = providerClientSource('process.env.DATABASE_URL');
  writeFileSync(
    join(dir, 'hushfield.config.ts'),
    `
${source.setup}
const { LocalKeyring } = require(${path('packages/core/src/index.ts')});
export default {
  schema: hushfieldSchema,
  keyring: () => LocalKeyring.fromEnv(),
  prisma: () => ${source.client},
};
`,
  );
}, 60_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.close();
});

/** Runs `hushfield <args>` in the project directory with only `env` (and what node needs) set. */
function cli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'),
  };
  // tsx by path: the project directory has no node_modules of its own
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(ROOT, 'packages/cli/src/bin.ts'), ...args], {
    cwd: dir,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve) =>
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    ),
  );
}

const pglite = () => db.backend === 'pglite';

test('with DATABASE_URL and the root key only in .env, commands run from the project directory', async () => {
  if (pglite()) return; // PGlite has no URL a child process could use
  writeFileSync(join(dir, '.env'), `# the project's .env\nDATABASE_URL="${db.url}"\nHUSHFIELD_LOCAL_KEY=${rootKey}\n`);
  const result = await cli(['status', '--model', 'User', '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({
    command: 'status',
    models: [{ model: 'User', rows: 0 }],
    keyring: { ok: true },
  });
  expect(result.stdout + result.stderr).not.toContain(rootKey);
}, 60_000);

test('a variable set in the environment wins over .env', async () => {
  if (pglite()) return;
  writeFileSync(
    join(dir, '.env'),
    `DATABASE_URL=postgresql://nobody@127.0.0.1:1/nowhere\nHUSHFIELD_LOCAL_KEY=${rootKey}\n`,
  );
  const result = await cli(['keys', 'list', '--json'], { DATABASE_URL: db.url });
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({ command: 'keys list', keys: [] });
}, 60_000);

test('--dotenv names another file; a missing one is a usage error', async () => {
  if (pglite()) return;
  rmSync(join(dir, '.env'), { force: true });
  writeFileSync(join(dir, 'production.env'), `DATABASE_URL=${db.url}\nHUSHFIELD_LOCAL_KEY=${rootKey}\n`);
  expect((await cli(['keys', 'list', '--dotenv', 'production.env'])).code).toBe(0);
  const missing = await cli(['keys', 'list', '--dotenv', 'staging.env', '--json']);
  expect(missing.code).toBe(2);
  expect(JSON.parse(missing.stdout).error).toMatchObject({
    code: 'HUSHFIELD_CONFIG',
    message: `env file not found: ${join(dir, 'staging.env')}`,
  });
}, 60_000);

// The hint follows a driver's connection failure; the better-sqlite3 and mariadb adapters fail on
// an undefined URL before they connect, with no error that says so.
const onPostgres = testProvider() === 'postgresql';
(onPostgres ? test : test.skip)(
  'without DATABASE_URL anywhere, the failure says what is missing and where the CLI looked',
  async () => {
    rmSync(join(dir, '.env'), { force: true });
    const result = await cli(['keys', 'list'], { HUSHFIELD_LOCAL_KEY: rootKey, PGHOST: '127.0.0.1', PGPORT: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`hint: DATABASE_URL is not set (there is no ${join(dir, '.env')})`);
    writeFileSync(join(dir, '.env'), `HUSHFIELD_LOCAL_KEY=${rootKey}\n`);
    const doctor = await cli(['doctor', '--json'], { PGHOST: '127.0.0.1', PGPORT: '1' });
    expect(doctor.code).toBe(1);
    const database = JSON.parse(doctor.stdout).checks.find((check: { check: string }) => check.check === 'database');
    expect(database.message).toContain(`DATABASE_URL is not set (${join(dir, '.env')} does not set it)`);
  },
  60_000,
);
