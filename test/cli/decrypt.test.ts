/**
 * The way out: after fields are switched to `readonly`, `hushfield decrypt` writes their
 * plaintext back in place, and leaves fields still encrypted alone.
 */
import type { HushfieldSchema } from '@hushfield/prisma';
import { createCliWorld, schema, insertRows, countRows } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const ROWS = 1200;

/** The test schema with Customer.email switched to readonly (phone stays migrating). */
const readonlySchema: HushfieldSchema = {
  ...schema,
  models: {
    ...schema.models,
    Customer: {
      ...schema.models.Customer,
      encrypted: {
        ...schema.models.Customer.encrypted,
        email: { ...schema.models.Customer.encrypted.email, mode: 'readonly' },
      },
    },
  },
};

beforeAll(async () => {
  world = await createCliWorld();
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`out${i}@example.org`, `p${i}`]);
  const encrypted = await world.runCli(['reencrypt', '--json']);
  expect(encrypted.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('with no readonly field there is nothing to decrypt', async () => {
  const result = await world.runCli(['decrypt', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.models).toEqual([]);
});

test('--dry-run counts the values it would write back', async () => {
  const result = await world.runCli(['decrypt', '--dry-run', '--json'], { config: { schema: readonlySchema } });
  expect(result.json.models[0]).toMatchObject({ model: 'Customer', written: ROWS, decrypted: ROWS });
  expect(await countRows(world.db, "customers WHERE email LIKE 'hfe$%'")).toBe(ROWS);
});

test('writes plaintext back for readonly fields only', async () => {
  const result = await world.runCli(['decrypt', '--batch', '250', '--json'], { config: { schema: readonlySchema } });
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({
    model: 'Customer',
    scanned: ROWS,
    written: ROWS,
    decrypted: ROWS,
    failed: 0,
  });
  const stored = await world.db.query<{ id: number; email: string; phone: string }>(
    'SELECT id, email, phone FROM customers ORDER BY id',
  );
  for (const row of stored) {
    expect(row.email).toBe(`out${row.id}@example.org`);
    expect(row.phone.startsWith('hfe$')).toBe(true);
  }
  const [checkpoint] = await world.db.query<{ state: string }>(
    `SELECT state FROM hushfield_checkpoints WHERE id = 'decrypt:Customer'`,
  );
  expect(checkpoint.state).toBe('done');
  // reencrypt no longer touches the readonly field.
  const again = await world.runCli(['reencrypt', '--json'], { config: { schema: readonlySchema } });
  expect(again.json.models.find((model: { model: string }) => model.model === 'Customer')).toMatchObject({
    written: 0,
  });
});
