/**
 * A team changes its schema after data exists: an index added to an encrypted field, a
 * plaintext column annotated strict instead of `migrating`, an `@encrypted` annotation removed
 * instead of leaving through `readonly` + `decrypt`, an index's `bits` changed, a field retyped.
 * Each is walked through the extension and the CLI with the schema metadata of the deploy
 * before and after (a rolling deploy runs both), checked on what the database stores.
 */
import { DecryptionError } from '@hushfield/core';
import type { HushfieldSchema } from '@hushfield/prisma';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { createCasWriter, type CasWriter } from '../../packages/cli/src/cas-writer';
import { countRows, createCliWorld, migrateQuietly, schema } from './support';
import { describeOn } from '../support/provider';
import type { CliWorld } from './support';

let world: CliWorld;

type MutableModels = Record<
  string,
  { encrypted: Record<string, { mode: string; type?: string }>; blindIndexes: object }
>;

/** The test schema as another deploy generated it: `edit` changes a copy of its models. */
function deploy(edit: (models: MutableModels) => void): HushfieldSchema {
  const models = JSON.parse(JSON.stringify(schema.models)) as MutableModels;
  edit(models);
  return { ...schema, models } as unknown as HushfieldSchema;
}

/** Customer before its `emailIdx` blind index was added. */
const beforeIndex = deploy((models) => {
  models.Customer.blindIndexes = {};
});
/** Customer.email with its `@encrypted` annotation (and so its index) removed. */
const annotationRemoved = deploy((models) => {
  models.Customer.blindIndexes = {};
  delete models.Customer.encrypted.email;
});
/** Customer's `emailIdx` truncated to 252 bits: still 32 bytes, so reencrypt cannot tell. */
const truncated = deploy((models) => {
  (models.Customer.blindIndexes as Record<string, { bits: number; unique: boolean }>).emailIdx.bits = 252;
});
/** Customer.email retyped `Json` (its index dropped: an index's source is a `String`). */
const retyped = deploy((models) => {
  models.Customer.blindIndexes = {};
  models.Customer.encrypted.email.type = 'Json';
});
/** Contact before its per-scope `emailIdx` index. */
const contactBeforeIndex = deploy((models) => {
  models.Contact.blindIndexes = {};
});
/** Document's Json, Bytes and String[] fields with their `@encrypted` removed. */
const documentUnannotated = deploy((models) => {
  for (const field of ['body', 'blob', 'tags']) delete models.Document.encrypted[field];
});
/** Customer.email annotated strict over a column that still holds plaintext. */
const strictAtOnce = deploy((models) => {
  models.Customer.encrypted.email.mode = 'strict';
});

function app(deployed: HushfieldSchema) {
  // The metadata is what changes between deploys; the client's types are the generated ones. Index
  // versions are read again at once, so `keys rotate --index` needs no wait here.
  return world.prisma.$extends(
    fieldEncryption({
      schema: deployed as typeof schema,
      keyring: world.keyring,
      cache: { ttlMs: 60_000, indexVersionsTtlMs: 1 },
    }),
  ) as unknown as typeof world.prisma;
}

beforeAll(async () => {
  world = await createCliWorld();
}, 60_000);

afterEach(async () => {
  await world.db.query('DELETE FROM customers');
});

afterAll(async () => {
  await world?.close();
});

test('an index added to an encrypted field misses rows until reencrypt fills it; status counts them', async () => {
  const before = app(beforeIndex);
  for (let i = 0; i < 3; i++) await before.customer.create({ data: { email: `c${i}@example.com` } });
  expect(await world.db.query('SELECT email_idx FROM customers WHERE email_idx IS NOT NULL')).toEqual([]);

  const after = app(schema);
  // The documented gap: a lookup goes through the index only, so a row not yet indexed is missed.
  await expect(after.customer.findFirst({ where: { email: 'c1@example.com' } })).resolves.toBeNull();
  const status = await world.runCli(['status', '--model', 'Customer', '--json']);
  expect(status.json.models[0].indexes[0]).toMatchObject({ index: 'emailIdx', missing: 3 });

  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(run.code).toBe(0);
  expect(run.json.models[0]).toMatchObject({ indexed: 3, written: 3, failed: 0 });
  await expect(after.customer.findFirst({ where: { email: 'c1@example.com' } })).resolves.toMatchObject({
    email: 'c1@example.com',
  });
  const again = await world.runCli(['status', '--model', 'Customer', '--json']);
  expect(again.json.models[0].indexes[0]).toMatchObject({ missing: 0 });
});

