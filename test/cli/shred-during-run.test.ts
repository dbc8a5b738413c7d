/**
 * A scope shredded (by another process: its own key cache) while `decrypt` runs. The
 * shred must win: no value of the shredded scope may be written back as plaintext after it
 * (the decrypt run still holds the scope key in its cache, for up to `cache.ttlMs`).
 */
import { randomUUID } from 'node:crypto';
import type { HushfieldSchema } from '@hushfield/prisma';
import { appClient, createCliWorld, schema } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const USERS = 600;

/** The test schema with User.email switched to readonly (the way out). */
const readonlySchema: HushfieldSchema = {
  ...schema,
  models: {
    ...schema.models,
    User: {
      ...schema.models.User,
      encrypted: {
        ...schema.models.User.encrypted,
        email: { ...schema.models.User.encrypted.email, mode: 'readonly' },
      },
    },
  },
};

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: randomUUID(),
    tenantId: i % 2 === 0 ? 'keep' : 'erase',
    name: `user ${i}`,
    email: `user${i}@example.com`,
  }));
  await app.user.createMany({ data: users });
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('no plaintext of a scope shredded during a decrypt run is written after the shred', async () => {
  const decrypt = world.runCli(
    ['decrypt', '--model', 'User', '--batch', '20', '--concurrency', '1', '--max-rows-per-second', '200', '--json'],
    { config: { schema: readonlySchema } },
  );
  // Let it decrypt a few batches of both scopes (their keys are now in its cache), then shred.
  for (;;) {
    const [{ n }] = await world.db.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE email NOT LIKE 'hfe$%'`);
    if (Number(n) >= 60) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const shred = await world.runCli(['keys', 'shred', '--scope', 'erase', '--yes', '--json']);
  expect(shred.code).toBe(0);
  const [{ n: plainAtShred }] = await world.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM users WHERE "tenantId" = 'erase' AND email NOT LIKE 'hfe$%'`,
  );

  const result = await decrypt;
  const [{ n: plainAfter }] = await world.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM users WHERE "tenantId" = 'erase' AND email NOT LIKE 'hfe$%'`,
  );
  // What the decrypt wrote of the shredded scope after the shred is plaintext of erased data.
  // Each batch checks its rows' keys in its write's own transaction, the key rows locked: a
  // shred either waits for the batch (counted above) or is seen by it. Not one row may land.
  expect(Number(plainAfter) - Number(plainAtShred)).toBe(0);
  expect(result.code).toBe(3);
}, 120_000);
