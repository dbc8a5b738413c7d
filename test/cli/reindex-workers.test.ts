/**
 * `reencrypt --reindex` scaled out (`--workers 2`): blind-index values left stale by a deploy
 * without the indexes, in rows of every range of two models (Customer's shared index, Contact's
 * per-organization ones over three scopes). The run is interrupted after a few batches and
 * resumed by its id; application updates (of the deploy without the indexes in the first run,
 * of the current one in the second) land between a batch's read and its write. After it, every index value is the one
 * recomputed from its row's value, every row is found by its value through the extension, the
 * raced rows keep the application's values, and the JSON counts add up over both runs. Then
 * once more from a separate process, in worker threads.
 */
import { blindIndexSpec, fieldEncryption, rowScope } from '@hushfield/prisma';
import type { HushfieldSchema } from '@hushfield/prisma';
import { PrismaClient } from '../../prisma/generated/client/client';
import { appClient, childProcessesReachDatabase, createCliWorld, createContacts, schema } from './support';
import type { CliWorld } from './support';
import { createSandbox } from './spawn-cli';

const CUSTOMERS = 30;
const ORGS = ['reindex-a', 'reindex-b', 'reindex-c'];
const CONTACTS = 6;
const RUN = 'reindex-workers';
/** The run's ranges and batches: several of each per model. */
const SCALE = ['--workers', '2', '--range-rows', '5', '--batch', '2'];
let world: CliWorld;

/** The test schema as a deploy without Customer's and Contact's blind indexes generated it. */
const unindexed = {
  ...schema,
  models: {
    ...schema.models,
    Customer: { ...schema.models.Customer, blindIndexes: {} },
    Contact: { ...schema.models.Contact, blindIndexes: {} },
  },
} as HushfieldSchema;

/** A process of the deploy without the indexes: it writes values and leaves their index values as they were. */
function unindexedApp() {
  return world.prisma.$extends(
    fieldEncryption({ schema: unindexed as typeof schema, keyring: world.keyring, cache: { ttlMs: 60_000 } }),
  ) as unknown as typeof world.prisma;
}

interface Counts {
  Customer: number;
  Contact: number;
}

/**
 * Per model, the index values that differ from the one recomputed from their row's value (read
 * through the extension) under the keys in use now: `rowsOf` lists the rows they are in.
 */
async function misindexed(rowsOf: string[] = []): Promise<Counts> {
  const crypto = world.crypto();
  const app = appClient(world);
  const stored = {
    Customer: await world.db.query<Record<string, unknown>>('SELECT id, email_idx AS "emailIdx" FROM customers'),
    Contact: await world.db.query<Record<string, unknown>>(
      'SELECT id, email_idx AS "emailIdx", phone_idx AS "phoneIdx" FROM contacts',
    ),
  };
  const plain = {
    Customer: (await app.customer.findMany()) as Record<string, unknown>[],
    Contact: (await app.contact.findMany()) as Record<string, unknown>[],
  };
  const counts: Counts = { Customer: 0, Contact: 0 };
  for (const name of ['Customer', 'Contact'] as const) {
    const model = schema.models[name];
    expect(stored[name]).toHaveLength(plain[name].length);
    for (const row of plain[name]) {
      const held = stored[name].find((candidate) => String(candidate.id) === String(row.id)) as Record<string, unknown>;
      for (const index of Object.values(model.blindIndexes)) {
        const value = row[index.source];
        const expected =
          typeof value === 'string'
            ? await crypto.blindIndex(blindIndexSpec(model, index), value, rowScope(model, row))
            : null;
        if (held[index.name] === expected) continue;
        counts[name]++;
        rowsOf.push(String(row.id));
      }
    }
  }
  return counts;
}

/** Changes the email (and a contact's phone) of every third row through the deploy without the indexes. */
async function leaveStaleValues(generation: string): Promise<void> {
  const older = unindexedApp();
  const customers = await world.prisma.customer.findMany({ select: { id: true }, orderBy: { id: 'asc' } });
  for (const { id } of customers.filter((_, i) => i % 3 === 0))
    await older.customer.update({ where: { id }, data: { email: `${generation}-${id}@example.com` } });
  const contacts = await world.prisma.contact.findMany({ select: { id: true }, orderBy: { id: 'asc' } });
  for (const [i, { id }] of contacts.entries()) {
    if (i % 3 !== 1) continue;
    await older.contact.update({
      where: { id },
      data: { email: `${generation}-${i}@contact.test`, phone: `555 07${String(i).padStart(2, '0')}` },
    });
  }
}

/** Every row is found through the extension by its value: a customer by email, a contact by email and by phone. */
async function expectEveryRowFound(): Promise<void> {
  const app = appClient(world);
  for (const { id, email } of await app.customer.findMany())
    expect((await app.customer.findFirst({ where: { email } }))?.id).toBe(id);
  for (const { id, orgId, email, phone } of await app.contact.findMany()) {
    expect((await app.contact.findFirst({ where: { orgId, email } }))?.id).toBe(id);
    expect((await app.contact.findMany({ where: { orgId, phone } })).map((contact) => contact.id)).toContain(id);
  }
}

