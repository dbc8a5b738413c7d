/**
 * Migration from prisma-field-encryption: values in its `@47ng/cloak` format, made here with
 * cloak itself and a known key, are imported by `reencrypt --from-pfe-key`, and are never
 * mistaken for plaintext without the key.
 */
import { encryptStringSync, generateKey } from '@47ng/cloak';
import { createCliWorld, emailIndexSpec } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const KEY = generateKey();
const OTHER_KEY = generateKey();
const ROWS = 300;

function email(i: number): string {
  return `Legacy.${i}@Example.com`;
}

beforeAll(async () => {
  world = await createCliWorld();
  const values: string[] = [];
  const params: (string | null)[] = [];
  for (let i = 0; i < ROWS; i++) {
    params.push(encryptStringSync(email(i), KEY), i % 4 === 0 ? null : encryptStringSync(`+33 1 ${i}`, KEY));
    values.push(`($${params.length - 1}, $${params.length})`);
  }
  await world.db.query(`INSERT INTO customers (email, phone) VALUES ${values.join(', ')}`, params);
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('status counts prisma-field-encryption values without a key', async () => {
  const status = await world.runCli(['status', '--model', 'Customer', '--json']);
  const email = status.json.models[0].fields.find((field: { field: string }) => field.field === 'email');
  expect(email).toMatchObject({ pfe: ROWS, plaintext: 0, current: 0 });
});

test('without --from-pfe-key the cloak values are left alone, not encrypted as plaintext', async () => {
  const before = await world.db.query('SELECT id, email, phone FROM customers ORDER BY id');
  const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(result.code).toBe(3);
  expect(result.json.models[0]).toMatchObject({ written: 0, failed: ROWS });
  expect(result.json.models[0].failures[0].message).toContain('--from-pfe-key');
  expect(await world.db.query('SELECT id, email, phone FROM customers ORDER BY id')).toEqual(before);
});

test('a wrong key fails per row and changes nothing; the key never appears in output', async () => {
  const result = await world.runCli([
    'reencrypt',
    '--model',
    'Customer',
    '--restart',
    '--from-pfe-key',
    OTHER_KEY,
    '--json',
  ]);
  expect(result.code).toBe(3);
  expect(result.json.models[0]).toMatchObject({ written: 0, failed: ROWS });
  expect(result.json.models[0].failures[0].code).toBe('HUSHFIELD_DECRYPTION_FAILED');
  expect(result.stdout + result.stderr).not.toContain(OTHER_KEY.slice(13));
});

test('imports every value with the right key (given as env:NAME), filling blind indexes', async () => {
  process.env.TEST_PFE_KEYS = `${OTHER_KEY},${KEY}`;
  const result = await world.runCli([
    'reencrypt',
    '--model',
    'Customer',
    '--restart',
    '--from-pfe-key',
    'env:TEST_PFE_KEYS',
    '--json',
  ]);
  delete process.env.TEST_PFE_KEYS;
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ written: ROWS, imported: ROWS + (ROWS - ROWS / 4), failed: 0 });
  expect(result.stdout + result.stderr).not.toContain(KEY.slice(13));

  const crypto = world.crypto();
  const stored = await world.db.query<{ id: number; email: string; phone: string | null; email_idx: string }>(
    'SELECT id, email, phone, email_idx FROM customers ORDER BY id',
  );
  const spec = emailIndexSpec('customers');
  for (const [i, row] of stored.entries()) {
    expect(row.email.startsWith('hfe$')).toBe(true);
    expect(await crypto.decrypt(row.email, { model: 'customers', field: 'email' })).toBe(email(i));
    if (i % 4 === 0) expect(row.phone).toBeNull();
    else expect(await crypto.decrypt(row.phone as string, { model: 'customers', field: 'phone' })).toBe(`+33 1 ${i}`);
    expect(row.email_idx).toBe(await crypto.blindIndex(spec, email(i).toLowerCase()));
  }
});
