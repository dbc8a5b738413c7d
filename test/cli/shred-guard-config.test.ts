/**
 * Which key stores a bulk run's shred guard covers (the key rows locked in each batch's write
 * transaction, see `shred-guard.ts`): the default one, and the same written out as the config
 * sample shows it (`keyStore: (client) => new PrismaKeyStore(client)`, "the default"). A key
 * store elsewhere gets the weaker check just before the write.
 */
import { PassThrough } from 'node:stream';
import { MemoryKeyStore } from '@hushfield/core';
import { type HushfieldConfig } from '@hushfield/cli';
import { PrismaKeyStore } from '@hushfield/prisma';
import { CommandContext } from '../../packages/cli/src/context';
import { Output } from '../../packages/cli/src/output';
import { createCliWorld, type CliWorld } from './support';

let world: CliWorld;
beforeAll(async () => {
  world = await createCliWorld();
});
afterAll(async () => {
  await world.close();
});

/** Whether a run under `overrides` locks the key rows with each batch. */
async function guarded(overrides: Partial<HushfieldConfig>): Promise<boolean> {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
  const ctx = new CommandContext(
    world.config(overrides),
    new Output({ ...io, stdinIsTTY: false, stderrIsTTY: false }, false),
  );
  try {
    await ctx.keyStore();
    return (await ctx.shredGuard()) !== undefined;
  } finally {
    await ctx.close();
  }
}

it('locks the key rows for the default key store, written out or not', async () => {
  expect(await guarded({})).toBe(true);
  // the config sample's "keyStore: (client) => new PrismaKeyStore(client), // the default"
  expect(await guarded({ keyStore: (client) => new PrismaKeyStore(client) })).toBe(true);
});

it('checks a key store elsewhere just before the write instead', async () => {
  expect(await guarded({ keyStore: new MemoryKeyStore() })).toBe(false);
  // another client (its own connections): the batch's transaction cannot lock its rows
  expect(await guarded({ keyStore: new PrismaKeyStore(world.prisma) })).toBe(false);
});

it('encrypts with the default key store written out, its batches guarded', async () => {
  await world.db.query(
    `INSERT INTO customers (email, phone) VALUES ('  guard1@example.com ', NULL), ('guard2@example.com', NULL)`,
  );
  const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], {
    config: { keyStore: (client) => new PrismaKeyStore(client) },
  });
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ model: 'Customer', written: 2, failed: 0 });
  expect(await world.db.query("SELECT id FROM customers WHERE email NOT LIKE 'hfe$%'")).toEqual([]);
});