test('a plaintext column annotated strict fails its reads, typed and without the value, until adopted', async () => {
  await world.db.query("INSERT INTO customers (email) VALUES ('legacy-secret@example.com')");
  const strict = app(strictAtOnce);
  const read = strict.customer.findMany();
  await expect(read).rejects.toBeInstanceOf(DecryptionError);
  const error = (await read.catch((caught: Error) => caught)) as Error;
  expect(error.message).toMatch(/Customer/);
  expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain('legacy-secret');

  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], { config: { schema: strictAtOnce } });
  expect(run.code).toBe(3);
  expect(run.json.models[0]).toMatchObject({ strictPlaintext: 1, written: 0 });
  expect(run.stdout + run.stderr).not.toContain('legacy-secret');
  expect(await world.db.query('SELECT email FROM customers')).toEqual([{ email: 'legacy-secret@example.com' }]);

  // The documented path: migrating, reencrypt, then strict.
  expect((await world.runCli(['reencrypt', '--model', 'Customer', '--json'])).code).toBe(0);
  await expect(strict.customer.findMany()).resolves.toMatchObject([{ email: 'legacy-secret@example.com' }]);
});

test('doctor fails a field whose @encrypted was removed while it holds envelopes, naming it and no value', async () => {
  const encrypted = app(schema);
  for (let i = 0; i < 3; i++) await encrypted.customer.create({ data: { email: `c${i}@example.com` } });
  const removed = app(annotationRemoved);
  // What the application sees once the annotation is gone: ciphertext on reads, plaintext stored on writes.
  const [first] = await removed.customer.findMany({ orderBy: { id: 'asc' } });
  expect(first.email.startsWith('hfe$')).toBe(true);
  await removed.customer.create({ data: { email: 'plain@example.com' } });
  expect(await countRows(world.db, "customers WHERE email = 'plain@example.com'")).toBe(1);

  const doctor = await world.runCli(['doctor', '--json'], { config: { schema: annotationRemoved } });
  expect(doctor.code).toBe(1);
  const stray = doctor.json.checks.filter((check: { detail?: { field?: string } }) => check.detail?.field === 'email');
  expect(stray).toEqual([
    expect.objectContaining({
      check: 'schema',
      level: 'fail',
      detail: { model: 'Customer', field: 'email', sampled: 4, envelopes: 3 },
    }),
  ]);
  expect(stray[0].message).toMatch(/Customer\.email is not @encrypted .* 3 of 4 sampled value\(s\) are envelopes/);
  expect(doctor.stdout + doctor.stderr).not.toMatch(/@example\.com|hfe\$1\$/);

  // The annotated schema over the same rows has nothing stray: the plaintext row is legacy data.
  const healthy = await world.runCli(['doctor', '--json']);
  expect(healthy.json.checks.filter((check: { message: string }) => /not @encrypted/.test(check.message))).toEqual([]);
});

/** The stale blind-index values `status --verify` counts for Customer.emailIdx, and its exit code. */
async function staleIndexValues(deployed: HushfieldSchema = schema): Promise<{ code: number; stale: number }> {
  const status = await world.runCli(['status', '--model', 'Customer', '--verify', '--json'], {
    config: { schema: deployed },
  });
  expect(status.stdout + status.stderr).not.toMatch(/@example\.com/);
  return { code: status.code, stale: status.json.models[0].indexes[0].stale };
}

/**
 * Two customers written by the current deploy, then the first one's email changed to
 * `new@example.com` by a process of the `older` deploy: its id and the index value it kept.
 */
async function leftByOlderDeploy(older: HushfieldSchema): Promise<{ id: number; left: string }> {
  const { id } = await app(schema).customer.create({ data: { email: 'old@example.com' } });
  await app(schema).customer.create({ data: { email: 'other@example.com' } });
  await app(older).customer.update({ where: { id }, data: { email: 'new@example.com' } });
  const [{ email_idx: left }] = await world.db.query<{ email_idx: string }>(
    'SELECT email_idx FROM customers WHERE id = $1',
    [id],
  );
  return { id, left };
}

