/**
 * `keys rotate --index` publishes the new index root version as pending, leaves it so for
 * `--wait` (by default every process's `cache.indexVersionsTtlMs` and a second), then makes it
 * the version written (README, "Key rotation" → "Blind-index keys"): while it is pending every
 * process matches it and none writes it, `reencrypt` included.
 */
import { PrismaKeyStore } from '@hushfield/prisma';
import { createCliWorld, appClient, insertRows, type CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
  await insertRows(world.db, 'customers', ['email'], 20, (i) => [`p${i}@example.org`]);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WAIT_MS = 5_000;

/** The index root version of every stored `email_idx`, counted. */
async function indexVersions(): Promise<Record<string, number>> {
  const rows = await world.db.query<{ email_idx: string | null }>('SELECT email_idx FROM customers');
  const counts: Record<string, number> = {};
  for (const { email_idx } of rows) {
    const version = email_idx === null ? 'none' : email_idx.split('.')[0];
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return counts;
}

const indexStates = async () =>
  (
    await world.db.query<{ version: number; state: string }>(
      "SELECT version, state FROM hushfield_keys WHERE kind = 'index' ORDER BY version",
    )
  ).map((row) => `${Number(row.version)}:${row.state}`);

test('publishes the version as pending, written by nobody (reencrypt included) until --wait has passed, then promotes it', async () => {
  expect((await world.runCli(['reencrypt', '--model', 'Customer', '--json'])).code).toBe(0);
  expect(await indexVersions()).toEqual({ v1: 20 });

  const started = Date.now();
  const rotating = world.runCli(['keys', 'rotate', '--index', '--wait', String(WAIT_MS), '--json']);
  while (!(await indexStates()).includes('2:pending')) {
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
    await sleep(50);
  }
  expect(await indexStates()).toEqual(['1:active', '2:pending']);
  const listed = await world.runCli(['keys', 'list', '--state', 'pending', '--json']);
  expect(listed.json.keys.map((k: { kind: string; version: number }) => `${k.kind}:${k.version}`)).toEqual(['index:2']);

  // Pending: reencrypt finds nothing to rebuild, and an application writes the active version.
  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(run.code).toBe(0);
  const app = appClient(world);
  await app.customer.create({ data: { email: 'new@example.org' } });
  expect(await indexVersions()).toEqual({ v1: 21 });
  expect(Date.now() - started).toBeLessThan(WAIT_MS); // all of it while pending

  const rotated = await rotating;
  expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS);
  expect(rotated.code).toBe(0);
  expect(rotated.json.rotated).toEqual([expect.objectContaining({ kind: 'index', version: 2, state: 'active' })]);
  expect(rotated.stderr).toContain('index key v2 published as pending');
  expect(await indexStates()).toEqual(['1:retired', '2:active']);

  expect((await world.runCli(['reencrypt', '--model', 'Customer', '--json'])).code).toBe(0);
  expect(await indexVersions()).toEqual({ v2: 21 });
  // The application, which read the versions while v2 was pending, finds the rebuilt rows.
  expect((await app.customer.findUnique({ where: { emailIdx: 'p3@example.org' } }))?.email).toBe('p3@example.org');
  expect(await app.customer.count({ where: { email: { in: ['p4@example.org', 'new@example.org'] } } })).toBe(2);
}, 60_000);

test('resumes a version left pending by an interrupted run', async () => {
  const crypto = world.crypto();
  const pending = await crypto.keys.publishIndexKey(); // as a run stopped during its wait leaves it
  expect(pending.state).toBe('pending');
  const rotated = await world.runCli(['keys', 'rotate', '--index', '--wait', '200', '--json']);
  expect(rotated.code).toBe(0);
  expect(rotated.json.rotated[0]).toMatchObject({ version: pending.version, state: 'active' });
});

test('with --wait, publishes scope key versions as pending first, then promotes them; without it, rotates at once', async () => {
  for (const scope of ['acme', 'initech'])
    expect((await world.runCli(['keys', 'create', '--scope', scope])).code).toBe(0);
  const scopeStates = async () =>
    (
      await world.db.query<{ scope: string; version: number; state: string }>(
        "SELECT scope, version, state FROM hushfield_keys WHERE kind = 'scope' AND scope IN ('acme', 'initech') ORDER BY scope, version",
      )
    ).map((row) => `${row.scope}:${Number(row.version)}:${row.state}`);
  const started = Date.now();
  const rotating = world.runCli(['keys', 'rotate', '--all', '--wait', String(WAIT_MS), '--json']);
  while (!(await scopeStates()).includes('initech:2:pending')) {
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
    await sleep(50);
  }
  expect(await scopeStates()).toEqual(['acme:1:active', 'acme:2:pending', 'initech:1:active', 'initech:2:pending']);
  const rotated = await rotating;
  expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS);
  expect(rotated.code).toBe(0);
  expect(rotated.stderr).toMatch(/\d+ scope key version\(s\) published as pending/);
  expect(await scopeStates()).toEqual(['acme:1:retired', 'acme:2:active', 'initech:1:retired', 'initech:2:active']);
  const once = await world.runCli(['keys', 'rotate', '--scope', 'acme', '--json']);
  expect(once.json.rotated[0]).toMatchObject({ scope: 'acme', version: 3, state: 'active' });
  const missing = await world.runCli(['keys', 'rotate', '--scope', 'nobody', '--wait', '200', '--json']);
  expect(missing.code).not.toBe(0);
  expect(missing.json.error.code).toBe('HUSHFIELD_KEY_NOT_FOUND');
}, 60_000);

test('with a key store that has no pending state, rotates the index key in one step and says so', async () => {
  // A key store written before the pending state: PrismaKeyStore without addPending and promote.
  const base = new PrismaKeyStore(world.prisma);
  const legacy = new Proxy(base, {
    get(target, property) {
      if (property === 'addPending' || property === 'promote') return undefined;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const before = (await indexStates()).filter((state) => state.endsWith(':active'));
  expect(before).toHaveLength(1);
  const next = Number(before[0].split(':')[0]) + 1;
  const started = Date.now();
  const rotated = await world.runCli(['keys', 'rotate', '--index', '--json'], { config: { keyStore: legacy } });
  expect(rotated.code).toBe(0);
  expect(Date.now() - started).toBeLessThan(10_000); // no 31 s wait: nothing was pending
  expect(rotated.json.rotated).toEqual([expect.objectContaining({ kind: 'index', version: next, state: 'active' })]);
  expect(rotated.stderr).toContain('has no pending state');
  const states = await indexStates();
  expect(states).toContain(`${next}:active`);
  expect(states.filter((state) => state.endsWith(':pending') || state.endsWith(':active'))).toEqual([`${next}:active`]);
});
