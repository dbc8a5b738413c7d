/**
 * Crash safety of `reencrypt`: the process is SIGKILLed mid-run, then rerun with `--resume`.
 * Every row must end under the target key version, decrypt to its original value (never
 * encrypted twice), none lost, and the rerun must start after the checkpoint.
 */
import { childProcessesReachDatabase, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

const ROWS = 12_000;
let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('resume.test: the SIGKILL and SIGTERM tests');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`person${i}@example.org`, `+44 20 ${i}`]);
  const first = await world.runCli(['reencrypt', '--json']);
  expect(first.code).toBe(0);
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
}, 300_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

async function checkpoint(): Promise<{ cursor: string | null; processed: number; state: string } | undefined> {
  const [row] = await world.db.query<{ cursor: string | null; processed: number; state: string }>(
    `SELECT "cursor", processed, state FROM hushfield_checkpoints WHERE id = 'reencrypt:Customer'`,
  );
  return row;
}

(multiProcess ? test : test.skip)(
  'a SIGKILLed reencrypt resumes after its checkpoint and leaves every row under the new version exactly once',
  async () => {
    const rotated = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json']);
    expect(rotated.code).toBe(0);
    expect(rotated.json.rotated[0].version).toBe(2);
    const before = await world.db.query<{ id: number; email_idx: string }>(
      'SELECT id, email_idx FROM customers ORDER BY id',
    );

    const run = (sandbox as CliSandbox).spawn([
      'reencrypt',
      '--model',
      'Customer',
      '--batch',
      '500',
      '--concurrency',
      '2',
    ]);
    const started = Date.now();
    let seen: Awaited<ReturnType<typeof checkpoint>>;
    for (;;) {
      seen = await checkpoint();
      if (seen && seen.state === 'running' && seen.processed >= 2000) break;
      if (run.child.exitCode !== null)
        throw new Error(`reencrypt ended before it could be killed:\n${(await run.done).stderr}`);
      if (Date.now() - started > 60_000) throw new Error('reencrypt made no progress');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');

    const atKill = await checkpoint();
    expect(atKill?.state).toBe('running');
    expect(atKill?.processed).toBeGreaterThanOrEqual(2000);
    expect(atKill?.processed).toBeLessThan(ROWS);
    const crypto = world.crypto();
    const describeAll = async () =>
      (
        await world.db.query<{ id: number; email: string; phone: string }>(
          'SELECT id, email, phone FROM customers ORDER BY id',
        )
      ).map((row) => ({
        ...row,
        emailVersion: crypto.describe(row.email).version,
        phoneVersion: crypto.describe(row.phone).version,
      }));
    const midway = await describeAll();
    const moved = midway.filter((row) => row.emailVersion === 2).length;
    expect(moved).toBeGreaterThanOrEqual(atKill?.processed ?? 0);
    expect(moved).toBeLessThan(ROWS);

    const resumed = await world.runCli(['reencrypt', '--model', 'Customer', '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const result = resumed.json.models[0];
    expect(result.resumedFrom).toBe(atKill?.cursor);
    expect(result.scanned).toBe(ROWS - (atKill?.processed ?? 0));
    expect(result.failed).toBe(0);
    expect(resumed.stderr).toContain('resuming after');

    const after = await describeAll();
    expect(after).toHaveLength(ROWS);
    expect(after.every((row) => row.emailVersion === 2 && row.phoneVersion === 2)).toBe(true);
    const emails = await crypto.decryptMany(
      after.map((row) => ({ value: row.email, ctx: { model: 'customers', field: 'email' } })),
    );
    const phones = await crypto.decryptMany(
      after.map((row) => ({ value: row.phone, ctx: { model: 'customers', field: 'phone' } })),
    );
    after.forEach((row, i) => {
      expect(emails[i]).toBe(`person${row.id}@example.org`);
      expect(phones[i]).toBe(`+44 20 ${row.id}`);
    });
    const indexes = await world.db.query<{ id: number; email_idx: string }>(
      'SELECT id, email_idx FROM customers ORDER BY id',
    );
    expect(indexes).toEqual(before);
    expect((await checkpoint())?.state).toBe('done');
  },
  300_000,
);

(multiProcess ? test : test.skip)(
  'SIGTERM stops a run after the batches in flight (exit 4) and the next run resumes after them',
  async () => {
    expect((await world.runCli(['keys', 'rotate', '--scope', 'default'])).code).toBe(0);
    const run = (sandbox as CliSandbox).spawn(['reencrypt', '--model', 'Customer', '--batch', '500', '--json']);
    const started = Date.now();
    for (
      let seen = await checkpoint();
      !(seen && seen.state === 'running' && seen.processed >= 2000);
      seen = await checkpoint()
    ) {
      if (run.child.exitCode !== null)
        throw new Error(`reencrypt ended before it could be stopped:\n${(await run.done).stderr}`);
      if (Date.now() - started > 60_000) throw new Error('reencrypt made no progress');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    run.child.kill('SIGTERM');
    const stopped = await run.done;
    expect(stopped.code).toBe(4);
    expect(stopped.stderr).toContain('stopping after the current batch');
    const result = JSON.parse(stopped.stdout);
    expect(result.stopped).toMatchObject({ model: 'Customer', code: 'INTERRUPTED' });
    const atStop = await checkpoint();
    expect(atStop?.state).toBe('running');
    expect(atStop?.processed).toBe(result.models[0].scanned);

    const resumed = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
    expect(resumed.code).toBe(0);
    expect(resumed.json.models[0]).toMatchObject({
      resumedFrom: atStop?.cursor,
      scanned: ROWS - (atStop?.processed ?? 0),
      written: ROWS - (atStop?.processed ?? 0),
    });
    const crypto = world.crypto();
    const rows = await world.db.query<{ email: string }>('SELECT email FROM customers');
    expect(new Set(rows.map((row) => crypto.describe(row.email).version))).toEqual(new Set([3]));
  },
  300_000,
);
