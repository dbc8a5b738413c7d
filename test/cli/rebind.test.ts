/**
 * `reencrypt --rebind`: the way to bind a model's existing values after its
 * `@encryption(bind: ...)` was added. Values written before then were sealed without the
 * binding, and the application refuses them (the model's policy, not the value, says they must
 * be bound). An envelope does not show whether it is bound, so a `reencrypt` without the flag
 * takes them for current and leaves them as they are; `status --verify` counts them, with the
 * command that binds them. With the flag, every value of the model is sealed again, bound to its row.
 */
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import type { HushfieldSchema } from '@hushfield/prisma';
import { DecryptionError } from '@hushfield/core';
import { CheckpointStore, checkpointId } from '../../packages/cli/src/checkpoint';
import { appClient, childProcessesReachDatabase, createCliWorld, schema } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
let app: ReturnType<typeof appClient>;
let before: ReturnType<typeof appClient>;
let orgId: string;
const scaled = childProcessesReachDatabase('rebind.test (scaled-out runs)');

/** The test schema as it was before `@encryption(bind: publicId)` was added to Receipt. */
function unboundSchema(): HushfieldSchema {
  const receipt: Record<string, unknown> = { ...schema.models.Receipt, bindRowId: false };
  delete receipt.bindField;
  delete receipt.bindGeneration;
  return { ...schema, models: { ...schema.models, Receipt: receipt as unknown as HushfieldSchema['models'][string] } };
}

