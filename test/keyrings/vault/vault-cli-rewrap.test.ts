/**
 * `hushfield keys rewrap --to-keyring <name>` between kinds: from a LocalKeyring to a Vault
 * Transit keyring named in the config's `keyrings`, then to a MultiKeyring of Vault and an
 * offline LocalKeyring recovery key. Data rows are never touched.
 */
import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring } from '@hushfield/core';
import { MultiKeyring } from '@hushfield/kms-aws';
import { VaultTransitKeyring } from '@hushfield/kms-vault';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createCliWorld, type CliWorld } from '../../cli/support';
import { startVaultServer, type VaultServer } from './server';

let world: CliWorld;
let vault: VaultServer;
const recoveryKey = new LocalKeyring(randomBytes(32));

beforeAll(async () => {
  world = await createCliWorld();
  vault = await startVaultServer();
  vault.createKey('hushfield', { derived: true });
  await world.db.query(
    `INSERT INTO customers (email) SELECT 'v' || g || '@example.org' FROM generate_series(1, 20) AS g`,
  );
}, 60_000);

afterAll(async () => {
  await vault?.stop();
  await world?.close();
});

test('rewraps every live key from a LocalKeyring to Vault, then to Vault plus a recovery key, leaving rows alone', async () => {
  expect((await world.runCli(['reencrypt', '--json'])).code).toBe(0);
  const rowsBefore = await world.db.query('SELECT * FROM customers ORDER BY id');
  const vaultKeyring = new VaultTransitKeyring({
    address: vault.address,
    keyName: 'hushfield',
    auth: { token: vault.createToken(['transit/encrypt/hushfield', 'transit/decrypt/hushfield']) },
    retry: { maxAttempts: 1 },
  });

  const toVault = await world.runCli(['keys', 'rewrap', '--to-keyring', 'vault', '--json'], {
    config: { keyrings: { vault: () => vaultKeyring } },
  });
  expect(toVault.code).toBe(0);
  expect(toVault.json.keyringId).toBe('vault-transit:transit/hushfield');
  expect(toVault.json.rewrapped).toBeGreaterThanOrEqual(2);
  expect(await world.db.query(`SELECT DISTINCT keyring_id FROM hushfield_keys WHERE state <> 'destroyed'`)).toEqual([
    { keyring_id: vaultKeyring.id },
  ]);
  expect(await world.db.query('SELECT * FROM customers ORDER BY id')).toEqual(rowsBefore);

  const [row] = await world.db.query<{ email: string }>('SELECT email FROM customers WHERE id = 3');
  const viaVault = new FieldCrypto({
    keyring: vaultKeyring,
    keyStore: new PrismaKeyStore(world.prisma),
    cache: { ttlMs: 60_000 },
  });
  expect(await viaVault.decrypt(row.email, { model: 'customers', field: 'email' })).toBe('v3@example.org');

  // Now add an offline recovery copy: the config's keyring is Vault, the target a MultiKeyring.
  const both = new MultiKeyring([vaultKeyring, recoveryKey]);
  const toBoth = await world.runCli(['keys', 'rewrap', '--to-keyring', 'withRecovery', '--json'], {
    config: { keyring: vaultKeyring, keyrings: { withRecovery: both } },
  });
  expect(toBoth.code).toBe(0);
  expect(toBoth.json.keyringId).toBe(both.id);
  expect(await world.db.query('SELECT * FROM customers ORDER BY id')).toEqual(rowsBefore);

  vault.sealed = true;
  const recovering = new FieldCrypto({
    keyring: new MultiKeyring([vaultKeyring, recoveryKey]),
    keyStore: new PrismaKeyStore(world.prisma),
    cache: { ttlMs: 60_000 },
  });
  expect(await recovering.decrypt(row.email, { model: 'customers', field: 'email' })).toBe('v3@example.org');
  vault.sealed = false;
});

test('a rewrap to a sealed Vault fails with a keyring error and leaves the keys as they were', async () => {
  const before = await world.db.query('SELECT * FROM hushfield_keys ORDER BY key_id, version');
  const vaultKeyring = () =>
    new VaultTransitKeyring({
      address: vault.address,
      keyName: 'hushfield',
      auth: { token: vault.rootToken },
      retry: { maxAttempts: 1 },
    });
  // The current keyring still reads through its recovery copy; the target (Vault alone) cannot wrap.
  const current = new MultiKeyring([vaultKeyring(), recoveryKey]);
  vault.sealed = true;
  const result = await world.runCli(['keys', 'rewrap', '--to-keyring', 'vault', '--json'], {
    config: { keyring: current, keyrings: { vault: vaultKeyring } },
  });
  vault.sealed = false;
  expect(result.code).not.toBe(0);
  expect(result.json.error.code).toBe('HUSHFIELD_KEYRING');
  expect(result.json.error.message).toContain('Vault is sealed');
  expect(await world.db.query('SELECT * FROM hushfield_keys ORDER BY key_id, version')).toEqual(before);
});
