/**
 * `hushfield status --index-buckets`: bucket sizes of the truncated `users.ssn_idx` (16 bits),
 * counts only, read from what the application stored.
 */
import { appClient, createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const ROWS = 60;

beforeAll(async () => {
  world = await createCliWorld();
  const app = appClient(world);
  // 40 distinct SSNs, the first 20 stored twice: at 16 bits, buckets of 2 at least for those.
  for (let i = 0; i < ROWS; i++) {
    const ssn = `078-05-${String(i % 40).padStart(4, '0')}`;
    await app.user.create({ data: { tenantId: 't1', name: `u${i}`, email: `u${i}@example.com`, ssn } });
  }
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('reports bucket sizes of truncated indexes only, and no index value', async () => {
  const result = await world.runCli(['status', '--model', 'User', '--index-buckets', '--json']);
  expect(result.code).toBe(0);
  const [user] = result.json.models;
  const ssn = user.indexes.find((index: { index: string }) => index.index === 'ssnIdx');
  const email = user.indexes.find((index: { index: string }) => index.index === 'emailIdx');
  expect(email.buckets).toBeUndefined();
  expect(ssn.buckets).toMatchObject({ bits: 16, values: ROWS, min: expect.any(Number), spreadMean: 0.001 });
  expect(ssn.buckets.buckets).toBeLessThanOrEqual(40);
  expect(ssn.buckets.max).toBeGreaterThanOrEqual(2);
  expect(
    ssn.buckets.histogram.reduce(
      (sum: number, row: { size: string; buckets: number }) => sum + Number(row.size) * row.buckets,
      0,
    ),
  ).toBe(ROWS);

  const stored = await world.db.query<{ ssn_idx: string; email_idx: string }>('SELECT ssn_idx, email_idx FROM users');
  const human = await world.runCli(['status', '--model', 'User', '--index-buckets']);
  expect(human.stdout).toMatch(/buckets \(16 bits\): 60 values in \d+ buckets; per bucket min \d+, median/);
  for (const row of stored) {
    for (const output of [result.stdout, human.stdout]) {
      expect(output).not.toContain(row.ssn_idx);
      expect(output).not.toContain(row.email_idx);
    }
  }
});

test('without the option, status reports no buckets', async () => {
  const result = await world.runCli(['status', '--model', 'User', '--json']);
  expect(result.json.models[0].indexes.every((index: { buckets?: unknown }) => index.buckets === undefined)).toBe(true);
});
