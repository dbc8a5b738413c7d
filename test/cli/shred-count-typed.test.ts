/**
 * `keys shred` reports how many rows it makes unreadable: a row whose only sealed values are
 * `Bytes` (or, on PostgreSQL, `String[]`) is one of them, as much as a row with a sealed string.
 */
import { testProvider } from '../support/provider';
import { appClient, createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const lists = testProvider() === 'postgresql';

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  for (let i = 0; i < 6; i++) {
    await app.document.create({
      data: {
        id: `doc-${i}`,
        tenantId: i < 4 ? 'erase' : 'keep',
        title: 't',
        body: { secret: `body-${i}` },
        // Rows 0 and 1: a Bytes value; rows 2 and 3: a String[] value where there are lists, else Bytes.
        ...(i < 2 || !lists ? { blob: Buffer.from(`blob-${i}`) } : { tags: [`tag-${i}`] }),
      },
    });
  }
  // The Json body as legacy plaintext: what is left sealed is the Bytes or String[] value alone.
  await world.db.query(`UPDATE documents SET body = '{"x":1}'`);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('counts rows whose only sealed values are Bytes or String[] among those a shred makes unreadable', async () => {
  const result = await world.runCli(['keys', 'shred', '--scope', 'erase', '--yes', '--json']);
  expect(result.code).toBe(0);
  expect(result.json).toMatchObject({ scope: 'erase', rowsUnreadable: { Document: 4, total: 4 } });
}, 120_000);
