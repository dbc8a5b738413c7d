/**
 * A `--workers` thread that cannot open what it works with (its Prisma client, keyring or key
 * store, built from the configuration in the thread) reports why to the main thread: the
 * summary's `stopped` carries the thread's error, not only that the thread exited.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childProcessesReachDatabase, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('scaled-thread-failure.test');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  await insertRows(world.db, 'customers', ['email', 'phone'], 100, (i) => [`user${i}@example.com`, `555-${i}`]);
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
  // The configuration's client factory fails in worker threads only (the main thread plans the run).
  const base = join(sandbox.dir, 'base.config.ts');
  renameSync(sandbox.configPath, base);
  writeFileSync(
    sandbox.configPath,
    `const config = require(${JSON.stringify(base)}).default;
const { isMainThread } = require('node:worker_threads');
const { ConfigError } = require(${JSON.stringify(join(__dirname, '..', '..', 'packages/core/src/index.ts'))});
export default {
  ...config,
  prisma: () => {
    if (!isMainThread) throw new ConfigError('no database credentials in this worker thread');
    return config.prisma();
  },
};
`,
  );
}, 60_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

(multiProcess ? test : test.skip)(
  "a worker thread that fails to start reports its error in the summary; the run's range stays open",
  async () => {
    const outcome = await (sandbox as CliSandbox).spawn([
      'reencrypt',
      '--model',
      'Customer',
      '--run',
      'thread-fails',
      '--workers',
      '2',
      '--json',
    ]).done;
    expect(outcome.code).toBe(1);
    const summary = JSON.parse(outcome.stdout);
    expect(summary.stopped).toMatchObject({
      code: 'HUSHFIELD_CONFIG',
      name: 'ConfigError',
      message: expect.stringContaining('no database credentials in this worker thread'),
    });
    for (const worker of summary.run.workers)
      expect(worker.stopped).toMatchObject({ code: 'HUSHFIELD_CONFIG', name: 'ConfigError' });
    expect(summary.run.state).toBe('running');
    const [{ n }] = await world.db.query<{ n: unknown }>(
      "SELECT count(*) AS n FROM hushfield_ranges WHERE run_id = 'thread-fails' AND state = 'pending'",
    );
    expect(Number(n)).toBe(1);
  },
  60_000,
);
