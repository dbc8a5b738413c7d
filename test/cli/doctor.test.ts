/**
 * `hushfield doctor` against a PostgreSQL with TLS on (a self-signed certificate valid for
 * 10 days, so the expiry warning fires) and against the plain test database (TLS off: a
 * warning, or a failure with `--require-tls`).
 */
import { LocalKeyring } from '@hushfield/core';
import { defineConfig } from '@hushfield/cli';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { PrismaClient } from '../../prisma/generated/client/client';
import { migrationSql } from '../support/database';
import { describeOn, testProvider } from '../support/provider';
import { createCliWorld, runCliWith, schema } from './support';
import type { CliWorld } from './support';
import { startTlsPostgres, tlsPostgresUnavailable } from './tls-postgres';
import type { TlsPostgres } from './tls-postgres';

const onPostgres = testProvider() === 'postgresql';
const unavailable = onPostgres ? tlsPostgresUnavailable() : null;
let tlsServer: TlsPostgres | undefined;
let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
  if (!onPostgres) return;
  if (unavailable) {
    process.stdout.write(`doctor.test: skipping the TLS server test: ${unavailable}\n`);
    return;
  }
  tlsServer = await startTlsPostgres(10);
  const client = new Client({ connectionString: tlsServer.url, ssl: { rejectUnauthorized: false } });
  await client.connect();
  for (const sql of migrationSql()) await client.query(sql);
  await client.end();
}, 120_000);

afterAll(async () => {
  tlsServer?.stop();
  await world?.close();
});

describeOn(['postgresql'], 'a PostgreSQL server with TLS; doctor-dialects.test.ts covers MySQL/MariaDB')(
  'TLS PostgreSQL',
  () => {
    (unavailable ? test.skip : test)(
      'reports TLS protocol, cipher and a certificate expiring within 14 days as a warning',
      async () => {
        const server = tlsServer as TlsPostgres;
        const loaded = {
          path: '<test>',
          module: {},
          config: defineConfig({
            schema,
            keyring: new LocalKeyring(randomBytes(32)),
            prisma: () =>
              new PrismaClient({
                adapter: new PrismaPg({ connectionString: server.url, ssl: { rejectUnauthorized: false } }),
              }),
            databaseUrl: server.url,
          }),
        };
        const result = await runCliWith(loaded, ['doctor', '--require-tls', '--json']);
        expect(result.code).toBe(0);
        const checks = Object.fromEntries(result.json.checks.map((check: { check: string }) => [check.check, check]));
        expect(checks.tls).toMatchObject({
          level: 'ok',
          detail: { ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/), cipher: expect.any(String) },
        });
        expect(checks.certificate).toMatchObject({
          level: 'warn',
          detail: { subject: 'CN=hushfield-test-db', selfSigned: true },
        });
        expect(checks.certificate.detail.daysLeft).toBeGreaterThanOrEqual(8);
        expect(checks.certificate.detail.daysLeft).toBeLessThanOrEqual(10);
        expect(checks.certificate.message).toMatch(/expires in (8|9|10) days \(under 14\)/);
        expect(checks.keyring.level).toBe('ok');

        const human = await runCliWith(loaded, ['doctor']);
        expect(human.stdout).toMatch(/ok +tls: connection uses TLS \(TLSv1\.[23], /);
        expect(human.stdout).toMatch(/WARN +certificate: certificate CN=hushfield-test-db \(self-signed\) expires in/);
      },
      60_000,
    );
  },
);

describeOn(['postgresql', 'mysql'], 'SQLite is a file, TLS does not apply: doctor-dialects.test.ts')('TLS off', () => {
  test('warns when the connection does not use TLS and fails with --require-tls', async () => {
    const url = world.db.url;
    const lenient = await world.runCli(['doctor', '--json'], { config: { databaseUrl: url } });
    expect(lenient.code).toBe(0);
    const tls = lenient.json.checks.find((check: { check: string }) => check.check === 'tls');
    expect(['warn', 'skip']).toContain(tls.level);
    if (world.db.backend !== 'pglite') expect(tls).toMatchObject({ level: 'warn', detail: { ssl: false } });
    expect(lenient.json.checks.find((check: { check: string }) => check.check === 'keyring').level).toBe('ok');

    const strict = await world.runCli(['doctor', '--require-tls', '--json'], { config: { databaseUrl: url } });
    expect(strict.code).toBe(1);
    expect(strict.json.ok).toBe(false);
    expect(strict.json.checks.find((check: { check: string }) => check.check === 'tls').level).toBe('fail');
  });
});

test('fails when the keyring cannot unwrap what it wrapped', async () => {
  const broken = {
    id: 'broken:1',
    wrapKey: async (key: Buffer) => Buffer.from(key),
    unwrapKey: async () => randomBytes(32),
  };
  const result = await world.runCli(['doctor', '--json'], { config: { keyring: broken } });
  expect(result.code).toBe(1);
  expect(result.json.checks.find((check: { check: string }) => check.check === 'keyring')).toMatchObject({
    level: 'fail',
  });
});
