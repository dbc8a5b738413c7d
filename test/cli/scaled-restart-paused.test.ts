/**
 * `--restart` of a paused scaled-out run plans it again and keeps the pause: the restarted
 * process (and every other process of the run) waits until `runs resume`, instead of the
 * restart silently un-pausing the run for all of them.
 */
import type { BasePrismaClient } from '../../packages/cli/src/config';
import { RunStore } from '../../packages/cli/src/run-store';
import { PrismaClient } from '../../prisma/generated/client/client';
import { countRows, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';

const ROWS = 40;
let world: CliWorld;
let client: PrismaClient;

beforeAll(async () => {
  world = await createCliWorld();
  client = new PrismaClient({ adapter: world.db.adapter() });
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`user${i}@example.com`, `555-${i}`]);
}, 60_000);

afterAll(async () => {
  await client?.$disconnect();
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('--restart of a paused run plans it again and waits paused until runs resume', async () => {
  // A run that was planned (one range, 999 rows as planned then) and paused.
  const store = new RunStore(client as unknown as BasePrismaClient);
  await store.open('rp', 'reencrypt', {}, ['Customer'], async () => [
    { model: 'Customer', seq: 0, lo: null, hi: null, rows: 999 },
  ]);
  expect(await store.setState('rp', 'paused')).toBe(true);

  const restarted = world.runCli(['reencrypt', '--model', 'Customer', '--run', 'rp', '--restart', '--json']);
  let finished = false;
  void restarted.then(() => (finished = true));
  // Planned again (the ranges now count today's rows) ...
  const deadline = Date.now() + 30_000;
  while ((await store.ranges('rp')).reduce((sum, range) => sum + range.rows, 0) !== ROWS) {
    if (Date.now() > deadline || finished) throw new Error('the run was not planned again');
    await sleep(50);
  }
  // ... and still paused: over two polls of the workers, nothing was claimed or written.
  await sleep(2_500);
  expect(finished).toBe(false);
  expect((await store.get('rp'))?.state).toBe('paused');
  expect((await store.ranges('rp')).map((range) => [range.state, range.processed])).toEqual([['pending', 0]]);
  expect(await countRows(world.db, "customers WHERE email LIKE 'user%@example.com'")).toBe(ROWS);

  const resumed = await world.runCli(['runs', 'resume', 'rp', '--json']);
  expect(resumed.json).toMatchObject({ id: 'rp', state: 'running', changed: true });
  const outcome = await restarted;
  expect(outcome.code).toBe(0);
  expect(outcome.json.run.state).toBe('done');
  expect(outcome.json.models[0]).toMatchObject({ model: 'Customer', scanned: ROWS, written: ROWS });
  expect(await countRows(world.db, "customers WHERE email LIKE 'user%@example.com'")).toBe(0);
}, 60_000);
