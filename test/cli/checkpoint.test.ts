/** The checkpoint store on the `HushfieldCheckpoint` table. */
import { CheckpointStore, MAX_PENDING, checkpointId } from '../../packages/cli/src/checkpoint';
import { createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
});

afterAll(async () => {
  await world?.close();
});

test('start, save and read back a checkpoint; restart clears it', async () => {
  const store = new CheckpointStore(world.prisma);
  const id = checkpointId('reencrypt', 'Customer');
  const started = await store.start(id, new Date('2026-01-01T00:00:00Z'));
  expect(started).toMatchObject({
    id: 'reencrypt:Customer',
    cursor: null,
    state: 'running',
    processed: 0,
    detail: { startedAt: '2026-01-01T00:00:00.000Z', pending: [] },
  });
  await store.save(id, '[500]', 500, { startedAt: started.detail.startedAt, pending: ['[42]'], failed: 1 });
  expect(await store.get(id)).toMatchObject({
    cursor: '[500]',
    processed: 500,
    state: 'running',
    detail: { pending: ['[42]'], failed: 1 },
  });
  expect(await store.clear(id)).toBe(true);
  expect(await store.get(id)).toBeNull();
});

test('caps the pending keys it stores and records the overflow', async () => {
  const store = new CheckpointStore(world.prisma);
  const id = checkpointId('decrypt', 'Customer');
  const started = await store.start(id, new Date());
  const pending = Array.from({ length: MAX_PENDING + 5 }, (_, i) => `[${i}]`);
  await store.save(id, '[1]', 1, { startedAt: started.detail.startedAt, pending });
  const read = await store.get(id);
  expect(read?.detail.pending).toHaveLength(MAX_PENDING);
  expect(read?.detail.pendingOverflow).toBe(true);
});

test('a hand-edited detail column does not stop a resume', async () => {
  const store = new CheckpointStore(world.prisma);
  const id = checkpointId('reencrypt', 'User');
  await store.start(id, new Date());
  await world.db.query(`UPDATE hushfield_checkpoints SET detail = '{not json', "cursor" = '["u1"]' WHERE id = $1`, [
    id,
  ]);
  expect(await store.get(id)).toMatchObject({ cursor: '["u1"]', state: 'running', detail: { pending: [] } });
});

test('refuses a client without the HushfieldCheckpoint model', () => {
  expect(() => new CheckpointStore({ $disconnect: async () => undefined })).toThrow(/HushfieldCheckpoint/);
});
