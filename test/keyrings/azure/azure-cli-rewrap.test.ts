/**
 * `hushfield keys rewrap --to-keyring <name>` from the config's LocalKeyring to an Azure Key
 * Vault keyring named in `keyrings` (A256KW on the loopback Managed HSM fake, through the
 * official SDK), then back out while Key Vault throttles. Data rows are never touched.
 */
import { FieldCrypto } from '@hushfield/core';
import { AzureKeyVaultKeyring } from '@hushfield/kms-azure';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createCliWorld, type CliWorld } from '../../cli/support';
import { startAzureFake, type AzureFake } from './server';

let world: CliWorld;
let fake: AzureFake;

const azure = () =>
  new AzureKeyVaultKeyring(fake.keyringOptions({ retry: { maxAttempts: 2, sleep: async () => undefined } }));

beforeAll(async () => {
  world = await createCliWorld();
  fake = await startAzureFake({ kind: 'managedhsm' });
  fake.createKey('hushfield', 'oct-HSM');
  await world.db.query(
    `INSERT INTO customers (email) SELECT 'z' || g || '@example.org' FROM generate_series(1, 20) AS g`,
  );
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  await world?.close();
});

test('rewraps every live key from a LocalKeyring to Azure Key Vault, leaving rows alone', async () => {
  expect((await world.runCli(['reencrypt', '--json'])).code).toBe(0);
  const rowsBefore = await world.db.query('SELECT * FROM customers ORDER BY id');
  const keyring = azure();

  const result = await world.runCli(['keys', 'rewrap', '--to-keyring', 'azure', '--json'], {
    config: { keyrings: { azure: () => keyring } },
  });
  expect(result.code).toBe(0);
  expect(result.json.keyringId).toBe(keyring.id);
  expect(result.json.rewrapped).toBeGreaterThanOrEqual(2);
  expect(fake.count('/wrapkey')).toBe(result.json.rewrapped);
  expect(await world.db.query(`SELECT DISTINCT keyring_id FROM hushfield_keys WHERE state <> 'destroyed'`)).toEqual([
    { keyring_id: keyring.id },
  ]);
  const stored = await world.db.query<{ wrapped_key: string }>(
    `SELECT wrapped_key FROM hushfield_keys WHERE state <> 'destroyed'`,
  );
  for (const { wrapped_key } of stored) {
    expect(Buffer.from(wrapped_key, 'base64').subarray(0, 4).toString('latin1')).toBe('HFZ\x01');
  }
  expect(await world.db.query('SELECT * FROM customers ORDER BY id')).toEqual(rowsBefore);

  // The data now reads through Key Vault alone.
  const [row] = await world.db.query<{ email: string }>('SELECT email FROM customers WHERE id = 3');
  const viaAzure = new FieldCrypto({
    keyring: azure(),
    keyStore: new PrismaKeyStore(world.prisma),
    cache: { ttlMs: 60_000 },
  });
  expect(await viaAzure.decrypt(row.email, { model: 'customers', field: 'email' })).toBe('z3@example.org');
  expect(fake.count('/unwrapkey')).toBeGreaterThanOrEqual(1);
});

test('a rewrap out of Azure while Key Vault throttles fails with a keyring error and leaves the keys as they were', async () => {
  const before = await world.db.query('SELECT * FROM hushfield_keys ORDER BY key_id, version');
  fake.inject({ status: 429, retryAfter: 0 }, 1_000);
  const result = await world.runCli(['keys', 'rewrap', '--to-keyring', 'local', '--json'], {
    config: { keyring: azure(), keyrings: { local: world.keyring } },
  });
  fake.reset();
  expect(result.code).not.toBe(0);
  expect(result.json.error.code).toBe('HUSHFIELD_KEYRING');
  expect(result.json.error.message).toContain('throttled by Key Vault (HTTP 429)');
  expect(await world.db.query('SELECT * FROM hushfield_keys ORDER BY key_id, version')).toEqual(before);
});
