/**
 * A scaled-out run paused while a range is half done, then resumed in the same process: the
 * range's saved detail carries what the first pass found (here a strict plaintext value) to
 * the worker that claims it again, so the summary must count it once, not once per pass.
 */
import { randomUUID } from 'node:crypto';
import { appClient, createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const STRICT_ID = '00000000-0000-4000-8000-000000000000';
beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  const users = Array.from({ length: 3000 }, (_, i) => ({
    id: randomUUID(),
    tenantId: 't1',
    name: `u${i}`,
    email: `u${i}@example.com`,
  }));
  for (let at = 0; at < users.length; at += 1000) await app.user.createMany({ data: users.slice(at, at + 1000) });
  await world.db.query(
    `INSERT INTO users (id, "tenantId", name, email, email_idx) VALUES ('${STRICT_ID}', 't1', 'Legacy', 'legacy@example.org', 'x')`,
  );
}, 120_000);
afterAll(async () => {
  await world?.close();
});

test('pause and resume count strict plaintext once', async () => {
  const run = world.runCli([
    'reencrypt',
    '--model',
    'User',
    '--run',
    'pr',
    '--range-rows',
    '1000',
    '--batch',
    '50',
    '--max-rows-per-second',
    '400',
    '--json',
  ]);
  for (;;) {
    const r = await world.db.query<{ processed: number; state: string }>(
      `SELECT processed, state FROM hushfield_ranges WHERE run_id = 'pr' AND seq = 0`,
    );
    if (r[0] && r[0].processed >= 200 && r[0].state === 'claimed') break;
    await new Promise((res) => setTimeout(res, 10));
  }
  expect((await world.runCli(['runs', 'pause', 'pr'])).code).toBe(0);
  await new Promise((res) => setTimeout(res, 3000));
  expect((await world.runCli(['runs', 'resume', 'pr'])).code).toBe(0);
  const done = await run;
  expect(done.code).toBe(3);
  expect(done.json.models[0].strictPlaintext).toBe(1);
}, 120_000);
