/**
 * Crypto-shredding with `keys shred`: confirmation rules, then t1's rows are unreadable for
 * good (KeyDestroyedError through the application client), t2's still read, and `status`
 * counts t1's rows as destroyed.
 */
import { randomUUID } from 'node:crypto';
import { KeyDestroyedError } from '@hushfield/core';
import { appClient, createCliWorld, countRows } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const ids: Record<string, string[]> = { t1: [], t2: [] };

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  for (const tenantId of ['t1', 't2']) {
    for (let i = 0; i < 6; i++) {
      const id = randomUUID();
      ids[tenantId].push(id);
      await app.user.create({
        data: {
          id,
          tenantId,
          name: `n${i}`,
          email: `${tenantId}-${i}@example.com`,
          ssn: i % 2 ? null : `000-00-000${i}`,
        },
      });
    }
  }
}, 120_000);

afterAll(async () => {
  await world?.close();
});

async function liveT1Keys(): Promise<number> {
  return countRows(world.db, "hushfield_keys WHERE scope = 't1' AND state <> 'destroyed' AND wrapped_key IS NOT NULL");
}

test('refuses to shred without --yes when stdin is not a terminal', async () => {
  const result = await world.runCli(['keys', 'shred', '--scope', 't1', '--json'], { stdinIsTTY: false });
  expect(result.code).toBe(2);
  expect(result.json.error.code).toBe('HUSHFIELD_INVALID_ARGUMENT');
  expect(await liveT1Keys()).toBe(1);
});

test('asks on a terminal and destroys nothing unless the scope name is typed', async () => {
  const result = await world.runCli(['keys', 'shred', '--scope', 't1'], { stdinIsTTY: true, stdin: 'yes\n' });
  expect(result.code).toBe(4);
  expect(result.stderr).toContain('6 row(s) become unreadable');
  expect(await liveT1Keys()).toBe(1);
});

test('shreds t1 after confirmation: t1 reads fail with KeyDestroyedError, t2 reads fine, status counts t1 as destroyed', async () => {
  const result = await world.runCli(['keys', 'shred', '--scope', 't1', '--json'], { stdinIsTTY: true, stdin: 't1\n' });
  expect(result.code).toBe(0);
  expect(result.json).toMatchObject({ scope: 't1', versionsDestroyed: 1, rowsUnreadable: { User: 6, total: 6 } });
  expect(await liveT1Keys()).toBe(0);
  const stored = await world.db.query<{ state: string; wrapped_key: string | null }>(
    `SELECT state, wrapped_key FROM hushfield_keys WHERE scope = 't1'`,
  );
  expect(stored).toEqual([{ state: 'destroyed', wrapped_key: null }]);

  const app = appClient(world);
  await expect(app.user.findUnique({ where: { id: ids.t1[0] } })).rejects.toBeInstanceOf(KeyDestroyedError);
  await expect(app.user.findUnique({ where: { id: ids.t1[0] } })).rejects.toMatchObject({
    code: 'HUSHFIELD_KEY_DESTROYED',
    scope: 't1',
  });
  const t2 = await app.user.findMany({ where: { tenantId: 't2' }, orderBy: { name: 'asc' } });
  expect(t2.map((user) => user.email)).toEqual([
    't2-0@example.com',
    't2-1@example.com',
    't2-2@example.com',
    't2-3@example.com',
    't2-4@example.com',
    't2-5@example.com',
  ]);

  const status = await world.runCli(['status', '--model', 'User', '--verify', '--json']);
  expect(status.code).toBe(0);
  const [user] = status.json.models;
  expect(user).toMatchObject({ model: 'User', rows: 12, rowsDestroyed: 6 });
  const email = user.fields.find((field: { field: string }) => field.field === 'email');
  expect(email).toMatchObject({ destroyed: 6, current: 6, plaintext: 0, unreadable: {} });
  const ssn = user.fields.find((field: { field: string }) => field.field === 'ssn');
  expect(ssn).toMatchObject({ destroyed: 3, current: 3, nulls: 6 });

  const human = await world.runCli(['status', '--model', 'User']);
  expect(human.stdout).toContain('6 under destroyed scopes');
  expect(human.stdout).not.toContain('@example.com');
});

test('reencrypt leaves shredded rows alone and reports them as failed', async () => {
  const result = await world.runCli(['keys', 'rotate', '--scope', 't2', '--json']);
  expect(result.code).toBe(0);
  const dry = await world.runCli(['reencrypt', '--model', 'User', '--dry-run', '--json']);
  expect(dry.json.models[0]).toMatchObject({ written: 6, failed: 6 });
  const run = await world.runCli(['reencrypt', '--model', 'User', '--json']);
  if (run.code !== 3) console.log(run.stdout, run.stderr);
  expect(run.code).toBe(3);
  expect(run.json.models[0]).toMatchObject({ written: 6, failed: 6 });
  expect(run.json.models[0].failures[0]).toMatchObject({ code: 'HUSHFIELD_KEY_DESTROYED' });
});