/** The JSON result of `model` in a run's output (zeros when the run worked on none of its ranges). */
function resultOf(json: { models: Record<string, unknown>[] }, model: string): Record<string, number> {
  const zero = { scanned: 0, indexed: 0, written: 0, lostRaces: 0, failed: 0, pending: 0, moved: 0, encrypted: 0 };
  const found = json.models.find((result) => result.model === model) as Record<string, number> | undefined;
  return { ...zero, ...found };
}

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  for (let i = 1; i <= CUSTOMERS; i++) await app.customer.create({ data: { email: `user${i}@example.com` } });
  await createContacts(app, ORGS, CONTACTS);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('reencrypt --reindex --workers 2, interrupted and resumed, rebuilds every stale index value; an application update racing it wins', async () => {
  await leaveStaleValues('moved');
  const staleRows: string[] = [];
  const stale = await misindexed(staleRows);
  // An email index value in every third customer; in every third contact an email one and (unless
  // its 12 bits collide) a phone one.
  expect(stale.Customer).toBe(CUSTOMERS / 3);
  expect(stale.Contact).toBeGreaterThanOrEqual(ORGS.length * 2 * 2 - 1);
  // Customers 1 to 30, five a range, two a batch: range (5, 10] is read as [6, 7], [8, 9], [10].
  // Stale customers 7 and 28 are written by the application between a run's read and its write:
  // 7 in the first run by a process of the deploy without the index (a new value, its index
  // left stale once more), which the run then stops before it reads 7 again; 28 in the resumed
  // run by the current deploy (value and index).
  expect(staleRows).toEqual(expect.arrayContaining(['7', '28']));
  const app = appClient(world);
  const races = new Map([
    [
      7,
      { run: 1, write: () => unindexedApp().customer.update({ where: { id: 7 }, data: { email: 'old@example.com' } }) },
    ],
    [28, { run: 2, write: () => app.customer.update({ where: { id: 28 }, data: { email: 'raced@example.com' } }) }],
  ]);
  let run = 1;
  const stop = new AbortController();
  /**
   * The CLI's client: a raced row's first read in its run is answered after the application's
   * write. The first run is interrupted once it reads customer 10: a worker reads a batch ahead
   * of the one it writes, so by then the write of [6, 7] has lost its race, and 7 waits to be
   * read again (after the walk of its range, which the interruption ends first).
   */
  const hooked = (client: PrismaClient): PrismaClient =>
    new Proxy(client, {
      get(target, property, receiver) {
        // PGlite lives in this process: the CLI shares the test's client and must not disconnect it.
        if (property === '$disconnect' && target === world.prisma) return async () => undefined;
        const value = Reflect.get(target, property, receiver);
        if (property !== 'customer') return typeof value === 'function' ? value.bind(target) : value;
        return new Proxy(value as object, {
          get(delegate, method) {
            const original = Reflect.get(delegate, method);
            if (method !== 'findMany') return typeof original === 'function' ? original.bind(delegate) : original;
            return async (args: unknown) => {
              const rows = (await (original as (args: unknown) => Promise<Record<string, unknown>[]>).call(
                delegate,
                args,
              )) as Record<string, unknown>[];
              // A batch read selects the values (a range's planning reads row keys only).
              if (rows.length === 0 || !('email' in rows[0])) return rows;
              if (run === 1 && rows.some((row) => row.id === 10)) stop.abort();
              for (const row of rows) {
                const race = races.get(row.id as number);
                if (race?.run !== run) continue;
                races.delete(row.id as number);
                await race.write();
              }
              return rows;
            };
          },
        });
      },
    });
  const config = {
    prisma: () =>
      hooked(world.db.backend === 'pglite' ? world.prisma : new PrismaClient({ adapter: world.db.adapter() })),
  };
  const args = ['reencrypt', '--reindex', '--run', RUN, ...SCALE, '--json'];

  const first = await world.runCli(args, { config, signal: stop.signal });
  expect({ code: first.code, stopped: first.json?.stopped?.code }).toEqual({ code: 4, stopped: 'INTERRUPTED' });
  // Interrupted partway: some rows done, some ranges left for the resumed run.
  const rangesNow = () =>
    world.db.query<{ model: string; seq: number; state: string; processed: number; cursor: string | null }>(
      'SELECT model, seq, state, processed, "cursor" FROM hushfield_ranges WHERE run_id = $1 ORDER BY model, seq',
      [RUN],
    );
  const interrupted = await rangesNow();
  const processedThen = interrupted.reduce((sum, range) => sum + Number(range.processed), 0);
  expect(processedThen).toBeGreaterThan(0);
  expect(interrupted.filter((range) => range.state !== 'done').length).toBeGreaterThan(0);
  // The run's flags are part of it: joined without --reindex it is refused, its ranges left as they are.
  const without = await world.runCli(['reencrypt', '--run', RUN, ...SCALE, '--json'], { config });
  expect(without.code).toBe(2);
  expect(without.stdout + without.stderr).toContain('--reindex');
  expect(await rangesNow()).toEqual(interrupted);
  run = 2;
  const second = await world.runCli(args, { config });
  expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(second.json.run.created).toBe(false);
  for (const output of [first, second])
    expect(output.stdout + output.stderr).not.toMatch(/@example\.com|@reindex-|@contact\.test|555 0/);

  // Every index value is the recomputed one, and every row is found by its value.
  expect(await misindexed()).toEqual({ Customer: 0, Contact: 0 });
  await expectEveryRowFound();
  // The application's writes won: their values stand, indexed, and the values they replaced find nothing.
  expect(races.size).toBe(0);
  expect((await app.customer.findFirst({ where: { email: 'old@example.com' } }))?.id).toBe(7);
  expect((await app.customer.findFirst({ where: { email: 'raced@example.com' } }))?.id).toBe(28);
  for (const id of [7, 28])
    expect(await app.customer.findFirst({ where: { email: `moved-${id}@example.com` } })).toBeNull();

  // The counts over both runs: every row read once, every stale value rebuilt once (but 28, which
  // the current deploy wrote), nothing encrypted or moved, a lost race in each run: the first one
  // stopped with its row left to read again, the second read it (and its own) again.
  expect(resultOf(first.json, 'Customer')).toMatchObject({ lostRaces: 1, pending: 1, failed: 0 });
  expect(resultOf(second.json, 'Customer')).toMatchObject({ lostRaces: 1, pending: 0, failed: 0 });
  const total = (model: string) => {
    const [a, b] = [resultOf(first.json, model), resultOf(second.json, model)];
    return Object.fromEntries(Object.keys(a).map((key) => [key, (a[key] ?? 0) + (b[key] ?? 0)]));
  };
  const ranges = await world.db.query<{ model: string; processed: number; rows: number; state: string }>(
    'SELECT model, processed, "rows", state FROM hushfield_ranges WHERE run_id = $1',
    [RUN],
  );
  expect(ranges.filter((range) => range.model === 'Customer').length).toBeGreaterThanOrEqual(CUSTOMERS / 5);
  expect(ranges.filter((range) => range.model === 'Contact').length).toBeGreaterThanOrEqual(
    (ORGS.length * CONTACTS) / 5,
  );
  expect(ranges.every((range) => range.state === 'done')).toBe(true);
  const processed = (model: string) =>
    ranges.filter((range) => range.model === model).reduce((sum, range) => sum + Number(range.processed), 0);
  expect({ Customer: processed('Customer'), Contact: processed('Contact') }).toEqual({
    Customer: CUSTOMERS,
    Contact: ORGS.length * CONTACTS,
  });
  expect(total('Customer')).toMatchObject({
    scanned: CUSTOMERS,
    indexed: stale.Customer - 1,
    written: stale.Customer - 1,
    lostRaces: 2,
    failed: 0,
    moved: 0,
    encrypted: 0,
  });
  const staleContacts = new Set(staleRows.filter((id) => Number.isNaN(Number(id)))).size;
  expect(total('Contact')).toMatchObject({
    scanned: ORGS.length * CONTACTS,
    indexed: stale.Contact,
    written: staleContacts,
    lostRaces: 0,
    failed: 0,
    pending: 0,
    moved: 0,
    encrypted: 0,
  });
  const verify = await world.runCli(['status', '--verify', '--json']);
  expect(verify.json.verify).toMatchObject({ staleIndexValues: 0 });
}, 120_000);

