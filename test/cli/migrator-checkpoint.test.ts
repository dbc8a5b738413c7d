/**
 * The checkpoint of a concurrent `reencrypt` run never moves past a batch that failed, even
 * when a later batch (running beside it) committed: a resumed run must not skip its rows.
 */
import { PrismaKeyStore } from '@fieldseal/prisma';
import { createCasWriter } from '../../packages/cli/src/cas-writer';
import type { CasWriter } from '../../packages/cli/src/cas-writer';
import { CheckpointStore, checkpointId } from '../../packages/cli/src/checkpoint';
import { migrateModel } from '../../packages/cli/src/migrator';
import { createProgress } from '../../packages/cli/src/progress';
import { PassThrough } from 'node:stream';
import { createCliWorld, schema } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
});

afterAll(async () => {
  await world?.close();
});

test('a failed batch keeps the checkpoint before it although the batch after it committed', async () => {
  await world.db.query(
    `INSERT INTO customers (id, email) VALUES (1, 'one@example.org'), (2, 'two@example.org'), (3, 'three@example.org'), (4, 'four@example.org')`,
  );
  const model = schema.models.Customer;
  const real = await createCasWriter(world.prisma, model);
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
  const result = await migrateModel({
    client: world.prisma, crypto: world.crypto(), keyStore: new PrismaKeyStore(world.prisma), model, mode: 'reencrypt',
    writer, checkpoints, batchSize: 2, concurrency: 2, dryRun: false, resume: 'auto',
    progress: createProgress(new PassThrough(), { tty: false, quiet: true }), log: () => undefined,
  });
  expect(result.stopped).toBeDefined();
  const stored = await world.db.query<{ id: number; email: string }>('SELECT id, email FROM customers ORDER BY id');
  expect(stored.filter((row) => row.email.endsWith('@example.org')).map((row) => row.id)).toEqual([1, 2]);
  const saved = await checkpoints.get(checkpointId('reencrypt', 'Customer'));
  // Rows 1 and 2 are still plaintext: a resume must start at or before them.
  expect(saved?.cursor ?? null).toBeNull();
});
