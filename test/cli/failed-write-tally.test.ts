/**
 * A row whose write fails (here: its blind index collides with another row's on a unique
 * index) is reported failed and counts for nothing in the run's tally: `encrypted`, `indexed`
 * and the like count what was written, as the summary line says ("wrote N rows (X plaintext
 * encrypted, ...)"). The failed row's values were counted as encrypted before.
 */
import { createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

test('a row whose write fails counts for nothing in encrypted or indexed', async () => {
  // Both normalize to ada@example.com: the second row's index collides on the unique emailIdx.
  await world.db.query(
    "INSERT INTO customers (email, phone) VALUES ('ada@example.com', '+1 555 0100'), (' ADA@example.com', '+1 555 0101')",
  );
  const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(result.code).toBe(3);
  expect(result.json.models[0]).toMatchObject({
    scanned: 2,
    written: 1,
    failed: 1,
    encrypted: 2, // the first row's email and phone
    indexed: 1,
  });
  expect(result.stdout).not.toContain('0101');
});
