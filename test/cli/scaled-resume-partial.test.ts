/**
 * A scaled-out run whose process was killed after it finished a range `partial` (rows it
 * could not handle), then resumed with the same `--run`: the resuming process finishes the run
 * and must not report success (exit 0) while the run holds rows left undone.
 */
import { childProcessesReachDatabase, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

const ROWS = 6000;
const PFE = 'v1.aesgcm256.0f0e0d0c.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('scaled-resume-partial.test');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [
    i === 5 ? PFE : `person${i}@example.org`,
    `+44 20 ${i}`,
  ]);
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
}, 300_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

async function ranges(): Promise<{ seq: number; state: string }[]> {
  return world.db.query<{ seq: number; state: string }>(
    `SELECT seq, state FROM hushfield_ranges WHERE run_id = 'resumed-run' ORDER BY seq`,
  );
}

(multiProcess ? test : test.skip)(
  'the process that resumes and finishes the run exits 3 when a range of the killed process ended partial',
  async () => {
    const args = [
      'reencrypt',
      '--model',
      'Customer',
      '--run',
      'resumed-run',
      '--range-rows',
      '1000',
      '--lease-seconds',
      '2',
    ];
    const run = (sandbox as CliSandbox).spawn([...args, '--batch', '50', '--max-rows-per-second', '2000']);
    const started = Date.now();
    for (;;) {
      const seen = await ranges();
      if (seen.some((range) => range.seq === 0 && range.state === 'partial')) break;
      if (run.child.exitCode !== null) throw new Error(`ended before the kill:\n${(await run.done).stderr}`);
      if (Date.now() - started > 60_000) throw new Error('no progress');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const resumed = await world.runCli([...args, '--json']);
    const [row] = await world.db.query<{ email: string }>('SELECT email FROM customers WHERE id = 5');
    expect(row.email).toBe(PFE); // left undone, as the killed process reported before it died
    expect((await ranges()).find((range) => range.seq === 0)?.state).toBe('partial');
    expect(resumed.json.run.state).toBe('done');
    expect(resumed.json.run.ranges).toMatchObject({ total: 7, partial: 1 });
    expect(resumed.code).toBe(3);
  },
  300_000,
);

(multiProcess ? test : test.skip)('joining the finished run again does not report it clean either', async () => {
  const again = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'resumed-run', '--json']);
  expect((await ranges()).find((range) => range.seq === 0)?.state).toBe('partial');
  expect(again.code).toBe(3);
  // The summary counts them where a run that worked does (`run.ranges.partial`).
  expect(again.json.run.ranges).toMatchObject({ total: 7, partial: 1 });
});
