/**
 * Controls of a scaled-out run: the `--max-rows-per-second` cap (two worker threads of one
 * process, measured from the outside, in the database), a pause that reaches a running
 * process and outlives its restart, `status --run` and `runs list`, workers on the main thread
 * (a preloaded config), and the options a scaled-out run refuses.
 */
import { childProcessesReachDatabase, createCliWorld, appClient, insertRows } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

const ROWS = 12_000;
let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('scale-control.test');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`user${i}@example.com`, `555-${i}`]);
  // The scope and index keys exist before any worker starts.
  await appClient(world).customer.update({ where: { id: 1 }, data: { email: 'first@example.net' } });
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
}, 120_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function progress(run: string): Promise<{ processed: number; claimed: number; rows: number }> {
  const [row] = await world.db.query<{ processed: unknown; claimed: unknown; rows: unknown }>(
    `SELECT coalesce(sum(processed), 0) AS processed, coalesce(sum("rows"), 0) AS "rows",
            coalesce(sum(CASE WHEN state = 'claimed' THEN 1 ELSE 0 END), 0) AS claimed
       FROM hushfield_ranges WHERE run_id = $1`,
    [run],
  );
  return { processed: Number(row.processed), claimed: Number(row.claimed), rows: Number(row.rows) };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const maybe = multiProcess ? test : test.skip;

maybe(
  'two worker threads under --max-rows-per-second 250 read 250 rows/s within 10%',
  async () => {
    // Well under what two threads do on a loaded 2-core machine (with two busy processes beside
    // Jest: about 620 rows/s on PostgreSQL, 320 on SQLite, 2,700 idle), so the rate measured is
    // the cap's, not the machine's: 800 measured 623 rows/s there, and 400 on SQLite 318.
    const CAP = 250;
    const run = (sandbox as CliSandbox).spawn([
      'reencrypt',
      '--model',
      'Customer',
      '--run',
      'capped',
      '--workers',
      '2',
      '--max-rows-per-second',
      String(CAP),
      '--range-rows',
      '2000',
      '--batch',
      '200',
      '--json',
    ]);
    let exited = false;
    void run.done.then(() => (exited = true));
    // Rows checkpointed over time, read from the database (not from the CLI's own report).
    const samples: { at: number; processed: number }[] = [];
    while (!exited) {
      const { processed } = await progress('capped').catch(() => ({ processed: 0 }));
      samples.push({ at: performance.now(), processed });
      await sleep(200);
    }
    const outcome = await run.done;
    expect({ code: outcome.code, stderr: outcome.code === 0 ? '' : outcome.stderr + outcome.stdout }).toEqual({
      code: 0,
      stderr: '',
    });
    const summary = JSON.parse(outcome.stdout);
    expect(summary.run.threads).toBe(true);
    expect(summary.run.workers).toHaveLength(2);
    for (const worker of summary.run.workers) expect(worker.rows).toBeGreaterThan(0);
    expect(summary.models[0]).toMatchObject({ scanned: ROWS, failed: 0, pending: 0 });

    // The steady part of the run: past the first 10% (threads starting) and before the last 10%.
    const first = samples.find((sample) => sample.processed >= ROWS * 0.1) as (typeof samples)[number];
    const last = [...samples].reverse().find((sample) => sample.processed <= ROWS * 0.9) as (typeof samples)[number];
    const measured = ((last.processed - first.processed) * 1000) / (last.at - first.at);
    process.stdout.write(
      `scale-control: ${Math.round(measured)} rows/s under a cap of ${CAP} over ` +
        `${((last.at - first.at) / 1000).toFixed(1)} s (${last.processed - first.processed} rows)\n`,
    );
    expect(last.at - first.at).toBeGreaterThan(8000);
    expect(measured).toBeGreaterThan(CAP * 0.9);
    expect(measured).toBeLessThan(CAP * 1.1);
  },
  // 48 s of capped rows, after two worker threads compile the CLI: 90 s and more on a loaded machine.
  240_000,
);

maybe(
  'a pause reaches a running process, outlives its restart, and resume finishes the run',
  async () => {
    const RUN = 'paused';
    const args = ['reencrypt', '--model', 'Customer', '--run', RUN, '--max-rows-per-second', '1500'];
    const first = (sandbox as CliSandbox).spawn([...args, '--range-rows', '1000', '--batch', '200', '--json']);
    let firstErr = '';
    first.child.stderr?.on('data', (chunk: Buffer) => (firstErr += chunk.toString('utf8')));
    await until(
      'rows to be processed',
      async () => (await progress(RUN).catch(() => ({ processed: 0 }))).processed >= 2000,
    );

    const paused = await world.runCli(['runs', 'pause', RUN, '--json']);
    expect(paused.code).toBe(0);
    expect(paused.json).toMatchObject({ id: RUN, state: 'paused', changed: true });
    // Workers finish their batch and give their range back. No claim counted is not enough: a
    // worker that polled just before the pause and had finished its range claims one more (its
    // heartbeat gives it back within a poll); once the worker says the run is paused, it claims
    // nothing until the run resumes.
    await until('the worker to wait for the resume', async () => firstErr.includes(`run ${RUN} is paused`), 30_000);
    await until('the ranges to be released', async () => (await progress(RUN)).claimed === 0, 30_000);
    const atPause = (await progress(RUN)).processed;
    expect(atPause).toBeLessThan(ROWS);

    // Killed while paused, restarted: the new process waits too.
    first.child.kill('SIGKILL');
    await first.done;
    const second = (sandbox as CliSandbox).spawn([...args, '--json']);
    await sleep(4000);
    expect(await progress(RUN)).toMatchObject({ processed: atPause, claimed: 0 });
    const status = await world.runCli(['status', '--run', RUN, '--json']);
    expect(status.code).toBe(0);
    const shown = status.json as { run: { state: string }; ranges: { state: string; owner: string | null }[] };
    expect(shown.run.state).toBe('paused');
    expect(shown.ranges).toHaveLength(ROWS / 1000 + 1);
    expect(shown.ranges.some((range) => range.state === 'done' && range.owner?.includes(`:${first.child.pid}:`))).toBe(
      true,
    );

    const resumed = await world.runCli(['runs', 'resume', RUN, '--json']);
    expect(resumed.json).toMatchObject({ id: RUN, state: 'running', changed: true });
    const outcome = await second.done;
    expect({ code: outcome.code, stderr: outcome.code === 0 ? '' : outcome.stderr + outcome.stdout }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(await progress(RUN)).toMatchObject({ processed: ROWS, claimed: 0 });
    const list = await world.runCli(['runs', 'list', '--json']);
    expect((list.json as { runs: { id: string; state: string }[] }).runs).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: RUN, state: 'done' })]),
    );
  },
  120_000,
);

maybe(
  'workers on the main thread when the config is preloaded; a done run is not run again',
  async () => {
    const result = await world.runCli([
      'reencrypt',
      '--model',
      'Customer',
      '--run',
      'here',
      '--workers',
      '2',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const summary = result.json as {
      run: { threads: boolean; workers: { rows: number }[] };
      models: { scanned: number }[];
    };
    expect(summary.run.threads).toBe(false);
    expect(summary.run.workers).toHaveLength(2);
    expect(summary.models[0].scanned).toBe(ROWS);
    const again = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'here', '--json']);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ models: [], run: { state: 'done' } });
  },
  120_000,
);

maybe('refuses --dry-run with --run, a malformed run id, and an unknown run', async () => {
  const dry = await world.runCli(['reencrypt', '--run', 'x', '--dry-run']);
  expect(dry.code).toBe(2);
  expect(dry.stderr).toMatch(/--dry-run cannot be combined/);
  const bad = await world.runCli(['reencrypt', '--run', 'no spaces; please']);
  expect(bad.code).toBe(2);
  expect((await world.runCli(['runs', 'pause', 'nope'])).code).toBe(2);
  expect((await world.runCli(['status', '--run', 'nope'])).code).toBe(2);
});
