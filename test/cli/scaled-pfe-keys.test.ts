/**
 * `--from-pfe-key` is part of a scaled-out run's mode: a process joining the run with other
 * prisma-field-encryption keys, or without any, is refused (exit 2, typed) before it touches
 * the run, instead of failing every imported row of the ranges it claims. The run records the
 * keys' cloak fingerprints (as every cloak value stores them already), never the keys.
 */
import { encryptStringSync, generateKey } from '@47ng/cloak';
import { createCliWorld } from './support';
import type { CliWorld } from './support';

const KEY = generateKey();
const OTHER_KEY = generateKey();
const ROWS = 60;
let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
  const values: string[] = [];
  const params: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    params.push(encryptStringSync(`Legacy.${i}@Example.com`, KEY), encryptStringSync(`+33 1 ${i}`, KEY));
    values.push(`($${params.length - 1}, $${params.length})`);
  }
  await world.db.query(`INSERT INTO customers (email, phone) VALUES ${values.join(', ')}`, params);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a process joining with other keys, or none, is refused; the run keeps no key', async () => {
  const args = ['reencrypt', '--model', 'Customer', '--run', 'pfe'];
  // The first process imports slowly (20 rows/s), so the run is still open while others join.
  const first = world.runCli([...args, '--from-pfe-key', KEY, '--batch', '5', '--max-rows-per-second', '20', '--json']);
  const deadline = Date.now() + 30_000;
  while (
    Number((await world.db.query<{ n: unknown }>("SELECT count(*) AS n FROM hushfield_runs WHERE id = 'pfe'"))[0].n) ===
    0
  ) {
    if (Date.now() > deadline) throw new Error('the run was not created');
    await sleep(50);
  }

  for (const joiner of [[], ['--from-pfe-key', OTHER_KEY], ['--from-pfe-key', KEY, '--from-pfe-key', OTHER_KEY]]) {
    const joined = await world.runCli([...args, ...joiner, '--json']);
    expect({ joiner: joiner.length > 0 ? 'other keys' : 'no key', code: joined.code }).toMatchObject({ code: 2 });
    expect(joined.json.error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
    expect(joined.json.error.message).toMatch(/run pfe is a reencrypt --from-pfe-key/);
    const printed = joined.stdout + joined.stderr;
    for (const key of [KEY, OTHER_KEY]) expect(printed).not.toContain(key.slice('k1.aesgcm256.'.length));
    expect(printed).not.toMatch(/Legacy\.|\+33 1/);
  }

  const outcome = await first;
  expect(outcome.code).toBe(0);
  expect(outcome.json.models[0]).toMatchObject({ scanned: ROWS, written: ROWS, failed: 0 });
  // The same keys, given another way and repeated, are the same run (done: nothing left to do).
  process.env.TEST_SCALED_PFE_KEYS = `${KEY},${KEY}`;
  const again = await world.runCli([...args, '--from-pfe-key', 'env:TEST_SCALED_PFE_KEYS', '--json']);
  delete process.env.TEST_SCALED_PFE_KEYS;
  expect(again.code).toBe(0);
  expect(again.json.run.state).toBe('done');

  const [run] = await world.db.query<{ mode: string; detail: string | null }>(
    "SELECT mode, detail FROM hushfield_runs WHERE id = 'pfe'",
  );
  expect(run.mode).toMatch(/^reencrypt --from-pfe-key\(1 key, set [0-9a-f]{16}\) schema [0-9a-f]{16}$/);
  for (const key of [KEY, OTHER_KEY]) {
    expect(`${run.mode} ${run.detail}`).not.toContain(key.slice('k1.aesgcm256.'.length));
  }
}, 60_000);
