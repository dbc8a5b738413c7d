/**
 * A row whose row key the application changes during a run, from after the run's cursor to
 * before it, is not seen by that run, which still reports success (packages/cli/README.md,
 * "Models without an `@id`"). These tests follow what a team does after such a run: a key
 * version is never destroyed on its own (no `keys retire` or `keys destroy`; a rotation's old
 * version stays `retired`, decrypting, until the whole scope is shredded), so the missed row
 * stays readable, `status` counts it under the retired version (or as plaintext), and the next
 * run moves it. A field switched to `strict` with the missed row still plaintext keeps that
 * plaintext (the run counts it and exits partial) instead of losing it.
 */
import { PassThrough } from 'node:stream';
import { isEnvelope } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '@hushfield/prisma';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createCasWriter } from '../../packages/cli/src/cas-writer';
import type { CasWriter } from '../../packages/cli/src/cas-writer';
import { CheckpointStore } from '../../packages/cli/src/checkpoint';
import { migrateModel } from '../../packages/cli/src/migrator';
import type { MigrateResult } from '../../packages/cli/src/migrator-result';
import { createProgress } from '../../packages/cli/src/progress';
import { appClient, createCliWorld, insertRows, schema } from './support';
import type { CliWorld } from './support';

const CARDS = 23;
let world: CliWorld;

/**
 * A `reencrypt` of GiftCard (optionally with `model` in place of the schema's) in batches of 4,
 * during which the application renames `from` to `to` right after the first batch is written.
 */
async function runRenamingMidRun(from: string, to: string, model: ModelMeta = schema.models.GiftCard) {
  const real = await createCasWriter(world.prisma, model);
  let writes = 0;
  const writer: CasWriter = {
    guardsShreds: real.guardsShreds,
    async write(batch) {
      const outcomes = await real.write(batch);
      if (++writes === 1) await world.db.query('UPDATE gift_cards SET code = $1 WHERE code = $2', [to, from]);
      return outcomes;
    },
  };
  const result: MigrateResult = await migrateModel({
    client: world.prisma,
    crypto: world.crypto(),
    keyStore: new PrismaKeyStore(world.prisma),
    model,
    mode: 'reencrypt',
    writer,
    checkpoints: new CheckpointStore(world.prisma),
    batchSize: 4,
    concurrency: 1,
    dryRun: false,
    resume: 'auto',
    progress: createProgress(new PassThrough(), { tty: false, quiet: true }),
    log: () => undefined,
  });
  expect(writes).toBeGreaterThan(1);
  return result;
}

async function pinOf(code: string): Promise<string> {
  const [row] = await world.db.query<{ pin: string }>('SELECT pin FROM gift_cards WHERE code = $1', [code]);
  return row.pin;
}

/** GiftCard's `pin` counts in `status --json`, and its exit code. */
async function pinStatus(): Promise<{ code: number; pin: { plaintext: number; current: number; retired: number } }> {
  const status = await world.runCli(['status', '--model', 'GiftCard', '--json']);
  const pin = status.json.models[0].fields.find((field: { field: string }) => field.field === 'pin');
  return { code: status.code, pin };
}

beforeAll(async () => {
  world = await createCliWorld();
  await insertRows(world.db, 'gift_cards', ['code', 'label', 'pin', 'note'], CARDS, (i) => [
    `card-${String(i).padStart(3, '0')}`,
    null,
    `pin ${i}`,
    null,
  ]);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('an adoption run that missed a re-keyed plaintext row reports success; status counts the plaintext, a strict run keeps it, and the next run encrypts it', async () => {
  const missed = await runRenamingMidRun('card-010', 'card-000a');
  // The documented weakness: nothing in the result says a row was missed.
  expect(missed).toMatchObject({ scanned: CARDS - 1, written: CARDS - 1, failed: 0, pending: 0, strictPlaintext: 0 });
  expect(await pinOf('card-000a')).toBe('pin 10');
  expect((await pinStatus()).pin).toMatchObject({ plaintext: 1, current: CARDS - 1 });

  // The team switches the field to strict regardless: the run leaves the plaintext in place and says so.
  const strict: HushfieldSchema['models'][string] = {
    ...schema.models.GiftCard,
    encrypted: {
      ...schema.models.GiftCard.encrypted,
      pin: { ...schema.models.GiftCard.encrypted.pin, mode: 'strict' },
    },
  };
  const strictRun = await runRenamingMidRun('no-such-card', 'no-such-card-either', strict);
  expect(strictRun).toMatchObject({ strictPlaintext: 1, failed: 0 });
  expect(await pinOf('card-000a')).toBe('pin 10');

  const again = await world.runCli(['reencrypt', '--model', 'GiftCard', '--batch', '4', '--json']);
  expect(again.code).toBe(0);
  expect(again.json.models[0]).toMatchObject({ written: 1, failed: 0 });
  expect(isEnvelope(await pinOf('card-000a'))).toBe(true);
  expect((await pinStatus()).pin).toMatchObject({ plaintext: 0, current: CARDS });
});

test('a rotation run that missed a re-keyed row leaves it under the retired version, which no command destroys on its own: it stays readable and the next run moves it', async () => {
  const rotated = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json']);
  expect(rotated.code).toBe(0);
  const target: number = rotated.json.rotated[0].version;
  const old = target - 1;

  const missed = await runRenamingMidRun('card-012', 'card-000b');
  expect(missed).toMatchObject({ scanned: CARDS - 1, written: CARDS - 1, failed: 0, pending: 0 });
  expect(world.crypto().describe(await pinOf('card-000b')).version).toBe(old);

  // status, the check the README asks for before relying on the run, finds the row.
  const status = await pinStatus();
  expect(status.code).toBe(0);
  expect(status.pin).toMatchObject({ current: CARDS - 1, retired: 1 });

  // The old version is retired, material and all; the CLI has no command to destroy it alone.
  const retired = await world.runCli(['keys', 'list', '--scope', 'default', '--state', 'retired', '--json']);
  expect(retired.json.keys.map((key: { version: number }) => key.version)).toContain(old);
  for (const command of ['retire', 'destroy']) {
    const refused = await world.runCli(['keys', command, '--scope', 'default']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`unknown command '${command}'`);
    expect((await world.runCli(['keys', 'list', '--scope', 'default', '--json'])).json.keys).toContainEqual(
      expect.objectContaining({ version: old, state: 'retired' }),
    );
  }
  // A second rotation retires the active version; the first old one stays retired, not destroyed.
  const second = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json']);
  expect(second.code).toBe(0);
  const after = (await world.runCli(['keys', 'list', '--scope', 'default', '--json'])).json.keys;
  expect(after).toContainEqual(expect.objectContaining({ version: old, state: 'retired' }));

  // The application still reads the missed row.
  const card = await appClient(world).giftCard.findUnique({ where: { code: 'card-000b' } });
  expect(card?.pin).toBe('pin 12');

  // The next run finds it (and every row the first rotation's run moved) and moves it.
  const again = await world.runCli(['reencrypt', '--model', 'GiftCard', '--batch', '4', '--json']);
  expect(again.code).toBe(0);
  expect(again.json.models[0]).toMatchObject({ written: CARDS, failed: 0, pending: 0 });
  expect(world.crypto().describe(await pinOf('card-000b')).version).toBe(second.json.rotated[0].version);
  expect((await pinStatus()).pin).toMatchObject({ current: CARDS, retired: 0 });
});