const multiProcess = childProcessesReachDatabase('reindex-workers.test (worker threads)');

(multiProcess ? test : test.skip)(
  'reencrypt --reindex --workers 2 in worker threads of a separate process rebuilds every stale index value',
  async () => {
    await leaveStaleValues('threaded');
    const staleRows: string[] = [];
    const stale = await misindexed(staleRows);
    expect(stale.Customer).toBe(CUSTOMERS / 3);
    const sandbox = createSandbox(world.db.url as string, world.rootKey.toString('base64'));
    try {
      const outcome = await sandbox.spawn(['reencrypt', '--reindex', '--run', `${RUN}-threads`, ...SCALE, '--json'])
        .done;
      expect({ code: outcome.code, stderr: outcome.code === 0 ? '' : outcome.stderr }).toEqual({ code: 0, stderr: '' });
      const json = JSON.parse(outcome.stdout);
      expect(json.run.threads).toBe(true);
      expect(resultOf(json, 'Customer')).toMatchObject({ scanned: CUSTOMERS, indexed: stale.Customer, failed: 0 });
      expect(resultOf(json, 'Contact')).toMatchObject({
        scanned: ORGS.length * CONTACTS,
        indexed: stale.Contact,
        written: new Set(staleRows.filter((id) => Number.isNaN(Number(id)))).size,
        failed: 0,
      });
    } finally {
      sandbox.remove();
    }
    expect(await misindexed()).toEqual({ Customer: 0, Contact: 0 });
    await expectEveryRowFound();
  },
  120_000,
);
