/**
 * Plaintext in a `strict` field: `hushfield reencrypt` never encrypts it (only `migrating`
 * fields adopt plaintext), leaves the row as it is, counts it, and exits 3, because the
 * extension refuses to read that row and the table is therefore not done.
 */
import { createCliWorld } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
const LEGACY_EMAIL = 'legacy.patient@example.org';

beforeAll(async () => {
  world = await createCliWorld();
  await world.db.query(
    `INSERT INTO users (id, "tenantId", name, email, email_idx) VALUES ('strict-1', 'tenant-a', 'Legacy', '${LEGACY_EMAIL}', 'not-an-index')`,
  );
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('reencrypt exits 3, counts the strict plaintext and leaves the row untouched', async () => {
  const result = await world.runCli(['reencrypt', '--model', 'User', '--json']);
  expect(result.code).toBe(3);
  const [user] = result.json.models;
  expect(user).toMatchObject({ model: 'User', scanned: 1, strictPlaintext: 1 });
  const [row] = await world.db.query<{ email: string; email_idx: string }>(
    `SELECT email, email_idx FROM users WHERE id = 'strict-1'`,
  );
  expect(row).toEqual({ email: LEGACY_EMAIL, email_idx: 'not-an-index' });
  expect(result.stdout + result.stderr).not.toContain(LEGACY_EMAIL);
});

test('the human summary says why and how to adopt it', async () => {
  const result = await world.runCli(['reencrypt', '--model', 'User']);
  expect(result.code).toBe(3);
  expect(result.stdout + result.stderr).toContain(
    '1 plaintext in strict fields left alone (unreadable; switch the field to migrating to adopt it)',
  );
  expect(result.stdout + result.stderr).not.toContain(LEGACY_EMAIL);
});
