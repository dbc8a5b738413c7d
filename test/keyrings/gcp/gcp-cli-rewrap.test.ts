/**
 * `hushfield keys rewrap --to-keyring <name>` to Google Cloud KMS: from the config's
 * LocalKeyring to a GcpKmsKeyring (official client, Cloud KMS fake) named in `keyrings`, then
 * `keys rotate` after a Cloud KMS rotation, reading everything back through Cloud KMS alone.
 * Data rows are never touched; a rewrap to an unavailable Cloud KMS changes nothing.
 */
import { FieldCrypto } from '@hushfield/core';
import { wrappedKeyVersion } from '@hushfield/kms-gcp';
import { PrismaKeyStore } from '@hushfield/prisma';
import { createCliWorld, type CliWorld } from '../../cli/support';
import { fakeKeyring, KEY, KeyringPool } from './client';
import { startCloudKmsFake, type CloudKmsFake } from './server';

let world: CliWorld;
let fake: CloudKmsFake;
const pool = new KeyringPool();

const gcp = () => {
  const ring = fakeKeyring(fake, { retry: { maxAttempts: 1 } });
  return pool.add(ring);
};

beforeAll(async () => {
  world = await createCliWorld();
  fake = await startCloudKmsFake();
  fake.createKey(KEY);
  await world.db.query(
    `INSERT INTO customers (email) SELECT 'g' || g || '@example.org' FROM generate_series(1, 20) AS g`,
  );
}, 60_000);

afterAll(async () => {
  await pool.close();
  await fake?.stop();
  await world?.close();
});

const keyVersions = async () =>
  (
    await world.db.query<{ scope: string; version: number; wrapped_key: string; keyring_id: string }>(
      `SELECT scope, version, wrapped_key, keyring_id FROM hushfield_keys WHERE state <> 'destroyed' ORDER BY kind, scope, version`,
    )
  ).map((row) => ({
    scope: row.scope,
    version: row.version,
    keyringId: row.keyring_id,
    gcpVersion: wrappedKeyVersion(Buffer.from(row.wrapped_key, 'base64'))?.version,
  }));

test('rewraps every live key from a LocalKeyring to Cloud KMS, leaving rows alone, then rotates under the new primary version', async () => {
  expect((await world.runCli(['reencrypt', '--json'])).code).toBe(0);
  const rowsBefore = await world.db.query('SELECT * FROM customers ORDER BY id');
  const keyring = gcp();

  const rewrap = await world.runCli(['keys', 'rewrap', '--to-keyring', 'gcp', '--json'], {
    config: { keyrings: { gcp: () => keyring } },
  });
  expect(rewrap.code).toBe(0);
  expect(rewrap.json.keyringId).toBe(`gcp-kms:${KEY}`);
  expect(rewrap.json.rewrapped).toBeGreaterThanOrEqual(2);
  const afterRewrap = await keyVersions();
  expect(afterRewrap.every((k) => k.keyringId === `gcp-kms:${KEY}` && k.gcpVersion === 1)).toBe(true);
  expect(fake.count('encrypt')).toBe(afterRewrap.length);
  expect(await world.db.query('SELECT * FROM customers ORDER BY id')).toEqual(rowsBefore);

  const [row] = await world.db.query<{ email: string }>('SELECT email FROM customers WHERE id = 3');
  const viaGcp = new FieldCrypto({ keyring: gcp(), keyStore: new PrismaKeyStore(world.prisma), cache: { ttlMs: 1 } });
  expect(await viaGcp.decrypt(row.email, { model: 'customers', field: 'email' })).toBe('g3@example.org');

  // Rotation in Cloud KMS (a new primary version), then `keys rotate`: new scope-key versions
  // are wrapped under CryptoKeyVersion 2, the old ones still read through version 1.
  fake.addVersion(KEY, { primary: true });
  const rotate = await world.runCli(['keys', 'rotate', '--all', '--json'], { config: { keyring: gcp() } });
  expect(rotate.code).toBe(0);
  const afterRotate = await keyVersions();
  const newest = afterRotate.filter((k) => k.version === 2);
  expect(newest.length).toBeGreaterThanOrEqual(1);
  expect(newest.every((k) => k.gcpVersion === 2)).toBe(true);
  expect(afterRotate.filter((k) => k.version === 1).every((k) => k.gcpVersion === 1)).toBe(true);
  expect(await viaGcp.decrypt(row.email, { model: 'customers', field: 'email' })).toBe('g3@example.org');

  const reencrypt = await world.runCli(['reencrypt', '--json'], { config: { keyring: gcp() } });
  expect(reencrypt.code).toBe(0);
  const [moved] = await world.db.query<{ email: string }>('SELECT email FROM customers WHERE id = 3');
  expect(viaGcp.describe(moved.email).version).toBe(2);
  expect(await viaGcp.decrypt(moved.email, { model: 'customers', field: 'email' })).toBe('g3@example.org');
});

test('rewraps back to the LocalKeyring; a rewrap to an unavailable Cloud KMS then fails and leaves the keys as they were', async () => {
  const back = await world.runCli(['keys', 'rewrap', '--to-keyring', 'local', '--json'], {
    config: { keyring: gcp(), keyrings: { local: world.keyring } },
  });
  expect(back.code).toBe(0);
  expect((await keyVersions()).every((k) => k.keyringId === world.keyring.id)).toBe(true);

  const before = await world.db.query('SELECT * FROM hushfield_keys ORDER BY key_id, version');
  fake.inject({ status: 'UNAVAILABLE' }, 100);
  const result = await world.runCli(['keys', 'rewrap', '--to-keyring', 'gcp', '--json'], {
    config: { keyring: world.keyring, keyrings: { gcp } },
  });
  fake.reset();
  expect(result.code).not.toBe(0);
  expect(result.json.error.code).toBe('HUSHFIELD_KEYRING');
  expect(result.json.error.message).toContain('Google Cloud KMS Encrypt');
  expect(result.json.error.message).toContain('(UNAVAILABLE)');
  expect(await world.db.query('SELECT * FROM hushfield_keys ORDER BY key_id, version')).toEqual(before);
});
