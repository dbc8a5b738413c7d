/**
 * The checkpoint of a concurrent `reencrypt` run never moves past a batch that failed, even
 * when a later batch (running beside it) committed: a resumed run must not skip its rows.
 */
import { createCasWriter } from '../../packages/cli/src/cas-writer';
import type { CasWriter } from '../../packages/cli/src/cas-writer';
import { CheckpointStore, checkpointId } from '../../packages/cli/src/checkpoint';
import { createCliWorld, migrateQuietly, schema, insertRows } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

/** One migrateModel run over Customer with the defaults of these tests. */
function run(options: {
  writer: CasWriter;
  checkpoints: CheckpointStore;
  batchSize?: number;
  concurrency?: number;
  signal?: AbortSignal;
}) {
  return migrateQuietly(world, {
    model: schema.models.Customer,
    writer: options.writer,
    checkpoints: options.checkpoints,
    batchSize: options.batchSize ?? 2,
    concurrency: options.concurrency ?? 1,
    signal: options.signal,
  });
}

beforeEach(async () => {
  world = await createCliWorld();
});

afterEach(async () => {
  await world?.close();
});

test('a failed batch keeps the checkpoint before it although the batch after it committed', async () => {
  await world.db.query(
    `INSERT INTO customers (id, email) VALUES (1, 'one@example.org'), (2, 'two@example.org'), (3, 'three@example.org'), (4, 'four@example.org')`,
  );
  const real = await createCasWriter(world.prisma, schema.models.Customer);
  let calls = 0;
  // The first batch's write fails late (a database error); the second's commits before it.
  const writer: CasWriter = {
    async write(writes) {
      calls++;
      if (calls === 1) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        throw new Error('connection reset');
      }
      return real.write(writes);
    },
  };
  const checkpoints = new CheckpointStore(world.prisma);
  const result = await run({ writer, checkpoints, concurrency: 2 });
  expect(result.stopped).toBeDefined();
  const stored = await world.db.query<{ id: number; email: string }>('SELECT id, email FROM customers ORDER BY id');
  expect(stored.filter((row) => row.email.endsWith('@example.org')).map((row) => row.id)).toEqual([1, 2]);
  const saved = await checkpoints.get(checkpointId('reencrypt', 'Customer'));
  // Rows 1 and 2 are still plaintext: a resume must start at or before them.
  expect(saved?.cursor ?? null).toBeNull();
});

test('a run resumed after rows failed does not end as done', async () => {
  await insertRows(world.db, 'customers', ['id', 'email'], 4, (i) => [i, `row${i}@example.org`]);
  const real = await createCasWriter(world.prisma, schema.models.Customer);
  const checkpoints = new CheckpointStore(world.prisma);
  const stop = new AbortController();
  // First run: row 1's update fails, then the run is interrupted after that batch.
  const failing: CasWriter = {
    async write(writes) {
      stop.abort();
      const outcomes = await real.write(writes.slice(1));
      return [{ status: 'error', error: new Error('connection reset') }, ...outcomes];
    },
  };
  const first = await run({ writer: failing, checkpoints, signal: stop.signal });
  expect(first.failed).toBe(1);
  expect(first.stopped?.code).toBe('INTERRUPTED');
  const resumed = await run({ writer: real, checkpoints });
  expect(resumed.resumedFrom).toBe('[2]');
  // Row 1 is still plaintext and lies before the cursor: the resumed run must say so.
  expect(resumed.failed).toBeGreaterThan(0);
  expect((await checkpoints.get(checkpointId('reencrypt', 'Customer')))?.state).toBe('partial');
});

test('a run resumed from a checkpoint whose pending list overflowed does not end as done', async () => {
  await insertRows(world.db, 'customers', ['id', 'email'], 4, (i) => [i, `row${i}@example.org`]);
  const checkpoints = new CheckpointStore(world.prisma);
  const id = checkpointId('reencrypt', 'Customer');
  const started = await checkpoints.start(id, new Date());
  await checkpoints.save(id, '[2]', 2, { startedAt: started.detail.startedAt, pending: [], pendingOverflow: true });
  const resumed = await run({ writer: await createCasWriter(world.prisma, schema.models.Customer), checkpoints });
  expect(resumed.resumedFrom).toBe('[2]');
  expect(resumed.pendingOverflow).toBe(true);
  expect((await checkpoints.get(id))?.state).toBe('partial');
});
