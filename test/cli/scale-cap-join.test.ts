/**
 * The run's caps are stored with the run, and a process that joins with a new cap changes it
 * for every process already working on the run, including one started without any cap.
 */
import { childProcessesReachDatabase, createCliWorld, appClient, insertRows } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox, SpawnedCli } from './spawn-cli';

// Enough that the uncapped process (about 2,700 rows/s on an idle 2-core machine) cannot finish
// before the pause reaches it.
const ROWS = 12_000;
const RUN = 'cap-later';
let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('scale-cap-join.test');
const spawned: SpawnedCli[] = [];

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`user${i}@example.com`, `555-${i}`]);
  // The scope and index keys exist before any worker starts.
  await appClient(world).customer.update({ where: { id: 1 }, data: { email: 'first@example.net' } });
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
}, 120_000);

afterAll(async () => {
  for (const child of spawned) child.child.kill('SIGKILL');
  await Promise.all(spawned.map((child) => child.done));
  sandbox?.remove();
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function progress(): Promise<{ processed: number; claimed: number; cap: number | undefined }> {
  const [row] = await world.db.query<{ processed: unknown; claimed: unknown }>(
    `SELECT coalesce(sum(processed), 0) AS processed,
            coalesce(sum(CASE WHEN state = 'claimed' THEN 1 ELSE 0 END), 0) AS claimed
       FROM hushfield_ranges WHERE run_id = $1`,
    [RUN],
  );
  const [run] = await world.db.query<{ detail: string | null }>('SELECT detail FROM hushfield_runs WHERE id = $1', [
    RUN,
  ]);
  const cap = (JSON.parse(run?.detail ?? '{}') as { maxRowsPerSecond?: number }).maxRowsPerSecond;
  return { processed: Number(row.processed), claimed: Number(row.claimed), cap };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failed: unknown;
  while (
    !(await probe().catch((error: unknown) => {
      failed = error;
      return false;
    }))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: failed });
    await sleep(100);
  }
}

(multiProcess ? test : test.skip)(
  'a process started without a cap follows the --max-rows-per-second another process sets on the run',
  async () => {
    const CAP = 100;
    // Batches of 20: a range's progress is checkpointed per batch, so with three ranges in flight a
    // rate measured over 5 s is off by up to 3 batches (with 100 rows, ±60 rows/s of a cap of 100:
    // 40 measured under load on SQLite).
    const args = ['reencrypt', '--model', 'Customer', '--run', RUN, '--range-rows', '500', '--batch', '20'];
    // The first process has no cap, with two worker threads.
    const first = (sandbox as CliSandbox).spawn([...args, '--workers', '2']);
    spawned.push(first);
    // Two worker threads each compile the CLI first: more than 60 s on a loaded 2-core machine.
    await until('the first process to commit rows', async () => (await progress()).processed >= 500, 180_000);
    const before = { at: performance.now(), ...(await progress()) };
    await sleep(500);
    const after = { at: performance.now(), ...(await progress()) };
    const uncapped = ((after.processed - before.processed) * 1000) / (after.at - before.at);
    // Paused while the second process joins with a cap, so the first one cannot finish meanwhile.
    expect((await world.runCli(['runs', 'pause', RUN])).code).toBe(0);
    await until('the ranges to be released', async () => (await progress()).claimed === 0, 30_000);
    const second = (sandbox as CliSandbox).spawn([...args, '--max-rows-per-second', String(CAP)]);
    spawned.push(second);
    await until('the cap to be stored with the run', async () => (await progress()).cap === CAP);
    expect((await world.runCli(['runs', 'resume', RUN])).code).toBe(0);

    // Past the first seconds (each process's first poll), the run's rows/s as checkpointed.
    await sleep(2_500);
    const start = { at: performance.now(), ...(await progress()) };
    await sleep(5_000);
    const end = { at: performance.now(), ...(await progress()) };
    const measured = ((end.processed - start.processed) * 1000) / (end.at - start.at);
    process.stdout.write(
      `scale-cap-join: ${Math.round(measured)} rows/s under a cap of ${CAP} set by a joiner (${Math.round(uncapped)} rows/s before)\n`,
    );
    expect(end.processed).toBeLessThan(ROWS);
    expect(measured).toBeGreaterThan(CAP * 0.5);
    expect(measured).toBeLessThan(CAP * 1.5);
  },
  // 90 s at a load average of 20 (two busy processes beside Jest: more than 60 s before the first commit).
  300_000,
);