test('a plaintext value written without @encrypted is encrypted by reencrypt with its index rebuilt, no key rotated', async () => {
  const current = app(schema);
  // A process of a deploy without the annotation stores the new value as plaintext, its index left as it was.
  const { id, left: copied } = await leftByOlderDeploy(annotationRemoved);
  // And a row written by SQL holds plaintext and no index value.
  await world.db.query('INSERT INTO customers (email, email_idx) VALUES ($1, $2)', ['sql@example.com', null]);
  const before = await world.db.query<{ id: number; email: string; email_idx: string | null }>(
    'SELECT id, email, email_idx FROM customers ORDER BY id',
  );
  expect(before[0]).toMatchObject({ email: 'new@example.com', email_idx: copied });
  expect(await staleIndexValues()).toEqual({ code: 3, stale: 1 });

  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(run.code).toBe(0);
  expect(run.json.models[0]).toMatchObject({ encrypted: 2, indexed: 2, written: 2, failed: 0 });
  expect(run.stdout + run.stderr).not.toMatch(/@example\.com/);
  const after = await world.db.query<{ id: number; email: string; email_idx: string | null }>(
    'SELECT id, email, email_idx FROM customers ORDER BY id',
  );
  expect(after.map((row) => row.email.startsWith('hfe$'))).toEqual([true, true, true]);
  expect(after[0].email_idx).not.toBe(copied);
  expect(after[1].email_idx).toBe(before[1].email_idx);
  expect(after[2].email_idx).toEqual(expect.any(String));
  await expect(current.customer.findFirst({ where: { email: 'new@example.com' } })).resolves.toMatchObject({ id });
  await expect(current.customer.findFirst({ where: { email: 'sql@example.com' } })).resolves.toMatchObject({
    id: Number(after[2].id),
  });
  // The old value is no longer held by the unique index.
  await current.customer.create({ data: { email: 'old@example.com' } });
  expect(await staleIndexValues()).toEqual({ code: 0, stale: 0 });
  // A second run finds nothing to do.
  expect((await world.runCli(['reencrypt', '--model', 'Customer', '--json'])).json.models[0]).toMatchObject({
    written: 0,
  });
});

test('a stale index value of a row whose envelope reencrypt moves anyway is rebuilt with it', async () => {
  const current = app(schema);
  const { id, left } = await leftByOlderDeploy(beforeIndex);
  expect(await staleIndexValues()).toEqual({ code: 3, stale: 1 });

  // A scope-key rotation, not an index one: every envelope moves, and the index values are checked as they do.
  expect((await world.runCli(['keys', 'rotate', '--all', '--json'])).code).toBe(0);
  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(run.json.models[0]).toMatchObject({ moved: 2, indexed: 1, written: 2, failed: 0 });
  const [{ email_idx: rebuilt }] = await world.db.query<{ email_idx: string }>(
    'SELECT email_idx FROM customers WHERE id = $1',
    [id],
  );
  expect(rebuilt).not.toBe(left);
  await expect(current.customer.findFirst({ where: { email: 'new@example.com' } })).resolves.toMatchObject({ id });
  await current.customer.create({ data: { email: 'old@example.com' } });
  expect(await staleIndexValues()).toEqual({ code: 0, stale: 0 });
});

test('reencrypt --reindex rebuilds a stale index value without rotating a key, and writes no other row', async () => {
  const current = app(schema);
  const { id } = await leftByOlderDeploy(beforeIndex);
  const before = await world.db.query<{ email: string; email_idx: string }>(
    'SELECT email, email_idx FROM customers ORDER BY id',
  );
  expect(await staleIndexValues()).toEqual({ code: 3, stale: 1 });
  // A plain run sees nothing to do: the stale value names the current index key.
  expect((await world.runCli(['reencrypt', '--model', 'Customer', '--json'])).json.models[0]).toMatchObject({
    written: 0,
  });
  const refused = await world.runCli(['reencrypt', '--model', 'Customer', '--reindex', '--dry-run']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/--reindex.*--dry-run|--dry-run.*--reindex/);
  expect((await world.runCli(['decrypt', '--reindex'])).code).not.toBe(0);

  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--reindex', '--json']);
  expect(run.code).toBe(0);
  expect(run.json.models[0]).toMatchObject({ scanned: 2, indexed: 1, moved: 0, written: 1, failed: 0 });
  expect(run.stdout + run.stderr).not.toMatch(/@example\.com/);
  const after = await world.db.query<{ email: string; email_idx: string }>(
    'SELECT email, email_idx FROM customers ORDER BY id',
  );
  // Only the index value changed: no envelope sealed again, the other row untouched.
  expect(after.map((row) => row.email)).toEqual(before.map((row) => row.email));
  expect(after[0].email_idx).not.toBe(before[0].email_idx);
  expect(after[1]).toEqual(before[1]);
  await expect(current.customer.findFirst({ where: { email: 'new@example.com' } })).resolves.toMatchObject({ id });
  await current.customer.create({ data: { email: 'old@example.com' } });
  expect(await staleIndexValues()).toEqual({ code: 0, stale: 0 });
  const again = await world.runCli(['reencrypt', '--model', 'Customer', '--reindex', '--json']);
  expect(again.json.models[0]).toMatchObject({ scanned: 3, indexed: 0, written: 0 });
});

