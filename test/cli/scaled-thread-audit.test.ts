/**
 * A `--workers` thread builds its own audit sink from the configuration: the events its
 * keyring calls emit there must be written before the thread ends, as the main thread's are
 * (the CLI closes the sink at the end of every command).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childProcessesReachDatabase, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

let world: CliWorld;
let sandbox: CliSandbox | undefined;
let log: string;
const multiProcess = childProcessesReachDatabase('scaled-thread-audit.test');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  await insertRows(world.db, 'customers', ['email', 'phone'], 100, (i) => [`user${i}@example.com`, `555-${i}`]);
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
  log = join(sandbox.dir, 'audit.log');
  const base = join(sandbox.dir, 'base.config.ts');
  renameSync(sandbox.configPath, base);
  // Each event is noted when emitted and again when the queueing sink writes it.
  writeFileSync(
    sandbox.configPath,
    `const config = require(${JSON.stringify(base)}).default;
const { appendFileSync } = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const { BatchingAuditSink } = require(${JSON.stringify(join(__dirname, '..', '..', 'packages/core/src/index.ts'))});
const note = (what, events) => {
  for (const event of events) appendFileSync(${JSON.stringify(log)}, JSON.stringify({ what, main: isMainThread, operation: event.operation }) + '\\n');
};
const sink = new BatchingAuditSink(async (events) => note('written', events), { name: 'thread-test' });
export default {
  ...config,
  actor: () => ({ user: 'test' }),
  audit: { emit: (event) => { note('emitted', [event]); sink.emit(event); }, close: () => sink.close() },
};
`,
  );
}, 60_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

(multiProcess ? test : test.skip)(
  "a worker thread's audit events are written before it ends",
  async () => {
    const outcome = await (sandbox as CliSandbox).spawn([
      'reencrypt',
      '--model',
      'Customer',
      '--run',
      'thread-audit',
      '--workers',
      '2',
      '--json',
    ]).done;
    expect([outcome.code, outcome.stderr]).toEqual([0, expect.not.stringMatching(/HUSHFIELD_AUDIT/)]);
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { what: string; main: boolean; operation: string });
    const inThreads = lines.filter((line) => !line.main);
    const emitted = inThreads.filter((line) => line.what === 'emitted').length;
    expect(emitted).toBeGreaterThan(0);
    expect(inThreads.filter((line) => line.what === 'written').length).toBe(emitted);
  },
  120_000,
);
