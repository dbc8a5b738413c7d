/**
 * `reencrypt` moving a blind index between shared and per-scope keys when the schema flips
 * `perScope` (issue 22 item 1): compare-and-swap against the application, resumable from its
 * checkpoint, counted by `status` (shared vs per-scope values), and with no lookup gap while
 * the index is `perScope: migrating`.
 */
import { fieldEncryption, type HushfieldSchema } from '@hushfield/prisma';
import { computedBlindIndex } from '@hushfield/prisma';
import { createCasWriter, type CasWriter } from '../../packages/cli/src/cas-writer';
import { CheckpointStore, checkpointId } from '../../packages/cli/src/checkpoint';
import { createCliWorld, createContacts, migrateQuietly, schema, type CliWorld } from './support';

type PerScope = true | 'migrating' | undefined;

/** The test schema with Contact's indexes keyed as `perScope` says (undefined: shared). */
function contactSchema(perScope: PerScope): HushfieldSchema {
  const copy = JSON.parse(JSON.stringify(schema)) as HushfieldSchema;
  for (const index of Object.values(copy.models.Contact.blindIndexes) as { perScope?: PerScope }[]) {
    if (perScope === undefined) delete index.perScope;
    else index.perScope = perScope;
  }
  return copy;
}
const SHARED = contactSchema(undefined);
const MIGRATING = contactSchema('migrating');
const PER_SCOPE = contactSchema(true);

let world: CliWorld;
const orgs: string[] = [];

function app(appSchema: HushfieldSchema) {
  return world.prisma.$extends(
    fieldEncryption({ schema: appSchema, keyring: world.keyring, cache: { ttlMs: 60_000 } }),
  );
}

async function storedIndexes(): Promise<{ id: string; email_idx: string; phone_idx: string | null }[]> {
  return world.db.query('SELECT id, email_idx, phone_idx FROM contacts ORDER BY id');
}

async function indexStatus(appSchema: HushfieldSchema) {
  const result = await world.runCli(['status', '--model', 'Contact', '--json'], { config: { schema: appSchema } });
  expect(result.code).toBe(0);
  const [model] = result.json.models;
  return model.indexes as { index: string; perScope: boolean; keyed: { shared: number; perScope: number } }[];
}

/** One migrateModel run over Contact, as `reencrypt --model Contact` under `runSchema`. */
function migrate(runSchema: HushfieldSchema, writer: CasWriter, signal?: AbortSignal) {
  const checkpoints = new CheckpointStore(world.prisma);
  return migrateQuietly(world, { model: runSchema.models.Contact, writer, checkpoints, batchSize: 3, signal });
}