test('reencrypt --reindex loses its race to an application update of the row, which keeps its own value and index', async () => {
  const current = app(schema);
  const { id } = await leftByOlderDeploy(beforeIndex);
  const real = await createCasWriter(world.prisma, schema.models.Customer);
  let raced = false;
  // The application writes the row between the run's read and its write: the CAS must refuse the stale rebuild.
  const racing: CasWriter = {
    async write(batch) {
      if (!raced) {
        raced = true;
        await current.customer.update({ where: { id }, data: { email: 'raced@example.com' } });
      }
      return real.write(batch);
    },
  };
  const result = await migrateQuietly(world, {
    model: schema.models.Customer,
    writer: racing,
    batchSize: 10,
    reindex: true,
  });
  expect(result).toMatchObject({ lostRaces: 1, failed: 0, pending: 0 });
  await expect(current.customer.findFirst({ where: { email: 'raced@example.com' } })).resolves.toMatchObject({ id });
  await expect(current.customer.findFirst({ where: { email: 'new@example.com' } })).resolves.toBeNull();
  expect(await staleIndexValues()).toEqual({ code: 0, stale: 0 });
});

test.each([['without the index', beforeIndex]])(
  'an index value left behind by a deploy %s is counted by status --verify and rebuilt after an index-key rotation',
  async (_, older) => {
    const current = app(schema);
    // A process of the older deploy (a rolling deploy, a rollback) changes the value, not its index.
    const { id } = await leftByOlderDeploy(older);
    expect((await world.runCli(['reencrypt', '--model', 'Customer', '--json'])).code).toBe(0);

    // reencrypt cannot see it without decrypting: the row is missed by its value, its old value is blocked.
    await expect(current.customer.findFirst({ where: { email: 'new@example.com' } })).resolves.toBeNull();
    await expect(current.customer.create({ data: { email: 'old@example.com' } })).rejects.toThrow();
    expect(await staleIndexValues()).toEqual({ code: 3, stale: 1 });
    const human = await world.runCli(['status', '--model', 'Customer', '--verify']);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/emailIdx \(index of email\): v\d+: 2, 1 stale/);
    expect(human.stdout).toContain(
      "verify: 1 blind-index value(s) that a lookup of their own row's value does not find",
    );
    expect(human.stdout).not.toMatch(/@example\.com/);

    expect((await world.runCli(['keys', 'rotate', '--index', '--wait', '5', '--json'])).code).toBe(0);
    const rebuilt = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
    expect(rebuilt.json.models[0]).toMatchObject({ indexed: 2, failed: 0 });
    await expect(current.customer.findFirst({ where: { email: 'new@example.com' } })).resolves.toMatchObject({ id });
    await current.customer.create({ data: { email: 'old@example.com' } });
    expect(await staleIndexValues()).toEqual({ code: 0, stale: 0 });
  },
);

