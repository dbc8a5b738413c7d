/**
 * A process whose write failed, and which then closed its client, exits by itself: see
 * failed-write-exit.child.ts (and failed-write-settles.test.ts for the cause in-process). Before,
 * the other tenants' key creations of the failed `createMany` queried the client after its
 * `$disconnect`, which reopened its pool: on MariaDB the process never exited.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testBackend, type TestDatabase } from '../support/database';

const ROOT = join(__dirname, '..', '..');
/** How long the child may live after it said it disconnected (PostgreSQL's pool closes idle connections after 10 s). */
const EXIT_WITHIN_MS = 5_000;
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'hushfield-exit-'));
});
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await db?.close();
});

// PGlite lives in this process: a child cannot reach it.
(testBackend() === 'pglite' ? it.skip : it)(
  'exits by itself after a createMany failed on one tenant’s key and the client was disconnected',
  async () => {
    const tsconfig = join(dir, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({ compilerOptions: { baseUrl: ROOT, paths: { '@hushfield/*': ['packages/*/src/index.ts'] } } }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, TSX_TSCONFIG_PATH: tsconfig };
    delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not for the child
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'failed-write-exit.child.ts')], {
      cwd: ROOT,
      env,
    });
    let stdout = '';
    let stderr = '';
    let disconnectedAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (disconnectedAt === undefined && stdout.includes('disconnected\n')) disconnectedAt = Date.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Polled: the child's start (tsx, Prisma) takes seconds on a busy machine, its exit must not.
    let lingered = 0;
    for (;;) {
      const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 100))]);
      if (code !== 'running') {
        expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'KeyStoreError\ndisconnected\n', stderr: '' });
        break;
      }
      if (disconnectedAt !== undefined) lingered = Date.now() - disconnectedAt;
      if (lingered > EXIT_WITHIN_MS) {
        child.kill();
        throw new Error(`the process was still running ${lingered} ms after its client was disconnected`);
      }
    }
  },
  60_000,
);
