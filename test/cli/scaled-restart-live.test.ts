/**
 * `--restart` of a scaled-out run while other processes' workers hold live leases on its
 * ranges is refused (exit 2, typed error naming the leases and the ways on: `runs pause`,
 * waiting, `--force-restart`) with nothing changed, instead of deleting the ranges under those
 * workers. An expired lease (a killed process) does not count; `--force-restart` restarts
 * under live leases, whose workers then lose their ranges (LeaseLostError) and nothing else.
 */
import { InvalidArgumentError } from '@hushfield/core';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import type { PlannedRange } from '../../packages/cli/src/run-records';
import { LeaseLostError, RunStore } from '../../packages/cli/src/run-store';
import { PrismaClient } from '../../prisma/generated/client/client';
import { countRows, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';

const ROWS = 40;
const DETAIL = { startedAt: '2026-12-07T00:00:00.000Z', pending: [] };
let world: CliWorld;
let client: PrismaClient;
let store: RunStore;

function plan(count: number): PlannedRange[] {
  return Array.from({ length: count }, (_, seq) => ({
    model: 'Customer',
    seq,
    lo: seq === 0 ? null : String(seq * 100),
    hi: seq === count - 1 ? null : String((seq + 1) * 100),
    rows: 100,
  }));
}

beforeAll(async () => {
  world = await createCliWorld();
  client = new PrismaClient({ adapter: world.db.adapter() });
  store = new RunStore(client as unknown as BasePrismaClient);
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`user${i}@example.com`, `555-${i}`]);
}, 60_000);

afterAll(async () => {
  await client?.$disconnect();
  await world?.close();
});

test('open with restart is refused while a lease is live, keeping the ranges; an expired or given-back one does not count', async () => {
  let planned = 0;
  const planner = async () => {
    planned++;
    return plan(2);
  };
  await store.open('busy', 'reencrypt', {}, ['Customer'], planner);
  const held = await store.claim('busy', 'host-b:77:w1', 30);
  await store.save(held!, 'host-b:77:w1', '5', 5, DETAIL, 'claimed');
  const refused = store.open('busy', 'reencrypt', {}, ['Customer'], planner, { restart: true });
  await expect(refused).rejects.toBeInstanceOf(InvalidArgumentError);
  await expect(refused).rejects.toMatchObject({
    argument: 'restart',
    message: expect.stringMatching(/1 live lease\(s\).*runs pause busy.*--force-restart/s),
  });
  // Nothing changed: the worker's range, cursor and lease are as they were, and it can save.
  expect(planned).toBe(1);
  expect((await store.ranges('busy')).map((r) => [r.seq, r.state, r.owner, r.cursor])).toEqual([
    [0, 'claimed', 'host-b:77:w1', '5'],
    [1, 'pending', null, null],
  ]);
  await store.save(held!, 'host-b:77:w1', '7', 7, DETAIL, 'claimed');

  // Given back (a pause): the restart goes ahead.
  await store.release(held!, 'host-b:77:w1');
  await store.open('busy', 'reencrypt', {}, ['Customer'], planner, { restart: true });
  expect(planned).toBe(2);
  expect((await store.ranges('busy')).every((r) => r.state === 'pending' && r.processed === 0)).toBe(true);

  // A lease that expired (its process was killed) does not hold a restart back.
  const stale = await store.claim('busy', 'host-c:9:w1', 1);
  expect(stale).not.toBeNull();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await store.open('busy', 'reencrypt', {}, ['Customer'], planner, { restart: true });
  expect(planned).toBe(3);
});

test('open with restart over live leases (--force-restart) plans again; the old worker loses its range, nothing else', async () => {
  await store.open('forced', 'reencrypt', {}, ['Customer'], async () => plan(1));
  const held = await store.claim('forced', 'host-b:77:w1', 30);
  await store.open('forced', 'reencrypt', {}, ['Customer'], async () => plan(2), {
    restart: true,
    overLiveLeases: true,
  });
  await expect(store.save(held!, 'host-b:77:w1', '9', 9, DETAIL, 'claimed')).rejects.toBeInstanceOf(LeaseLostError);
  expect((await store.ranges('forced')).map((r) => [r.seq, r.state, r.owner])).toEqual([
    [0, 'pending', null],
    [1, 'pending', null],
  ]);
});

test('reencrypt --restart of a run another process works on exits 2 and changes nothing; --force-restart runs it', async () => {
  await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'live', '--range-rows', '20', '--json']);
  // The run is done; another process (this test) joins a restart of it and holds a range.
  await store.open('live', 'reencrypt', {}, ['Customer'], async () => plan(2), { restart: true });
  const held = await store.claim('live', 'host-b:77:w1', 60);
  const before = await store.ranges('live');

  const refused = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'live', '--restart', '--json']);
  expect(refused.code).toBe(2);
  expect(refused.json.error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
  expect(refused.json.error.message).toMatch(/run live: --restart would delete the ranges of 1 live lease\(s\)/);
  expect(refused.json.error.message).toMatch(/hushfield runs pause live/);
  expect(refused.stderr).not.toMatch(/ranges cleared/);
  expect(refused.stdout + refused.stderr).not.toMatch(/@example\.com|555-/);
  expect(await store.ranges('live')).toEqual(before);

  const forced = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'live', '--force-restart', '--json']);
  expect(forced.code).toBe(0);
  expect(forced.stderr).toMatch(/ranges cleared \(--restart\)/);
  expect(forced.json.run.state).toBe('done');
  expect(forced.json.models[0]).toMatchObject({ model: 'Customer', scanned: ROWS });
  await expect(store.save(held!, 'host-b:77:w1', '1', 1, DETAIL, 'claimed')).rejects.toBeInstanceOf(LeaseLostError);
  expect(await countRows(world.db, "customers WHERE email LIKE 'user%@example.com'")).toBe(0);
}, 60_000);

test('--force-restart shapes a scaled-out run only, and conflicts with --resume', async () => {
  const alone = await world.runCli(['reencrypt', '--model', 'Customer', '--force-restart', '--json']);
  expect(alone.code).toBe(2);
  expect(alone.stdout + alone.stderr).toMatch(/--force-restart shapes a scaled-out run only/);
  const both = await world.runCli(['reencrypt', '--run', 'x', '--force-restart', '--resume', '--json']);
  expect(both.code).toBe(2);
});
