/**
 * Adoption: a table of legacy plaintext (`Customer`, fields in `migrating` mode) becomes fully
 * encrypted with its blind indexes filled, by `hushfield reencrypt`, checked on what the
 * database stores.
 */
import { createCliWorld, countRows, emailIndexSpec } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const ROWS = 10_000;
/**
 * A whole run over the table: 3-8 s alone on two cores, 68 s once in a CI on SQLite (148 rows/s),
 * past Jest's default 60 s, which then started the next test beside the run still going.
 */
const RUN_LIMIT_MS = 300_000;

beforeAll(async () => {
  world = await createCliWorld();
  const values: string[] = [];
  for (let i = 0; i < ROWS; i++)
    values.push(`('  Customer${i}@Example.com ', ${i % 3 === 0 ? 'NULL' : `'+1 555 ${String(i).padStart(4, '0')}'`})`);
  await world.db.query(`INSERT INTO customers (email, phone) VALUES ${values.join(', ')}`);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test(
  'reencrypt --dry-run counts the plaintext and writes nothing',
  async () => {
    const result = await world.runCli(['reencrypt', '--model', 'Customer', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const customer = result.json.models.find((model: { model: string }) => model.model === 'Customer');
    expect(customer.scanned).toBe(ROWS);
    expect(customer.written).toBe(ROWS);
    expect(customer.encrypted).toBe(ROWS + Math.floor((ROWS * 2) / 3) + (ROWS % 3 === 2 ? 1 : 0));
    expect(result.json.notices).toEqual([expect.stringContaining('still exists in backups')]);
    expect(await countRows(world.db, "customers WHERE email NOT LIKE 'hfe$%'")).toBe(ROWS);
    const keys = await world.db.query('SELECT * FROM hushfield_keys');
    expect(keys).toHaveLength(0);
  },
  RUN_LIMIT_MS,
);

test(
  'encrypts 10,000 plaintext customers and fills their blind indexes',
  async () => {
    const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
    expect(result.stderr).not.toContain('Customer1@');
    expect(result.code).toBe(0);
    const customer = result.json.models[0];
    expect(customer).toMatchObject({ model: 'Customer', scanned: ROWS, written: ROWS, failed: 0, pending: 0 });
    expect(result.json.notices).toEqual([expect.stringContaining('encryption cannot erase those copies')]);
    process.stdout.write(
      `adoption: ${ROWS} rows in ${customer.elapsedMs} ms, ${customer.rowsPerSecond} rows/s (${world.db.backend})\n`,
    );

    const stored = await world.db.query<{ id: number; email: string; phone: string | null; email_idx: string | null }>(
      'SELECT id, email, phone, email_idx FROM customers ORDER BY id',
    );
    expect(stored).toHaveLength(ROWS);
    for (const row of stored) {
      expect(row.email.startsWith('hfe$')).toBe(true);
      expect(row.email).not.toContain('Example');
      if (row.phone !== null) expect(row.phone.startsWith('hfe$')).toBe(true);
      expect(row.email_idx).toEqual(expect.any(String));
    }
    expect(stored.filter((row) => row.phone === null)).toHaveLength(Math.ceil(ROWS / 3));

    const crypto = world.crypto();
    const sample = stored[4242];
    expect(await crypto.decrypt(sample.email, { model: 'customers', field: 'email' })).toBe(
      '  Customer4242@Example.com ',
    );
    const spec = emailIndexSpec('customers');
    expect(await crypto.blindIndex(spec, 'customer4242@example.com')).toBe(sample.email_idx);
    expect(new Set(stored.map((row) => row.email_idx)).size).toBe(ROWS);
  },
  RUN_LIMIT_MS,
);

test(
  'a second run finds nothing to do and status reports everything current',
  async () => {
    const again = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
    expect(again.code).toBe(0);
    expect(again.json.models[0]).toMatchObject({ scanned: ROWS, written: 0 });
    const status = await world.runCli(['status', '--model', 'Customer', '--json']);
    expect(status.code).toBe(0);
    const [model] = status.json.models;
    const email = model.fields.find((field: { field: string }) => field.field === 'email');
    expect(email).toMatchObject({ plaintext: 0, current: ROWS, retired: 0, destroyed: 0 });
    expect(model.indexes[0]).toMatchObject({ missing: 0, versions: { '1': ROWS } });
    expect(status.json.keyring.ok).toBe(true);
  },
  RUN_LIMIT_MS,
);
