/**
 * A finished scaled-out run takes no new model: a process given `--run <id>` of a done run and
 * a model the run never held is refused (exit 2, typed error) instead of planning ranges that
 * no worker claims and reporting the run done with the model's rows untouched.
 */
import { appClient, countRows, createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';

const ROWS = 40;
let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`user${i}@example.com`, `555-${i}`]);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

test('a done run joined with a model it does not hold is refused; --restart runs it', async () => {
  const first = await world.runCli(['reencrypt', '--model', 'Post', '--run', 'fin', '--json']);
  expect(first.code).toBe(0);
  expect(first.json.run.state).toBe('done');

  const joined = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'fin', '--json']);
  expect(joined.code).toBe(2);
  expect(joined.json.error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
  expect(joined.json.error.message).toMatch(/run fin is done and holds no ranges of Customer/);
  expect(joined.stdout + joined.stderr).not.toMatch(/@example\.com|555-/);
  // Nothing was planned into the finished run, and no row was touched.
  expect(await countRows(world.db, "hushfield_ranges WHERE run_id = 'fin' AND model = 'Customer'")).toBe(0);
  expect(await countRows(world.db, "customers WHERE email LIKE 'user%@example.com'")).toBe(ROWS);
  const status = await world.runCli(['status', '--run', 'fin', '--json']);
  expect(status.json.ranges.every((range: { state: string }) => range.state === 'done')).toBe(true);

  // Rejoining with the models it holds still says done; --restart plans it again with the new model.
  expect((await world.runCli(['reencrypt', '--model', 'Post', '--run', 'fin', '--json'])).code).toBe(0);
  const restarted = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'fin', '--restart', '--json']);
  expect(restarted.code).toBe(0);
  expect(restarted.json.models[0]).toMatchObject({ model: 'Customer', scanned: ROWS, written: ROWS });
  expect(await countRows(world.db, "customers WHERE email LIKE 'user%@example.com'")).toBe(0);
  const read = await appClient(world).customer.findMany({ orderBy: { id: 'asc' } });
  expect(read.map((row) => row.email)).toEqual(Array.from({ length: ROWS }, (_, i) => `user${i + 1}@example.com`));
});
