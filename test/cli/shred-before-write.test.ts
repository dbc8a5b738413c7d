/**
 * A scope shredded (by another process) after a `decrypt` batch was planned from its cached key,
 * at the last moment: when the batch's write is about to reach the database (after any key
 * check made before it). Made deterministic with a client whose first write to `users`, or lock
 * of key-store rows, waits for the shred first. No plaintext of the shredded scope is written.
 */
import { randomUUID } from 'node:crypto';
import { PrismaKeyStore } from '@hushfield/prisma';
import type { HushfieldSchema } from '@hushfield/prisma';
import type { BasePrismaClient } from '@hushfield/cli';
import { PrismaClient } from '../../prisma/generated/client/client';
import { describeOn } from '../support/provider';
import { appClient, createCliWorld, schema } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

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

/** A statement that writes `users` or locks key-store rows: where a batch's write begins. */
const WRITE_BEGINS = /^UPDATE [`"]users[`"]|hushfield_keys.*(FOR SHARE|LOCK IN SHARE MODE)|^UPDATE "hushfield_keys"/s;

/** A statement that writes `users`. */
const USERS_WRITE = /^UPDATE [`"]users[`"]/;

/**
 * A client on the test database that starts shredding `scope` (through another client)
 * once, just before the first statement `at` matches (or the first `updateMany` of User), and
 * waits for the shred, or for `waitMs` at most, before sending it.
 */
function shreddingClient(
  at: RegExp,
  scope: string,
  waitMs = Infinity,
): { client: BasePrismaClient; shred: () => Promise<number> | undefined; settledInTime: () => boolean } {
  let shred: Promise<number> | undefined;
  let settled = false;
  let settledInTime = false;
  const base = new PrismaClient({ adapter: world.db.adapter() });
  const client = base.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        const sql = typeof (args as unknown[])?.[0] === 'string' ? ((args as string[])[0] ?? '') : '';
        const writes = (model === 'User' && operation === 'updateMany') || at.test(sql.trim());
        if (writes && shred === undefined) {
          shred = new PrismaKeyStore(world.prisma).destroy('scope', scope);
          void shred.then(() => (settled = true));
          const timer = (resolve: () => void) => (waitMs === Infinity ? undefined : setTimeout(resolve, waitMs));
          await Promise.race([shred, new Promise<void>((resolve) => timer(resolve))]);
          settledInTime = settled;
        }
        return query(args);
      },
    },
  });
  return { client: client as unknown as BasePrismaClient, shred: () => shred, settledInTime: () => settledInTime };
}

/** Rows of `tenant` whose email is stored as plaintext. */
async function plainCount(tenant: string): Promise<number> {
  const sql = `SELECT count(*) AS n FROM users WHERE "tenantId" = $1 AND email NOT LIKE 'hfe$%'`;
  const [{ n }] = await world.db.query<{ n: string }>(sql, [tenant]);
  return Number(n);
}

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  const users = Array.from({ length: 40 }, (_, i) => ({
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

test('a shred landing between the key check and the write of a decrypt batch keeps its rows sealed', async () => {
  const { client, shred } = shreddingClient(WRITE_BEGINS, 'erase');
  const result = await world.runCli(['decrypt', '--model', 'User', '--batch', '20', '--concurrency', '1', '--json'], {
    config: { schema: readonlySchema, prisma: () => client },
  });
  expect(shred()).toBeDefined();
  // The shredded scope's rows stay sealed (and unreadable for good); the other scope is decrypted.
  expect(await plainCount('erase')).toBe(0);
  expect(await plainCount('keep')).toBe(20);
  expect(result.code).toBe(3);
  const failures = (result.json as { models: { failed: number; decrypted: number }[] }).models[0];
  expect(failures).toMatchObject({ failed: 20, decrypted: 20 });
}, 120_000);

describeOn(
  ['postgresql', 'mysql'],
  'better-sqlite3 waits for a lock without yielding: a shred in this process would block the batch holding it',
)('a shred concurrent with a batch write', () => {
  test('waits for the batch to commit', async () => {
    const app = appClient(world);
    await app.user.createMany({
      data: Array.from({ length: 10 }, (_, i) => ({
        id: randomUUID(),
        tenantId: 'later',
        name: `later ${i}`,
        email: `later${i}@example.com`,
      })),
    });
    const { client, shred, settledInTime } = shreddingClient(USERS_WRITE, 'later', 500);
    const result = await world.runCli(['decrypt', '--model', 'User', '--batch', '100', '--json'], {
      config: { schema: readonlySchema, prisma: () => client },
    });
    expect(await shred()).toBe(1);
    // The batch locked its key rows before its write: the shred waited for it to commit, so what it
    // wrote was written before the shred (and the rows of the scope shredded above stay sealed).
    expect(settledInTime()).toBe(false);
    expect(await plainCount('later')).toBe(10);
    expect(await plainCount('erase')).toBe(0);
    expect(result.code).toBe(3);
  }, 120_000);
});
