/**
 * Models without an `@id` (a required `@unique`, or a `@@unique` of required fields, is their
 * unique criterion): the CLI walks, resumes, splits and writes their rows by that criterion, the
 * row key the generator records (`rowKeyFields`). Walked by their empty `idFields`, a run read
 * the first batch only and reported success, leaving every later row under the old key. A model
 * with no such criterion is refused, naming it, before any row is read or written.
 */
import { encryptStringSync, generateKey } from '@47ng/cloak';
import { isEnvelope } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '@hushfield/prisma';
import { createCasWriter } from '../../packages/cli/src/cas-writer';
import type { CasWriter } from '../../packages/cli/src/cas-writer';
import { CheckpointStore } from '../../packages/cli/src/checkpoint';
import { appClient, countRows, createCliWorld, insertRows, migrateQuietly, schema } from './support';
import type { CliWorld } from './support';

const CARDS = 23;
const VENUES = ['north', 'south', 'west'];
const SEATS = 9;
let world: CliWorld;

/** The test schema with `GiftCard`'s metadata changed by `change`. */
function withGiftCard(change: (model: ModelMeta) => ModelMeta): HushfieldSchema {
  return { ...schema, models: { ...schema.models, GiftCard: change(schema.models.GiftCard) } };
}

interface CardRow {
  code: string;
  label: string | null;
  pin: string;
  note: string | null;
}

async function cards(): Promise<CardRow[]> {
  return world.db.query<CardRow>('SELECT code, label, pin, note FROM gift_cards ORDER BY code');
}

/** The key version of every envelope in `values` (throws on a value that is not one). */
function versions(values: readonly (string | null)[]): number[] {
  const crypto = world.crypto();
  return values.filter((value): value is string => value !== null).map((value) => crypto.describe(value).version);
}

beforeAll(async () => {
  world = await createCliWorld();
  // Legacy plaintext (the fields are `migrating`); a few labels, the optional unique not walked by.
  await insertRows(world.db, 'gift_cards', ['code', 'label', 'pin', 'note'], CARDS, (i) => [
    `card-${String(i).padStart(3, '0')}`,
    i % 5 === 0 ? `label-${i}` : null,
    `pin ${i}`,
    i % 2 === 0 ? `note ${i}` : null,
  ]);
  // Row i (from 1) holds seat ceil(i / 3) of venue i mod 3: the last row is west's last seat.
  await insertRows(world.db, 'seat_holds', ['holder_idx', 'venue', 'seat', 'holder'], VENUES.length * SEATS, (i) => [
    `pending-${i}`,
    VENUES[(i - 1) % VENUES.length],
    Math.ceil(i / VENUES.length),
    `Holder ${i}`,
  ]);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('the generator records the row key: the first required unique, else a compound @@unique, never a blind index', () => {
  expect(schema.models.GiftCard).toMatchObject({ idFields: [], rowKeyFields: ['code'] });
  expect(schema.models.SeatHold).toMatchObject({ idFields: [], rowKeyFields: ['venue', 'seat'] });
  expect('rowKeyFields' in schema.models.User).toBe(false);
});

test('reencrypt in many small batches encrypts every row of a model keyed by a @unique, then moves every one to a new key version', async () => {
  const first = await world.runCli(['reencrypt', '--model', 'GiftCard', '--batch', '4', '--json']);
  expect(first.code).toBe(0);
  expect(first.json.models[0]).toMatchObject({ model: 'GiftCard', scanned: CARDS, failed: 0 });
  const sealed = await cards();
  expect(sealed).toHaveLength(CARDS);
  for (const row of sealed) {
    expect(isEnvelope(row.pin)).toBe(true);
    if (row.note !== null) expect(isEnvelope(row.note)).toBe(true);
  }
  expect(new Set(versions(sealed.flatMap((row) => [row.pin, row.note])))).toEqual(new Set([1]));

  const rotated = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json']);
  expect(rotated.code).toBe(0);
  const second = await world.runCli(['reencrypt', '--model', 'GiftCard', '--batch', '4', '--json']);
  expect(second.code).toBe(0);
  expect(second.json.models[0]).toMatchObject({ scanned: CARDS, written: CARDS, failed: 0 });
  const moved = await cards();
  expect(moved.map((row) => row.code)).toEqual(sealed.map((row) => row.code));
  expect(moved.map((row) => row.label)).toEqual(sealed.map((row) => row.label));
  expect(new Set(versions(moved.flatMap((row) => [row.pin, row.note])))).toEqual(new Set([2]));

  const read = await appClient(world).giftCard.findMany({ orderBy: { code: 'asc' } });
  expect(read.map((row) => row.pin)).toEqual(Array.from({ length: CARDS }, (_, i) => `pin ${i + 1}`));
  expect(read[1].note).toBe('note 2');
});

test('reencrypt walks a model keyed by a compound @@unique across batches and builds every unique blind index', async () => {
  const total = VENUES.length * SEATS;
  const result = await world.runCli(['reencrypt', '--model', 'SeatHold', '--batch', '4', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ scanned: total, written: total, failed: 0 });
  const rows = await world.db.query<{ holder: string; holder_idx: string }>(
    'SELECT holder, holder_idx FROM seat_holds',
  );
  expect(rows).toHaveLength(total);
  for (const row of rows) {
    expect(isEnvelope(row.holder)).toBe(true);
    expect(row.holder_idx.startsWith('pending-')).toBe(false);
  }
  // The last row in key order is found through its blind index.
  const app = appClient(world);
  const last = await app.seatHold.findUnique({ where: { venue_seat: { venue: 'west', seat: SEATS } } });
  expect(last?.holder).toBe(`Holder ${total}`);
  expect(await app.seatHold.findFirst({ where: { holder: `holder ${total}` } })).toMatchObject({ venue: 'west' });
});

test('reencrypt --from-pfe-key imports prisma-field-encryption values from every batch of a compound-keyed model', async () => {
  const key = generateKey();
  const seats = Array.from({ length: SEATS }, (_, i) => i + 1);
  // Every seat of the last venue in key order (west), spread over several batches; the index
  // column holds what prisma-field-encryption kept there (its own hash), not a blind index.
  for (const seat of seats) {
    await world.db.query('UPDATE seat_holds SET holder = $1, holder_idx = $2 WHERE venue = $3 AND seat = $4', [
      encryptStringSync(`Imported ${seat}`, key),
      `pfe-hash-${seat}`,
      'west',
      seat,
    ]);
  }
  const result = await world.runCli([
    'reencrypt',
    '--model',
    'SeatHold',
    '--batch',
    '4',
    '--from-pfe-key',
    key,
    '--json',
  ]);
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ scanned: VENUES.length * SEATS, imported: SEATS, failed: 0 });
  expect(result.stdout + result.stderr).not.toContain(key);
  const stored = await world.db.query<{ holder: string }>("SELECT holder FROM seat_holds WHERE venue = 'west'");
  expect(stored.every((row) => isEnvelope(row.holder))).toBe(true);
  const app = appClient(world);
  const found = await app.seatHold.findFirst({ where: { holder: `imported ${SEATS}` } });
  expect(found).toMatchObject({ venue: 'west', seat: SEATS, holder: `Imported ${SEATS}` });
});