beforeAll(async () => {
  world = await createCliWorld();
  app = appClient(world);
  before = world.prisma.$extends(
    fieldEncryption({ schema: unboundSchema(), keyring: world.keyring, cache: { ttlMs: 60_000 } }),
  ) as unknown as ReturnType<typeof appClient>;
  orgId = (await app.organization.create({ data: { slug: 'rebind' } })).id;
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** Receipts written before the binding, one of them with a memo. */
async function unboundReceipts(tag: string): Promise<number[]> {
  const ids: number[] = [];
  for (const payee of [`${tag} payee one`, `${tag} payee two`]) {
    const row = await before.receipt.create({
      data: { orgId, payee, payeeIdx: computedBlindIndex, memo: ids.length === 0 ? `${tag} memo` : null },
    });
    ids.push(row.id);
  }
  return ids;
}

async function storedRows(ids: number[]): Promise<Record<string, unknown>[]> {
  return world.db.query(
    'SELECT id, public_id, payee, payee_idx, memo FROM receipts WHERE id IN ($1, $2) ORDER BY id',
    ids,
  );
}

test('without --rebind, values sealed before the binding stay as they are, and status --verify names the fix', async () => {
  const ids = await unboundReceipts('refused');
  const stored = await storedRows(ids);
  await expect(app.receipt.findUnique({ where: { id: ids[0] } })).rejects.toThrow(DecryptionError);

  for (const dryRun of [['--dry-run'], []]) {
    const run = await world.runCli(['reencrypt', '--model', 'Receipt', ...dryRun, '--json']);
    expect(run.code).toBe(0);
    expect(run.json.models[0]).toMatchObject({ failed: 0, written: 0 });
  }
  expect(await storedRows(ids)).toEqual(stored);

  const status = await world.runCli(['status', '--model', 'Receipt', '--verify', '--json']);
  expect(status.code).toBe(3);
  const fields = status.json.models[0].fields as { field: string; unbound?: number }[];
  expect(Object.fromEntries(fields.map((field) => [field.field, field.unbound]))).toEqual({ payee: 2, memo: 1 });
  const human = await world.runCli(['status', '--model', 'Receipt', '--verify']);
  expect(human.stdout).toContain(
    "3 value(s) sealed without the binding (before the model's @encryption(bind: ...) was added",
  );
  expect(human.stdout).toContain('hushfield reencrypt --model Receipt --rebind');
  expect(human.stdout).not.toContain('refused payee');
  const doctor = await world.runCli(['doctor', '--json']);
  const values = doctor.json.checks.find(
    (check: { check: string; detail?: { model?: string } }) =>
      check.check === 'values' && check.detail?.model === 'Receipt',
  );
  expect(values.detail).toMatchObject({ unbound: 3 });
  expect(values.message).toContain('hushfield reencrypt --model Receipt --rebind');
});

test('--rebind seals every value again, bound to its row, and the application reads them', async () => {
  const ids = await unboundReceipts('rebound');
  const stored = await storedRows(ids);

  const dry = await world.runCli(['reencrypt', '--model', 'Receipt', '--rebind', '--dry-run', '--json']);
  expect(dry.code).toBe(0);
  expect(await storedRows(ids)).toEqual(stored);

  const run = await world.runCli(['reencrypt', '--model', 'Receipt', '--rebind', '--json']);
  expect({ code: run.code, failures: run.json.models[0].failures }).toEqual({ code: 0, failures: [] });
  expect(run.json.models[0].failed).toBe(0);
  expect(JSON.stringify(run.json)).not.toContain('rebound payee');
  const after = await storedRows(ids);
  for (let i = 0; i < ids.length; i++) {
    expect(after[i].payee).not.toBe(stored[i].payee);
    expect(after[i].payee_idx).toBe(stored[i].payee_idx);
    expect(after[i].public_id).toBe(stored[i].public_id);
  }
  const read = await appClient(world).receipt.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  expect(read.map((row) => [row.payee, row.memo])).toEqual([
    ['rebound payee one', 'rebound memo'],
    ['rebound payee two', null],
  ]);
  // Bound now: the schema without the binding no longer opens them, and a copy between the rows fails.
  await expect(before.receipt.findUnique({ where: { id: ids[0] } })).rejects.toThrow(DecryptionError);
  await world.db.query('UPDATE receipts SET payee = (SELECT payee FROM receipts WHERE id = $1) WHERE id = $2', ids);
  await expect(app.receipt.findUnique({ where: { id: ids[1] } })).rejects.toThrow(DecryptionError);

  // status --verify counts no value as sealed before the binding any more (the copy is unreadable, not unbound).
  const status = await world.runCli(['status', '--model', 'Receipt', '--verify', '--json']);
  expect(JSON.stringify(status.json.models[0].fields)).not.toContain('unbound');
  // A second run finds only bound values; they are sealed again, and still read (the copy stays refused).
  const again = await world.runCli(['reencrypt', '--model', 'Receipt', '--rebind', '--json']);
  expect(again.code).toBe(3);
  expect(again.json.models[0].failures.map((f: { key: string }) => f.key)).toEqual([`[${ids[1]}]`]);
  expect((await appClient(world).receipt.findUniqueOrThrow({ where: { id: ids[0] } })).payee).toBe('rebound payee one');
});

test('--rebind does not take a value sealed under another scope: the scope check still holds', async () => {
  const other = (await app.organization.create({ data: { slug: 'rebind-other' } })).id;
  const [mine] = await unboundReceipts('scoped');
  const theirs = await before.receipt.create({
    data: { orgId: other, payee: 'other org payee', payeeIdx: computedBlindIndex },
  });
  await world.db.query('UPDATE receipts SET payee = (SELECT payee FROM receipts WHERE id = $1) WHERE id = $2', [
    theirs.id,
    mine,
  ]);
  const [stored] = await world.db.query<{ payee: string }>('SELECT payee FROM receipts WHERE id = $1', [mine]);
  const run = await world.runCli(['reencrypt', '--model', 'Receipt', '--rebind', '--json']);
  expect(run.code).toBe(3);
  const failure = run.json.models[0].failures.find((f: { key: string }) => f.key === `[${mine}]`);
  expect(failure).toMatchObject({ field: 'payee', code: 'HUSHFIELD_DECRYPTION_FAILED' });
  expect(JSON.stringify(run.json)).not.toContain('other org payee');
  const [after] = await world.db.query<{ payee: string }>('SELECT payee FROM receipts WHERE id = $1', [mine]);
  expect(after.payee).toBe(stored.payee);
});

(scaled ? test : test.skip)(
  'a scaled-out run takes --rebind too',
  async () => {
    const ids = await unboundReceipts('scaled');
    const run = await world.runCli([
      'reencrypt',
      '--model',
      'Receipt',
      '--workers',
      '2',
      '--run',
      'rebind-1',
      '--rebind',
      '--json',
    ]);
    expect(run.json.run.threads).toBe(false);
    const read = await appClient(world).receipt.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
    expect(read.map((row) => row.payee)).toEqual(['scaled payee one', 'scaled payee two']);
  },
  60_000,
);

test('decrypt opens values sealed before the binding only with --rebind', async () => {
  const ids = await unboundReceipts('decrypt');
  const receipt = schema.models.Receipt;
  const readonly: HushfieldSchema = {
    ...schema,
    models: {
      ...schema.models,
      Receipt: {
        ...receipt,
        encrypted: { ...receipt.encrypted, memo: { ...receipt.encrypted.memo, mode: 'readonly' } },
      },
    },
  };
  const config = { schema: readonly };
  const before = await storedRows(ids);
  const refused = await world.runCli(['decrypt', '--model', 'Receipt', '--json'], { config });
  expect(refused.code).toBe(3);
  expect(refused.json.models[0].failures).toContainEqual(
    expect.objectContaining({ key: `[${ids[0]}]`, field: 'memo', code: 'HUSHFIELD_DECRYPTION_FAILED' }),
  );
  expect(JSON.stringify(refused.json)).not.toContain('decrypt memo');
  expect(await storedRows(ids)).toEqual(before);

  const opened = await world.runCli(['decrypt', '--model', 'Receipt', '--rebind', '--json'], { config });
  expect(opened.code).toBe(0);
  const [row] = await world.db.query<{ memo: string }>('SELECT memo FROM receipts WHERE id = $1', [ids[0]]);
  expect(row.memo).toBe('decrypt memo');
});

test("a --rebind run does not resume a plain run's checkpoint: the rows before its cursor were never bound", async () => {
  const ids = await unboundReceipts('resumed');
  // A plain reencrypt interrupted after the first of these rows.
  const store = new CheckpointStore(world.prisma);
  const id = checkpointId('reencrypt', 'Receipt');
  const started = await store.start(id, new Date());
  await store.save(id, `[${ids[0]}]`, 1, { startedAt: started.detail.startedAt, pending: [] });
  // (Its exit code says nothing here: rows the earlier tests left copied fail whichever run meets them.)
  const run = await world.runCli(['reencrypt', '--model', 'Receipt', '--rebind']);
  expect(run.stdout + run.stderr).toContain(
    'Receipt: the unfinished run was not given --rebind; starting from the first row',
  );
  const read = await appClient(world).receipt.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  expect(read.map((row) => row.payee)).toEqual(['resumed payee one', 'resumed payee two']);

  // A --rebind run's own checkpoint is resumed, by a run with or without the flag.
  const again = await store.start(id, new Date(), ['rebind']);
  await store.save(id, `[${ids[0]}]`, 1, { startedAt: again.detail.startedAt, pending: [], flags: ['rebind'] });
  const resumed = await world.runCli(['reencrypt', '--model', 'Receipt', '--json']);
  expect(resumed.json.models[0].resumedFrom).toBe(`[${ids[0]}]`);
  // ...but the plain run's rows were not rebound: its checkpoint no longer says --rebind.
  expect((await store.get(id))?.detail.flags).toBeUndefined();
});

test('--rebind restarts no checkpoint of a model it does not apply to', async () => {
  // Customer has no @encryption(bind: ...): a plain run's checkpoint is resumed as usual.
  const store = new CheckpointStore(world.prisma);
  const id = checkpointId('reencrypt', 'Customer');
  const started = await store.start(id, new Date());
  await store.save(id, '[0]', 0, { startedAt: started.detail.startedAt, pending: [] });
  const run = await world.runCli(['reencrypt', '--model', 'Customer', '--rebind', '--json']);
  expect(run.json.models[0].resumedFrom).toBe('[0]');
});

(scaled ? test : test.skip)('every process of a scaled-out run must be given the same flags', async () => {
  await unboundReceipts('same-flags');
  const plain = await world.runCli(['reencrypt', '--model', 'Receipt', '--run', 'rebind-same-flags', '--json']);
  expect(plain.json.run).toMatchObject({ id: 'rebind-same-flags' });
  const joined = await world.runCli(['reencrypt', '--model', 'Receipt', '--run', 'rebind-same-flags', '--rebind']);
  const before = await world.db.query('SELECT mode, state, detail FROM hushfield_runs WHERE id = $1', [
    'rebind-same-flags',
  ]);
  const restarted = await world.runCli([
    'reencrypt',
    '--model',
    'Receipt',
    '--run',
    'rebind-same-flags',
    '--rebind',
    '--restart',
    '--max-rows-per-second',
    '7',
  ]);
  expect(restarted.code).toBe(2);
  // Refused before it changed anything of the run: not restarted, no new caps.
  expect(
    await world.db.query('SELECT mode, state, detail FROM hushfield_runs WHERE id = $1', ['rebind-same-flags']),
  ).toEqual(before);
  expect(joined.code).toBe(2);
  expect(joined.stderr).toContain(
    'run rebind-same-flags is a reencrypt run, and this process was started as reencrypt --rebind',
  );
});