test('status --verify counts index values made at other bits of the same length, which reencrypt keeps', async () => {
  const current = app(schema);
  for (let i = 0; i < 3; i++) await current.customer.create({ data: { email: `c${i}@example.com` } });
  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], { config: { schema: truncated } });
  expect(run.json.models[0]).toMatchObject({ indexed: 0, written: 0 });
  // Each 256-bit value differs from its 252-bit form unless its last four bits are all zero.
  const { code, stale } = await staleIndexValues(truncated);
  const zeroTails = (await world.db.query<{ email_idx: string }>('SELECT email_idx FROM customers')).filter(
    ({ email_idx }) => (Buffer.from(email_idx.split('.')[2], 'base64url')[31] & 0x0f) === 0,
  ).length;
  expect({ code, stale }).toEqual({ code: stale > 0 ? 3 : 0, stale: 3 - zeroTails });
  expect(await staleIndexValues()).toEqual({ code: 0, stale: 0 });
  // --reindex rebuilds them at the schema's bits, without a key rotation.
  const reindexed = await world.runCli(['reencrypt', '--model', 'Customer', '--reindex', '--json'], {
    config: { schema: truncated },
  });
  expect(reindexed.json.models[0]).toMatchObject({ indexed: 3 - zeroTails, written: 3 - zeroTails, failed: 0 });
  expect(await staleIndexValues(truncated)).toEqual({ code: 0, stale: 0 });
});

test('a value sealed as a String does not open once its field is retyped Json: reads fail typed, --verify counts it', async () => {
  await app(schema).customer.create({ data: { email: 'typed@example.com' } });
  const read = app(retyped).customer.findMany();
  await expect(read).rejects.toBeInstanceOf(DecryptionError);
  expect(`${((await read.catch((caught: Error) => caught)) as Error).message}`).not.toContain('typed@');
  const status = await world.runCli(['status', '--model', 'Customer', '--verify', '--json'], {
    config: { schema: retyped },
  });
  expect(status.code).toBe(3);
  const email = status.json.models[0].fields.find((field: { field: string }) => field.field === 'email');
  expect(email).toMatchObject({ unreadable: { HUSHFIELD_DECRYPTION_FAILED: 1 } });
  expect(status.stdout).not.toContain('typed@');
});

test('a per-scope index value left behind is counted under its row scope, and rebuilt after a scope-key rotation', async () => {
  const current = app(schema);
  const org = await current.organization.create({ data: { slug: 'evolve-per-scope' } });
  const contact = { orgId: org.id, emailIdx: computedBlindIndex };
  const { id } = await current.contact.create({ data: { ...contact, email: 'old@example.com' } });
  await current.contact.create({ data: { ...contact, email: 'other@example.com' } });
  await app(contactBeforeIndex).contact.update({ where: { id }, data: { email: 'new@example.com' } });

  const status = async () => {
    const result = await world.runCli(['status', '--model', 'Contact', '--verify', '--json']);
    expect(result.stdout).not.toMatch(/@example\.com/);
    const email = result.json.models[0].indexes.find((index: { index: string }) => index.index === 'emailIdx');
    return { code: result.code, stale: email.stale };
  };
  expect(await status()).toEqual({ code: 3, stale: 1 });
  const lookup = { where: { orgId: org.id, email: 'new@example.com' } };
  await expect(current.contact.findFirst(lookup)).resolves.toBeNull();

  expect((await world.runCli(['keys', 'rotate', '--all', '--json'])).code).toBe(0);
  expect((await world.runCli(['reencrypt', '--model', 'Contact', '--json'])).code).toBe(0);
  expect(await status()).toEqual({ code: 0, stale: 0 });
  await expect(current.contact.findFirst(lookup)).resolves.toMatchObject({ id });
  await world.db.query('DELETE FROM organizations WHERE id = $1', [org.id]);
});

describeOn(['postgresql'], 'String[] is a PostgreSQL scalar list; neither MySQL nor SQLite has one')(
  'a Json, Bytes or String[] field',
  () => {
    it('doctor finds envelopes of every type in a field whose @encrypted was removed', async () => {
      const doc = await app(schema).document.create({
        data: { tenantId: 'evolve', title: 'T', body: { a: 1 }, blob: Buffer.from('bytes'), tags: ['x', 'y'] },
      });
      try {
        const doctor = await world.runCli(['doctor', '--json'], { config: { schema: documentUnannotated } });
        expect(doctor.code).toBe(1);
        const stray = doctor.json.checks
          .filter((check: { detail?: { model?: string; field?: string } }) => check.detail?.field !== undefined)
          .map((check: { level: string; detail: object }) => ({ level: check.level, ...check.detail }));
        expect(stray).toEqual(
          ['body', 'blob', 'tags'].map((field) => ({
            level: 'fail',
            model: 'Document',
            field,
            sampled: 1,
            envelopes: 1,
          })),
        );
      } finally {
        await world.db.query('DELETE FROM documents WHERE id = $1', [doc.id]);
      }
    });
  },
);
