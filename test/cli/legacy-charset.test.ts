/**
 * Non-ASCII plaintext is adopted like any other, and on MySQL/MariaDB in a legacy `latin1`
 * column too: the compare-and-swap compares text, not the column's bytes with the UTF-8 the
 * driver sent, so no row counts as a lost race and the run is not left `partial`.
 */
import { appClient, createCliWorld, countRows } from './support';
import type { CliWorld } from './support';
import { testProvider } from '../support/provider';

let world: CliWorld;
const EMAILS = ['renée@exämple.com', 'zoë.ångström@example.com', 'plain@example.com', 'jürgen@straße.de'];

beforeAll(async () => {
  world = await createCliWorld();
  if (testProvider() === 'mysql') {
    await world.db.query(
      'ALTER TABLE customers MODIFY email TEXT CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL, ' +
        'MODIFY phone TEXT CHARACTER SET latin1 COLLATE latin1_swedish_ci NULL',
    );
  }
  for (const [i, email] of EMAILS.entries()) {
    await world.db.query(`INSERT INTO customers (email, phone) VALUES ('${email}', '+33 6 ${i} électrique')`);
  }
}, 120_000);

afterAll(async () => {
  await world?.close();
});

test('reencrypt encrypts every non-ASCII value in one run, and the application reads the text back', async () => {
  const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(result.code).toBe(0);
  expect(result.json.models[0]).toMatchObject({ scanned: EMAILS.length, written: EMAILS.length, failed: 0 });
  expect(JSON.stringify(result.json)).not.toContain('exämple');
  expect(await countRows(world.db, "customers WHERE email NOT LIKE 'hfe$%' OR phone NOT LIKE 'hfe$%'")).toBe(0);

  const app = appClient(world);
  const read = await app.customer.findMany({ orderBy: { id: 'asc' }, select: { email: true, phone: true } });
  expect(read).toEqual(EMAILS.map((email, i) => ({ email, phone: `+33 6 ${i} électrique` })));
  // The blind index was computed from the text, not from the column's bytes.
  expect(await app.customer.findFirst({ where: { email: 'JÜRGEN@straße.de' }, select: { email: true } })).toEqual({
    email: 'jürgen@straße.de',
  });

  // A second run finds nothing left to do.
  const again = await world.runCli(['reencrypt', '--model', 'Customer', '--json']);
  expect(again.code).toBe(0);
  expect(again.json.models[0]).toMatchObject({ written: 0, failed: 0 });
});
