/**
 * `reencrypt` (a separate process) racing the application writing the same rows: the CLI's
 * compare-and-swap must never overwrite an application write. Afterwards every row holds
 * the application's latest value, correctly encrypted under the new key version, with its
 * blind index matching.
 */
import { randomUUID } from 'node:crypto';
import { childProcessesReachDatabase, createCliWorld, appClient, emailIndexSpec } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';
import type { CliSandbox } from './spawn-cli';

const USERS = 2000;
const original = new Map<string, string>();
const TENANTS = ['t1', 't2', 't3'];
let world: CliWorld;
let sandbox: CliSandbox | undefined;
const multiProcess = childProcessesReachDatabase('concurrent-writer.test');

beforeAll(async () => {
  world = await createCliWorld();
  if (!multiProcess) return;
  const app = appClient(world);
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: randomUUID(),
    tenantId: TENANTS[i % TENANTS.length],
    name: `user ${i}`,
    email: `user${i}@example.com`,
    ssn: `123-45-${String(i).padStart(4, '0')}`,
  }));
  for (const user of users) original.set(user.id, user.email);
  await app.user.createMany({ data: users });
  sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
}, 300_000);

afterAll(async () => {
  sandbox?.remove();
  await world?.close();
});

(multiProcess ? test : test.skip)(
  'every row keeps the application write that raced the re-encryption',
  async () => {
    const rotate = await world.runCli(['keys', 'rotate', '--all', '--json']);
    expect(rotate.code).toBe(0);
    expect(rotate.json.rotated).toHaveLength(TENANTS.length);

    const app = appClient(world); // created after the rotation: writes the new version
    const ids = (await world.db.query<{ id: string }>('SELECT id FROM users ORDER BY id')).map((row) => row.id);
    const latest = new Map<string, string>();
    const run = (sandbox as CliSandbox).spawn([
      'reencrypt',
      '--model',
      'User',
      '--batch',
      '100',
      '--concurrency',
      '2',
      '--json',
    ]);
    let exited = false;
    void run.done.then(() => (exited = true));
    let generation = 0;
    let updates = 0;
    while (!exited) {
      generation++;
      const picked = Array.from({ length: 20 }, () => ids[Math.floor(Math.random() * ids.length)]);
      await Promise.all(
        [...new Set(picked)].map(async (id) => {
          const email = `changed-${generation}-${id.slice(0, 8)}@example.net`;
          await app.user.update({ where: { id }, data: { email } });
          latest.set(id, email);
          updates++;
        }),
      );
      // On SQLite (better-sqlite3 answers synchronously) the updates settle as microtasks only:
      // without a turn of the event loop, the CLI's exit would never be seen and this loop spin.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const finished = await run.done;
    expect(finished.code).toBe(0);
    const result = JSON.parse(finished.stdout).models[0];
    process.stdout.write(
      `concurrent writer: ${updates} application updates, ${result.lostRaces} lost races retried, ${result.written} rows re-encrypted\n`,
    );
    expect(result.failed).toBe(0);
    expect(result.pending).toBe(0);
    expect(updates).toBeGreaterThan(0);

    const crypto = world.crypto();
    const stored = await world.db.query<{
      id: string;
      tenantId: string;
      email: string;
      email_idx: string;
      ssn: string;
    }>('SELECT id, "tenantId", email, email_idx, ssn FROM users ORDER BY id');
    expect(stored).toHaveLength(USERS);
    const active = new Map<string, number>();
    for (const tenant of TENANTS) active.set(tenant, (await crypto.keys.activeScopeKey(tenant)).version);
    const spec = emailIndexSpec('users');
    for (const row of stored) {
      expect(crypto.describe(row.email).version).toBe(active.get(row.tenantId));
      expect(crypto.describe(row.ssn).version).toBe(2);
      const email = await crypto.decrypt(row.email, { model: 'users', field: 'email', rowId: row.id });
      expect(email).toBe(latest.get(row.id) ?? original.get(row.id));
      expect(await crypto.blindIndex(spec, email)).toBe(row.email_idx);
    }
    // Through the application: every value reads back.
    const read = await app.user.findMany({ select: { id: true, email: true } });
    for (const user of read) if (latest.has(user.id)) expect(user.email).toBe(latest.get(user.id));
  },
  300_000,
);
