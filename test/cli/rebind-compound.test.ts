/**
 * `reencrypt --rebind` on a model with a compound id (Setting, `@@id([orgId, name])`, bound to
 * `name` together with its scope): the walk goes by the compound key, status and doctor count
 * the values sealed before the binding, and the rebound values read back bound to their name.
 */
import { fieldEncryption } from '@hushfield/prisma';
import type { HushfieldSchema } from '@hushfield/prisma';
import { DecryptionError } from '@hushfield/core';
import { appClient, createCliWorld, schema } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
let app: ReturnType<typeof appClient>;
let before: ReturnType<typeof appClient>;
let orgId: string;

/** The test schema as it was before `bind: name` was added to Setting. */
function unboundSchema(): HushfieldSchema {
  const setting: Record<string, unknown> = { ...schema.models.Setting, bindRowId: false };
  delete setting.bindField;
  delete setting.bindGeneration;
  return { ...schema, models: { ...schema.models, Setting: setting as unknown as HushfieldSchema['models'][string] } };
}

beforeAll(async () => {
  world = await createCliWorld();
  app = appClient(world);
  before = world.prisma.$extends(
    fieldEncryption({ schema: unboundSchema(), keyring: world.keyring, cache: { ttlMs: 60_000 } }),
  ) as unknown as ReturnType<typeof appClient>;
  orgId = (await app.organization.create({ data: { slug: 'rebind-compound' } })).id;
}, 120_000);

afterAll(async () => {
  await world?.close();
});

const stored = (name: string) =>
  world.db
    .query<{ value: string | null }>('SELECT value FROM settings WHERE org_id = $1 AND name = $2', [orgId, name])
    .then((rows) => rows[0]?.value);

test('status counts values sealed before the binding; --rebind binds them to their name', async () => {
  for (const name of ['a', 'b']) await before.setting.create({ data: { orgId, name, value: `old ${name}` } });
  await expect(app.setting.findUnique({ where: { orgId_name: { orgId, name: 'a' } } })).rejects.toThrow(
    DecryptionError,
  );

  const status = await world.runCli(['status', '--model', 'Setting', '--verify', '--json']);
  expect(status.code).toBe(3);
  const fields = status.json.models[0].fields as { field: string; unbound?: number }[];
  expect(Object.fromEntries(fields.map((field) => [field.field, field.unbound]))).toEqual({ value: 2 });
  const doctor = await world.runCli(['doctor', '--json']);
  const values = doctor.json.checks.find(
    (check: { check: string; detail?: { model?: string } }) =>
      check.check === 'values' && check.detail?.model === 'Setting',
  );
  expect(values.detail).toMatchObject({ unbound: 2 });
  expect(values.message).toContain('hushfield reencrypt --model Setting --rebind');

  const unbound = { a: await stored('a'), b: await stored('b') };
  const run = await world.runCli(['reencrypt', '--model', 'Setting', '--rebind', '--json']);
  expect({ code: run.code, failures: run.json.models[0].failures }).toEqual({ code: 0, failures: [] });
  expect(JSON.stringify(run.json)).not.toContain('old a');
  expect(await stored('a')).not.toBe(unbound.a);
  const read = await appClient(world).setting.findMany({ where: { orgId }, orderBy: { name: 'asc' } });
  expect(read.map((row) => [row.name, row.value])).toEqual([
    ['a', 'old a'],
    ['b', 'old b'],
  ]);
  // Bound now: the schema without the binding no longer opens them, and a copy between them fails.
  await expect(before.setting.findUnique({ where: { orgId_name: { orgId, name: 'a' } } })).rejects.toThrow(
    DecryptionError,
  );
  await world.db.query('UPDATE settings SET value = $1 WHERE org_id = $2 AND name = $3', [
    await stored('a'),
    orgId,
    'b',
  ]);
  await expect(appClient(world).setting.findUnique({ where: { orgId_name: { orgId, name: 'b' } } })).rejects.toThrow(
    DecryptionError,
  );
  // A second run fails the copy by its compound key, and leaves it as it is.
  const copy = await stored('b');
  const again = await world.runCli(['reencrypt', '--model', 'Setting', '--rebind', '--json']);
  expect(again.code).toBe(3);
  expect(again.json.models[0].failures.map((f: { key: string }) => f.key)).toEqual([JSON.stringify([orgId, 'b'])]);
  expect(await stored('b')).toBe(copy);
});
