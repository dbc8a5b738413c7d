/**
 * `keys list | create | rotate | rewrap` on the Prisma key store: lifecycle through the CLI,
 * key material never printed, and `rewrap` moving every live key under a new root key without
 * touching data rows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldCrypto, LocalKeyring } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { createCliWorld, schema, insertRows } from './support';
import type { CliWorld } from './support';

let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
  await insertRows(world.db, 'customers', ['email'], 50, (i) => [`r${i}@example.org`]);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

test('create, rotate and list keys without printing key material', async () => {
  expect((await world.runCli(['keys', 'list'])).stdout).toContain('no keys');
  const created = await world.runCli(['keys', 'create', '--scope', 'acme', '--json']);
  expect(created.code).toBe(0);
  expect(created.json.key).toMatchObject({
    kind: 'scope',
    scope: 'acme',
    version: 1,
    state: 'active',
    keyringId: world.keyring.id,
  });
  const again = await world.runCli(['keys', 'create', '--scope', 'acme', '--json']);
  expect(again.code).toBe(1);
  expect(again.json.error.code).toBe('HUSHFIELD_KEY_CONFLICT');

  expect((await world.runCli(['keys', 'rotate', '--scope', 'acme'])).stdout).toContain('run `hushfield reencrypt`');
  const index = await world.runCli(['keys', 'rotate', '--index', '--wait', '200', '--json']);
  expect(index.code).toBe(0);
  expect(index.json.rotated[0].kind).toBe('index');

  const list = await world.runCli(['keys', 'list', '--json']);
  const wrapped = await world.db.query<{ wrapped_key: string }>('SELECT wrapped_key FROM hushfield_keys');
  for (const { wrapped_key } of wrapped) expect(list.stdout).not.toContain(wrapped_key);
  expect(
    list.json.keys
      .map(
        (key: { kind: string; scope: string; version: number; state: string }) =>
          `${key.kind}/${key.scope}/v${key.version}/${key.state}`,
      )
      .sort(),
  ).toEqual(expect.arrayContaining(['scope/acme/v1/retired', 'scope/acme/v2/active']));
  const human = await world.runCli(['keys', 'list', '--scope', 'acme']);
  expect(human.stdout.split('\n').filter((line) => line.startsWith('scope'))).toHaveLength(2);
});

test('keys list aligns its columns to the widest value, uuid scopes included', async () => {
  const tenant = randomUUID();
  expect((await world.runCli(['keys', 'create', '--scope', tenant])).code).toBe(0);
  const { stdout } = await world.runCli(['keys', 'list', '--kind', 'scope']);
  const lines = stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^kind +scope +ver +state +key id +keyring +created$/);
  const row = lines.find((line) => line.includes(tenant)) as string;
  for (const column of ['ver', 'state', 'key id', 'keyring', 'created']) {
    const at = lines[0].indexOf(column);
    // every row has a value starting under each header, and a gap before it
    for (const line of lines.slice(1)) expect(line.slice(at - 2, at)).toBe('  ');
    expect(row.charAt(at)).not.toBe(' ');
  }
  expect(row.indexOf(tenant)).toBe(lines[0].indexOf('scope'));
});

test('rewrap moves every live key under a new root key named in the config, leaving data rows alone', async () => {
  expect((await world.runCli(['reencrypt', '--json'])).code).toBe(0);
  const rowsBefore = await world.db.query('SELECT * FROM customers ORDER BY id');
  const newKeyring = new LocalKeyring(randomBytes(32));
  const result = await world.runCli(['keys', 'rewrap', '--to-keyring', 'next', '--json'], {
    config: { keyrings: { next: newKeyring } },
  });
  expect(result.code).toBe(0);
  expect(result.json.rewrapped).toBeGreaterThanOrEqual(3);
  expect(result.json.keyringId).toBe(newKeyring.id);
  expect(await world.db.query('SELECT * FROM customers ORDER BY id')).toEqual(rowsBefore);
  const keyrings = await world.db.query<{ keyring_id: string }>(
    `SELECT DISTINCT keyring_id FROM hushfield_keys WHERE state <> 'destroyed'`,
  );
  expect(keyrings).toEqual([{ keyring_id: newKeyring.id }]);

  // Only the new root key reads the data now.
  const fresh = new FieldCrypto({
    keyring: newKeyring,
    keyStore: new PrismaKeyStore(world.prisma),
    cache: { ttlMs: 60_000 },
  });
  const [row] = await world.db.query<{ email: string }>('SELECT email FROM customers WHERE id = 7');
  expect(await fresh.decrypt(row.email, { model: 'customers', field: 'email' })).toBe('r7@example.org');
  const stale = new FieldCrypto({
    keyring: world.keyring,
    keyStore: new PrismaKeyStore(world.prisma),
    cache: { ttlMs: 60_000 },
  });
  await expect(stale.decrypt(row.email, { model: 'customers', field: 'email' })).rejects.toMatchObject({
    code: 'HUSHFIELD_KEYRING',
  });
  // An application still on the old root key is told which keyring wrapped the key and which it asked.
  const app = world.prisma.$extends(fieldEncryption({ schema, keyring: world.keyring, cache: { ttlMs: 60_000 } }));
  const error = await app.customer.findUnique({ where: { id: 7 } }).catch((e: unknown) => e);
  expect(error).toMatchObject({
    code: 'HUSHFIELD_KEYRING',
    keyringId: world.keyring.id,
    wrappedBy: newKeyring.id,
    operation: 'unwrap',
  });
  expect((error as Error).message).toMatch(
    new RegExp(`is wrapped by keyring ${newKeyring.id}, but keyring ${world.keyring.id} was asked to unwrap it`),
  );
  expect((error as Error).message).not.toMatch(/tampered/);

  // And from a LocalKeyring key file.
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-rewrap-'));
  try {
    const third = randomBytes(32);
    writeFileSync(join(dir, 'root.key'), third.toString('base64'), { mode: 0o600 });
    const fromFile = await world.runCli(['keys', 'rewrap', '--to-keyring', join(dir, 'root.key'), '--json'], {
      config: { keyring: newKeyring },
    });
    expect(fromFile.code).toBe(0);
    expect(fromFile.json.keyringId).toBe(new LocalKeyring(third).id);
    expect(fromFile.stdout).not.toContain(third.toString('base64'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const missing = await world.runCli(['keys', 'rewrap', '--to-keyring', 'nowhere', '--json']);
  expect(missing.code).toBe(2);
});