test('status --verify reads every row: it counts an unreadable value in the last batch', async () => {
  const rows = await cards();
  const last = rows[rows.length - 1].code;
  // A pin envelope moved into another field of the last row fails to open there.
  await world.db.query('UPDATE gift_cards SET note = $1 WHERE code = $2', [rows[0].pin, last]);
  try {
    const verified = await world.runCli(['status', '--model', 'GiftCard', '--verify', '--batch', '4', '--json']);
    expect(verified.code).toBe(3);
    expect(verified.json.models[0].rows).toBe(CARDS);
    expect(verified.json.verify).toEqual({ unreadable: 1, staleIndexValues: 0 });
  } finally {
    await world.db.query('UPDATE gift_cards SET note = $1 WHERE code = $2', [rows[rows.length - 1].note, last]);
  }
});

// Several migrators in one process on one local libSQL file stall on its lock (packages/cli/README.md).
const oneFileLock = process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql';
if (oneFileLock) process.stdout.write('rowkey-models.test: the scaled-out run is skipped on libSQL (one file lock)\n');

(oneFileLock ? test.skip : test)(
  'a scaled-out run splits the model into ranges by its row key and moves every row once',
  async () => {
    const rotated = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json']);
    expect(rotated.code).toBe(0);
    const run = await world.runCli([
      'reencrypt',
      '--model',
      'GiftCard',
      '--workers',
      '2',
      '--run',
      'rowkey-1',
      '--range-rows',
      '5',
      '--batch',
      '2',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const ranges = await world.db.query<{ seq: number; processed: number }>(
      "SELECT seq, processed FROM hushfield_ranges WHERE run_id = 'rowkey-1' AND model = 'GiftCard' ORDER BY seq",
    );
    expect(ranges).toHaveLength(Math.ceil(CARDS / 5));
    expect(ranges.reduce((sum, range) => sum + Number(range.processed), 0)).toBe(CARDS);
    expect(new Set(versions((await cards()).flatMap((row) => [row.pin, row.note])))).toEqual(
      new Set([rotated.json.rotated[0].version]),
    );
  },
);

test('an interrupted reencrypt resumes after its checkpoint (a row key cursor) and finishes every row', async () => {
  const rotated = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json']);
  expect(rotated.code).toBe(0);
  const target: number = rotated.json.rotated[0].version;
  const model = schema.models.GiftCard;
  const checkpoints = new CheckpointStore(world.prisma);
  const real = await createCasWriter(world.prisma, model);
  const controller = new AbortController();
  let writes = 0;
  // Stops the run after its second batch is written.
  const writer: CasWriter = {
    guardsShreds: real.guardsShreds,
    async write(batch) {
      const outcomes = await real.write(batch);
      if (++writes === 2) controller.abort();
      return outcomes;
    },
  };
  const run = (signal?: AbortSignal, casWriter: CasWriter = real) =>
    migrateQuietly(world, { model, writer: casWriter, checkpoints, batchSize: 4, signal });
  const stopped = await run(controller.signal, writer);
  expect(stopped.stopped).toBeTruthy();
  const [saved] = await world.db.query<{ cursor: string; processed: number }>(
    `SELECT "cursor", processed FROM hushfield_checkpoints WHERE id = 'reencrypt:GiftCard'`,
  );
  expect(saved.cursor).toBe(JSON.stringify(['card-008']));
  expect(versions((await cards()).map((row) => row.pin)).filter((version) => version === target)).toHaveLength(8);

  const resumed = await run();
  expect(resumed.resumedFrom).toBe(JSON.stringify(['card-008']));
  expect(resumed).toMatchObject({ scanned: CARDS - 8, written: CARDS - 8, failed: 0 });
  expect(new Set(versions((await cards()).flatMap((row) => [row.pin, row.note])))).toEqual(new Set([target]));
});

test('a checkpoint whose cursor is not in the row key (one the walk by nothing left) is not resumed: the run starts over', async () => {
  // What a run walked by the empty id left: a cursor of no values, in no fields.
  await new CheckpointStore(world.prisma).save(
    'reencrypt:GiftCard',
    '[]',
    4,
    { startedAt: new Date().toISOString(), pending: [] },
    'running',
  );
  const result = await world.runCli(['reencrypt', '--model', 'GiftCard', '--batch', '4', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ scanned: CARDS, failed: 0 });
  expect(result.json.models[0].resumedFrom ?? null).toBeNull();
  expect(result.stderr).toContain(
    "GiftCard: the unfinished run's checkpoint is keyed by (), the model's rows now by (code)",
  );
  const [saved] = await world.db.query<{ detail: string }>(
    `SELECT detail FROM hushfield_checkpoints WHERE id = 'reencrypt:GiftCard'`,
  );
  expect(JSON.parse(saved.detail)).toMatchObject({ keyFields: ['code'] });
});

describe('a model with no unique criterion the CLI can walk by', () => {
  const refused = withGiftCard((model) => ({ ...model, rowKeyFields: [] }));

  test.each([
    ['reencrypt', ['reencrypt', '--model', 'GiftCard', '--json']],
    ['reencrypt of every model', ['reencrypt', '--json']],
    ['a scaled-out reencrypt', ['reencrypt', '--workers', '2', '--run', 'rowkey-refused', '--json']],
    ['status', ['status', '--model', 'GiftCard', '--verify', '--json']],
  ])('%s is refused, naming the model and what to add, before any row is read or written', async (_, args) => {
    // Plaintext in another model too: a run over every model must not start on it first.
    await world.db.query("INSERT INTO customers (email) VALUES ('refused@example.org')");
    const before = await cards();
    const result = await world.runCli(args, { config: { schema: refused } });
    expect(result.code).toBe(2);
    expect(result.json.error.code).toBe('HUSHFIELD_CONFIG');
    expect(result.stdout + result.stderr).toContain('GiftCard has no @id and no unique criterion');
    expect(result.stdout + result.stderr).toContain('@unique (or @@unique) on required');
    expect(await cards()).toEqual(before);
    expect(await countRows(world.db, "customers WHERE email = 'refused@example.org'")).toBe(1);
    expect(await countRows(world.db, "hushfield_checkpoints WHERE id = 'reencrypt:Customer'")).toBe(0);
    await world.db.query("DELETE FROM customers WHERE email = 'refused@example.org'");
  });

  test('doctor fails the schema check for it, naming the model', async () => {
    const result = await world.runCli(['doctor', '--json'], { config: { schema: refused } });
    expect(result.code).toBe(1);
    const failed = result.json.checks.filter(
      (check: { check: string; level: string }) => check.check === 'schema' && check.level === 'fail',
    );
    expect(failed).toEqual([expect.objectContaining({ detail: { model: 'GiftCard' } })]);
    expect(failed[0].message).toContain('GiftCard has no @id and no unique criterion');
  });

  test('metadata generated before row keys were recorded is refused for it, and still works for models with an @id', async () => {
    const old = withGiftCard((model) => {
      const rest: Partial<ModelMeta> = { ...model };
      delete rest.rowKeyFields;
      return rest as ModelMeta;
    });
    const before = await cards();
    const result = await world.runCli(['reencrypt', '--model', 'GiftCard', '--json'], { config: { schema: old } });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain('run `prisma generate`');
    expect(await cards()).toEqual(before);
    const customers = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], { config: { schema: old } });
    expect(customers.code).toBe(0);
  });

  test('keys shred refuses before it destroys anything', async () => {
    const result = await world.runCli(['keys', 'shred', '--scope', 'default', '--yes', '--json'], {
      config: { schema: refused },
    });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain('GiftCard has no @id');
    const keys = await world.crypto().keys.list({ kind: 'scope', scope: 'default' });
    expect(keys.filter((key) => key.state === 'destroyed')).toEqual([]);
  });
});

test('keys shred counts every row of the model under the scope, then shreds it', async () => {
  const result = await world.runCli(['keys', 'shred', '--scope', 'default', '--yes', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.rowsUnreadable).toMatchObject({ GiftCard: CARDS, SeatHold: VENUES.length * SEATS });
});
