/**
 * Concurrent first use of a scope creates exactly one active key. On PostgreSQL, MySQL/MariaDB
 * and SQLite (a file several processes open) the racers are
 * separate processes (`key-store.child.ts`), each with its own Prisma client, key store and
 * key hierarchy, released together; on PGlite (one process by nature) they are key
 * hierarchies on separate Prisma clients in this process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyHierarchy, LocalKeyring } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createPrisma, createTestDatabase, type TestDatabase } from './support/database';
import { testProvider } from './support/provider';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..');
const RACERS = 4;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.close();
});

interface Racer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  readonly result: Promise<{ keyId: string; version: number }>;
}

/** Starts one child; `ready` resolves once it is connected, `result` when it has its key. */
function startRacer(env: NodeJS.ProcessEnv): Racer {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'key-store.child.ts')], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<{ keyId: string; version: number }>((resolve, reject) => {
    child.on('close', (code) => {
      const line = stdout.split('\n')[1];
      if (code === 0 && line) resolve(JSON.parse(line) as { keyId: string; version: number });
      else reject(new Error(`racer exited with ${code}: ${stderr}`));
    });
  });
  // A racer that dies before it is ready must fail the test rather than hang it.
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

const activeRows = (scope: string) =>
  db.query<{ key_id: string; version: number; state: string }>(
    "SELECT key_id, version, state FROM hushfield_keys WHERE kind = 'scope' AND scope = $1",
    [scope],
  );

describe('concurrent first use of a scope', () => {
  const rootKey = randomBytes(32);

  it('creates exactly one active key, and every racer gets it', async () => {
    await race();
  });

  // SQLite's default journal: there a reader's lock keeps a writer from committing, and racers
  // that read before they wrote deadlocked each other (libSQL's racers gave up in turn).
  (testProvider() === 'sqlite' ? it : it.skip)('does so on SQLite with a rollback journal too', async () => {
    await db.query('PRAGMA journal_mode = DELETE');
    expect(await db.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'delete' }]);
    for (let round = 0; round < 3; round++) await race();
  });

  /** Races RACERS processes (clients on PGlite) to the first key of a new scope, and checks the outcome. */
  async function race(): Promise<void> {
    const scope = `tenant-${randomBytes(4).toString('hex')}`;
    let keys: { keyId: string; version: number }[];
    if (db.backend === 'pglite') {
      // Multi-process is impossible on an in-process database: race separate clients instead.
      const clients = Array.from({ length: RACERS }, () => createPrisma(db).prisma);
      try {
        const hierarchies = clients.map(
          (client) =>
            new KeyHierarchy({
              keyring: new LocalKeyring(rootKey),
              keyStore: new PrismaKeyStore(client),
              cache: { ttlMs: 60_000 },
            }),
        );
        const active = await Promise.all(hierarchies.map((h) => h.activeScopeKey(scope)));
        keys = active.map(({ keyId, version }) => ({ keyId, version }));
      } finally {
        await Promise.all(clients.map((c) => c.$disconnect()));
      }
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'hushfield-racers-'));
      const tsconfig = join(dir, 'tsconfig.json');
      writeFileSync(
        tsconfig,
        JSON.stringify({
          compilerOptions: {
            baseUrl: ROOT,
            paths: {
              '@hushfield/core': ['packages/core/src/index.ts'],
              '@hushfield/prisma': ['packages/prisma/src/index.ts'],
            },
          },
        }),
      );
      const env = {
        ...process.env,
        DATABASE_URL: db.url,
        SCOPE: scope,
        ROOT_KEY: rootKey.toString('base64'),
        TSX_TSCONFIG_PATH: tsconfig,
      };
      delete env.NODE_OPTIONS;
      const racers = Array.from({ length: RACERS }, () => startRacer(env));
      try {
        await Promise.all(racers.map((r) => r.ready));
        for (const racer of racers) racer.child.stdin.end('go\n');
        keys = await Promise.all(racers.map((r) => r.result));
      } finally {
        for (const racer of racers) if (racer.child.exitCode === null) racer.child.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const stored = await activeRows(scope);
    expect(stored).toEqual([{ key_id: keys[0].keyId, version: 1, state: 'active' }]);
    expect(keys).toEqual(Array.from({ length: RACERS }, () => ({ keyId: stored[0].key_id, version: 1 })));
  }
});
