/**
 * The schema a process was built with is part of a scaled-out run's mode (a digest of its
 * models' metadata): a process of another deploy, whose generated schema indexes a field with
 * other settings or decrypts other fields, is refused (exit 2, typed) before it changes anything
 * of the run, instead of handling the rows of the ranges it claims differently. A run recorded
 * without a schema (started by an earlier version) is joined on its flags alone.
 */
import type { HushfieldSchema } from '@hushfield/prisma';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import { checkMode, schemaMode } from '../../packages/cli/src/commands/scaled-run';
import { RunStore } from '../../packages/cli/src/run-store';
import { PrismaClient } from '../../prisma/generated/client/client';
import { countRows, createCliWorld, insertRows, schema } from './support';
import type { CliWorld } from './support';

const ROWS = 30;
let world: CliWorld;
let client: PrismaClient;

/** The test schema of another deploy: Customer.email's blind index truncated to 12 bits. */
const otherDeploy: HushfieldSchema = (() => {
  const models = JSON.parse(JSON.stringify(schema.models)) as HushfieldSchema['models'];
  const index = Object.values(models.Customer.blindIndexes ?? {})[0] as { bits?: number } | undefined;
  if (!index) throw new Error('the test schema has a blind index on Customer');
  index.bits = 12;
  return { ...schema, models } as HushfieldSchema;
})();

beforeAll(async () => {
  world = await createCliWorld();
  client = new PrismaClient({ adapter: world.db.adapter() });
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`user${i}@example.com`, `555-${i}`]);
}, 60_000);

afterAll(async () => {
  await client?.$disconnect();
  await world?.close();
});

test('a process built with another schema is refused and changes nothing; the same schema joins', async () => {
  const store = new RunStore(client as unknown as BasePrismaClient);
  // The run as the processes of one deploy leave it (a finished run, so the test needs no timing).
  const first = world.runCli(['reencrypt', '--model', 'Customer', '--run', 'deploy', '--json']);
  await expect(first).resolves.toMatchObject({ code: 0 });
  const run = await store.get('deploy');
  expect(run?.mode).toMatch(/^reencrypt schema [0-9a-f]{16}$/);
  const before = await world.db.query('SELECT mode, state, detail FROM hushfield_runs WHERE id = $1', ['deploy']);
  const ranges = await store.ranges('deploy');

  const other = await world.runCli(
    ['reencrypt', '--model', 'Customer', '--run', 'deploy', '--restart', '--max-rows-per-second', '9', '--json'],
    { config: { schema: otherDeploy } },
  );
  expect(other.code).toBe(2);
  expect(other.json.error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
  expect(other.json.error.message).toMatch(/run deploy was started with another hushfield schema/);
  expect(other.stdout + other.stderr).not.toMatch(/@example\.com|555-/);
  // Refused before it changed anything: not restarted, no new cap, the ranges as they were.
  expect(await world.db.query('SELECT mode, state, detail FROM hushfield_runs WHERE id = $1', ['deploy'])).toEqual(
    before,
  );
  expect(await store.ranges('deploy')).toEqual(ranges);

  const same = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'deploy', '--json']);
  expect(same.code).toBe(0);
  expect(same.json.run.state).toBe('done');
  expect(await countRows(world.db, "customers WHERE email LIKE 'user%@example.com'")).toBe(0);
});

test('a run recorded without a schema (an earlier version) is joined on its flags alone', async () => {
  const store = new RunStore(client as unknown as BasePrismaClient);
  await store.open('earlier', 'reencrypt', {}, ['Customer'], async () => [
    { model: 'Customer', seq: 0, lo: null, hi: null, rows: ROWS },
  ]);
  const joined = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'earlier', '--json']);
  expect(joined.code).toBe(0);
  expect(joined.json.run.state).toBe('done');
  const flags = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'earlier', '--rebind', '--json']);
  expect(flags.code).toBe(2);
  expect(flags.json.error.message).toMatch(
    /run earlier is a reencrypt run, and this process was started as reencrypt --rebind:/,
  );
});

test('checkMode compares flags and schema, naming what differs', () => {
  const mine = `reencrypt ${schemaMode(Object.values(schema.models))}`;
  const theirs = `reencrypt ${schemaMode(Object.values(otherDeploy.models))}`;
  expect(mine).not.toBe(theirs);
  // The digest does not depend on the order of the models.
  expect(schemaMode(Object.values(schema.models).reverse())).toBe(schemaMode(Object.values(schema.models)));
  expect(() => checkMode('r', mine, mine)).not.toThrow();
  expect(() => checkMode('r', 'reencrypt', mine)).not.toThrow();
  expect(() => checkMode('r', theirs, mine)).toThrow(/started with another hushfield schema/);
  expect(() => checkMode('r', 'reencrypt --rebind', mine)).toThrow(/is a reencrypt --rebind run/);
  expect(() => checkMode('r', `${theirs.replace('reencrypt', 'decrypt')}`, mine)).toThrow(/is a decrypt run/);
});