beforeAll(async () => {
  world = await createCliWorld();
  orgs.push(...(await createContacts(app(SHARED), ['mig-a', 'mig-b'], 5)));
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('status counts shared and per-scope index values against what the schema wants', async () => {
  const indexes = await indexStatus(PER_SCOPE);
  expect(indexes.map((index) => [index.index, index.perScope, index.keyed])).toEqual([
    ['emailIdx', true, { shared: 10, perScope: 0 }],
    ['phoneIdx', true, { shared: 10, perScope: 0 }],
  ]);
  const text = await world.runCli(['status', '--model', 'Contact'], { config: { schema: PER_SCOPE } });
  expect(text.stdout).toContain('emailIdx (index of email): v1: 10; 10 shared, 0 per scope (schema: per scope)');
});

test('while migrating, lookups naming the organization find rows under either key; per-scope only finds moved ones', async () => {
  const [a] = orgs;
  const migrating = app(MIGRATING);
  expect((await migrating.contact.findFirst({ where: { orgId: a, email: 'C1@mig-a.test' } }))?.email).toBe(
    'c1@mig-a.test',
  );
  expect(
    (await migrating.contact.findUnique({ where: { orgId_emailIdx: { orgId: a, emailIdx: 'c2@mig-a.test' } } }))?.email,
  ).toBe('c2@mig-a.test');
  expect((await migrating.contact.findMany({ where: { orgId: a, phone: '5550103' } })).map((c) => c.email)).toEqual([
    'c3@mig-a.test',
  ]);
  // A new write while migrating is already per scope, and found.
  const added = await migrating.contact.create({
    data: { orgId: a, email: 'new@mig-a.test', emailIdx: computedBlindIndex },
  });
  const [row] = await world.db.query<{ email_idx: string }>('SELECT email_idx FROM contacts WHERE id = $1', [added.id]);
  expect(row.email_idx).toMatch(/^s1\./);
  expect((await migrating.contact.findFirst({ where: { orgId: a, email: 'new@mig-a.test' } }))?.id).toBe(added.id);
  // Strictly per scope, the shared values are not matched: that is what `migrating` is for.
  expect(await app(PER_SCOPE).contact.findFirst({ where: { orgId: a, email: 'c1@mig-a.test' } })).toBeNull();
});

test('reencrypt moves the index to per-scope keys row by row with compare-and-swap, and resumes after an interruption', async () => {
  const real = await createCasWriter(world.prisma, PER_SCOPE.models.Contact);
  const migrating = app(MIGRATING);
  const stop = new AbortController();
  let writes = 0;
  let raced = '';
  const before = await migrating.contact.findMany({ where: { orgId: { in: orgs } } });
  expect(before).toHaveLength(11);
  // The application rewrites a row between the run's read and its write (the CAS must not
  // overwrite it), and the run is interrupted after its first batch.
  const racing: CasWriter = {
    async write(batch) {
      if (++writes === 1) {
        raced = String(batch[0].key[0]);
        await migrating.contact.update({ where: { id: raced }, data: { email: 'renamed@race.test' } });
        stop.abort();
      }
      return real.write(batch);
    },
  };
  const first = await migrate(PER_SCOPE, racing, stop.signal);
  expect(first.stopped?.code).toBe('INTERRUPTED');
  const saved = await new CheckpointStore(world.prisma).get(checkpointId('reencrypt', 'Contact'));
  expect(saved?.cursor).not.toBeNull();
  const second = await migrate(PER_SCOPE, real);
  expect(second.resumedFrom).toBe(saved?.cursor);
  expect(second.failed).toBe(0);

  for (const row of await storedIndexes()) {
    expect(row.email_idx).toMatch(/^s1\.n1\./);
    expect(row.phone_idx === null || row.phone_idx.startsWith('s1.')).toBe(true);
  }
  // The row lost its race, was read again, and the application's write survived, indexed
  // under its organization's key.
  expect(first.lostRaces + second.lostRaces).toBeGreaterThanOrEqual(1);
  const perScope = app(PER_SCOPE);
  const renamed = await perScope.contact.findUnique({ where: { id: raced } });
  expect(renamed?.email).toBe('renamed@race.test');
  expect((await perScope.contact.findFirst({ where: { orgId: renamed!.orgId, email: 'renamed@race.test' } }))?.id).toBe(
    raced,
  );
  // Every row is found by its email (the raced one by its new email) in its organization.
  for (const { id, orgId, email } of before) {
    const expected = id === raced ? 'renamed@race.test' : email;
    expect((await perScope.contact.findFirst({ where: { orgId, email: expected } }))?.id).toBe(id);
  }
  expect((await indexStatus(PER_SCOPE)).map((index) => index.keyed)).toEqual([
    { shared: 0, perScope: 11 },
    { shared: 0, perScope: 10 },
  ]);
  // Nothing left to do.
  const again = await world.runCli(['reencrypt', '--model', 'Contact', '--restart', '--json'], {
    config: { schema: PER_SCOPE },
  });
  expect(again.code).toBe(0);
  expect(again.json.models[0]).toMatchObject({ written: 0, indexed: 0 });
});

test('after a shred of one organization its rows keep their values but match nothing; the other migrates back', async () => {
  const [a, b] = orgs;
  const shred = await world.runCli(['keys', 'shred', '--scope', a, '--yes', '--json'], {
    config: { schema: PER_SCOPE },
  });
  expect(shred.code).toBe(0);
  expect(await app(PER_SCOPE).contact.findFirst({ where: { orgId: a, email: 'c1@mig-a.test' } })).toBeNull();
  // The way back to a shared index (reencrypt under perScope: false): only the live
  // organization's rows can be rebuilt; the shredded one's stay per scope, meaningless.
  const back = await world.runCli(['reencrypt', '--model', 'Contact', '--restart', '--json'], {
    config: { schema: SHARED },
  });
  expect(back.json.models[0].indexed).toBeGreaterThanOrEqual(5);
  const rows = await world.db.query<{ org_id: string; email_idx: string }>('SELECT org_id, email_idx FROM contacts');
  for (const row of rows) expect(row.email_idx[0]).toBe(row.org_id === b ? 'v' : 's');
  for (const contact of await app(SHARED).contact.findMany({ where: { orgId: b } }))
    expect((await app(SHARED).contact.findFirst({ where: { email: contact.email } }))?.id).toBe(contact.id);
  expect(await app(SHARED).contact.findFirst({ where: { email: 'c1@mig-a.test' } })).toBeNull();
  const indexes = await indexStatus(SHARED);
  expect(indexes[0]).toMatchObject({ perScope: false, keyed: { shared: 5, perScope: 6 } });
});
