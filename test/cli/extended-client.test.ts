/**
 * The CLI must read and write stored values, never decrypted ones: a config whose `prisma`
 * returns the application's hushfield-extended client is refused before any row is read
 * (otherwise decrypted values would travel back to the database as CAS conditions).
 */
import { createCliWorld, appClient } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
});

afterAll(async () => {
  await world?.close();
});

test('refuses a config whose prisma() returns a hushfield-extended client', async () => {
  const app = appClient(world);
  await app.customer.create({ data: { email: 'ext@example.org' } });
  const before = await world.db.query<{ email: string }>('SELECT email FROM customers');
  // The CLI disconnects the client it gets: hand it a view that keeps the test's connection.
  const extended = new Proxy(app, {
    get: (target, property) => (property === '$disconnect' ? async () => undefined : Reflect.get(target, property)),
  });
  for (const command of [
    ['reencrypt', '--json'],
    ['status', '--json'],
  ]) {
    const result = await world.runCli(command, { config: { prisma: () => extended as never } });
    expect(result.code).toBe(2);
    expect(result.json.error.code).toBe('HUSHFIELD_CONFIG');
    expect(result.stdout).not.toContain('ext@example.org');
  }
  expect(await world.db.query<{ email: string }>('SELECT email FROM customers')).toEqual(before);
});
