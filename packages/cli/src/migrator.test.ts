/**
 * Checkpoint saves of a bulk run happen in the background while later batches are planned:
 * they must still run one at a time, only ever move forward, name committed batches only,
 * and a failed save must stop the run.
 */
import { isEnvelope } from '@hushfield/core';
import { createCliWorld, migrateQuietly, schema } from '../../../test/cli/support';
import type { CliWorld, QuietMigration } from '../../../test/cli/support';
import { createCasWriter } from './cas-writer';
import type { CasWriter } from './cas-writer';
import { CheckpointStore } from './checkpoint';
import type { CheckpointDetail, CheckpointState } from './checkpoint';

let world: CliWorld;

beforeEach(async () => {
  world = await createCliWorld();
  await world.db.query(
    `INSERT INTO customers (id, email) SELECT g, 'row' || g || '@example.org' FROM generate_series(1, 12) AS g`,
  );
});

afterEach(async () => {
  await world?.close();
});

/** Ids of the rows whose email is stored encrypted. */
async function encryptedIds(): Promise<number[]> {
  const rows = await world.db.query<{ id: number; email: string }>('SELECT id, email FROM customers ORDER BY id');
  return rows.filter((row) => isEnvelope(row.email)).map((row) => row.id);
}

/** A checkpoint store whose saves are slow, observed, and optionally failing. */
class ObservedStore extends CheckpointStore {
  inFlight = 0;
  maxInFlight = 0;
  readonly saved: { cursor: string | null; state: CheckpointState; committed: number[]; pending: number }[] = [];

  constructor(private readonly failOnSave?: number) {
    super(world.prisma);
  }

  override async save(
    id: string,
    cursor: string | null,
    processed: number,
    detail: CheckpointDetail,
    state?: CheckpointState,
  ): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // What the database holds when the checkpoint is written.
      const committed = await encryptedIds();
      await new Promise((resolve) => setTimeout(resolve, 15));
      this.saved.push({ cursor, state: state ?? 'running', committed, pending: detail.pending.length });
      if (this.saved.length === this.failOnSave) throw new Error('connection reset');
      await super.save(id, cursor, processed, detail, state);
    } finally {
      this.inFlight--;
    }
  }
}

async function run(checkpoints: CheckpointStore, overrides: Partial<QuietMigration> = {}) {
  return migrateQuietly(world, {
    model: schema.models.Customer,
    writer: await createCasWriter(world.prisma, schema.models.Customer),
    checkpoints,
    batchSize: 2,
    concurrency: 2,
    ...overrides,
  });
}

/** The last id a cursor names (`[6]` → 6). */
const cursorId = (cursor: string | null): number => (cursor === null ? 0 : (JSON.parse(cursor) as number[])[0]);

test('checkpoint saves run one at a time, move forward, and name only committed rows', async () => {
  const checkpoints = new ObservedStore();
  const result = await run(checkpoints);
  expect(result.written).toBe(12);
  expect(checkpoints.maxInFlight).toBe(1);
  const cursors = checkpoints.saved.map((save) => cursorId(save.cursor));
  expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  for (const save of checkpoints.saved) {
    const upTo = cursorId(save.cursor);
    expect(save.committed.filter((id) => id <= upTo)).toEqual(Array.from({ length: upTo }, (_, i) => i + 1));
  }
  expect(checkpoints.saved.at(-1)).toMatchObject({ cursor: '[12]', state: 'done' });
});

test('a failed checkpoint save stops the run with a checkpoint that names committed rows only', async () => {
  const checkpoints = new ObservedStore(2);
  const result = await run(checkpoints);
  expect(result.stopped?.message).toMatch(/connection reset/);
  expect(result.written).toBeLessThan(12);
  const stored = await checkpoints.get('reencrypt:Customer');
  const upTo = cursorId(stored?.cursor ?? null);
  expect(stored?.state).toBe('running');
  expect((await encryptedIds()).filter((id) => id <= upTo)).toEqual(Array.from({ length: upTo }, (_, i) => i + 1));
});

test('rows that keep losing races are held up to maxPending, then the run asks for a full pass', async () => {
  const real = await createCasWriter(world.prisma, schema.models.Customer);
  // An application that rewrites every row between the CLI's read and its compare-and-swap.
  const racing: CasWriter = {
    async write(writes) {
      const ids = writes.map((write) => write.key[0] as number);
      await world.db.query(
        "UPDATE customers SET email = 'app' || id || '.' || md5(random()::text) WHERE id = ANY($1)",
        [ids],
      );
      return real.write(writes);
    },
  };
  const checkpoints = new ObservedStore();
  const result = await run(checkpoints, { writer: racing, maxPending: 3, maxPasses: 2 });
  expect(result.lostRaces).toBeGreaterThanOrEqual(12);
  expect(result.pending).toBeLessThanOrEqual(3);
  expect(result.pendingOverflow).toBe(true);
  expect(Math.max(...checkpoints.saved.map((save) => save.pending))).toBeLessThanOrEqual(3);
  expect(checkpoints.saved.at(-1)?.state).toBe('partial');
  // Nothing the application wrote was overwritten.
  expect(await encryptedIds()).toEqual([]);
});
