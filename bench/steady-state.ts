/**
 * What a point operation costs the extension in a long-running client, once its bounded caches
 * are full: CPU per operation, in blocks, of the extension's handler with Prisma's query answered
 * from memory (no database round trip, so that only hushfield's own work is counted).
 *
 * A structure whose cost grows with what it holds, or with what it has dropped, shows as blocks
 * that cost more than the first ones. The client's DEK cache and its map of seen rows hold 10,000
 * entries each by default; the warm-up (20,000 operations) fills both, so every measured create
 * evicts from both.
 *
 *   tsx --tsconfig bench/tsconfig.json bench/steady-state.ts [create|findUnique|update] [per block=20000] [blocks=5]
 *
 * Uses TEST_DATABASE_URL (else PostgreSQL on 127.0.0.1:5432) to seal 2,000 rows and warm the
 * client up. Prints a report; writes nothing.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { OperationHandler, type QueryParams } from '../packages/prisma/dist/extension/query/operations';
import type { PrismaClient } from '../prisma/generated/client/client';
import { createTestDatabase } from '../test/support/database';
import { userInputs } from './lib/fixtures';
import { encryptedClient, plainClient } from './lib/prisma-clients';
import { insertEncryptedUsers } from './lib/seed-users';

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/postgres';

type Row = Record<string, unknown>;

/** The extension's handler of `users`, caught on the first operation it serves. */
async function handlerOf(users: { findUnique(args: object): Promise<unknown> }, where: object) {
  const caught: { handler?: OperationHandler } = {};
  const original = OperationHandler.prototype.handle;
  OperationHandler.prototype.handle = async function (this: OperationHandler, params: QueryParams, ...rest) {
    caught.handler = this;
    return original.call(this, params, ...rest);
  };
  try {
    await users.findUnique({ where });
  } finally {
    OperationHandler.prototype.handle = original;
  }
  return caught.handler as OperationHandler;
}

async function main(): Promise<void> {
  const [operation = 'create', perBlockArg, blocksArg] = process.argv.slice(2);
  if (!['create', 'findUnique', 'update'].includes(operation)) throw new Error(`unknown operation: ${operation}`);
  const perBlock = Number(perBlockArg ?? 20_000);
  const blocks = Number(blocksArg ?? 5);
  const db = await createTestDatabase('postgres');
  const keyring = new LocalKeyring(randomBytes(32));
  const base: PrismaClient = plainClient(db);
  try {
    const rows = userInputs(0, 2_000, 'q', 10);
    await insertEncryptedUsers(db, encryptedClient(base, keyring, { dekCache: false }).crypto, rows);
    const users = encryptedClient(base, keyring).users;
    const handler = await handlerOf(users, { email: rows[0].email });
    // What Prisma's query would return: the stored row (envelopes as stored), with what was written.
    const stored = (await base.user.findMany()) as unknown as Row[];
    const byIndex = new Map(stored.map((row) => [row.emailIdx, row]));
    const byId = new Map(stored.map((row) => [row.id, row]));
    const creates = userInputs(0, 5_000, 'c', 10);
    const answer = (j: number) => async (args: Row) => {
      const where = (args.where ?? {}) as Row;
      if (operation === 'create') return { id: `created-${j}`, createdAt: new Date(), ...(args.data as Row) };
      const row = where.emailIdx !== undefined ? byIndex.get(where.emailIdx) : byId.get(where.id);
      return { ...row, ...(args.data as Row | undefined) };
    };
    const once = (j: number) => {
      const args =
        operation === 'create'
          ? { data: { ...creates[j % creates.length] } }
          : operation === 'findUnique'
            ? { where: { email: rows[(j * 7919) % rows.length].email } }
            : { where: { id: stored[j % stored.length].id }, data: { notes: `notes ${j}` } };
      return handler.handle({ model: 'User', operation, args, query: answer(j) });
    };
    for (let j = 0; j < 20_000; j++) await once(j);
    console.log(`${operation}, query answered from memory, after 20,000 operations: CPU µs per operation`);
    for (let block = 0; block < blocks; block++) {
      const cpu = process.cpuUsage();
      for (let j = 0; j < perBlock; j++) await once(20_000 + block * perBlock + j);
      const used = process.cpuUsage(cpu);
      console.log(`block ${block + 1} (${perBlock} ops): ${((used.user + used.system) / perBlock).toFixed(1)}`);
    }
  } finally {
    await base.$disconnect();
    await db.close();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
