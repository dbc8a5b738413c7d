/**
 * `doctor`'s TLS facts on MySQL/MariaDB and SQLite (PostgreSQL's: doctor.test.ts). MariaDB: a
 * throwaway server with TLS and a self-signed certificate valid 10 days (the session's
 * `Ssl_version`/`Ssl_cipher`, the certificate read through MySQL's SSL request, an expiry
 * warning), the same server reached in clear (a warning, a failure with --require-tls), and the
 * test server without TLS. SQLite: TLS does not apply (a file), whatever --require-tls says.
 */
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { defineConfig } from '@hushfield/cli';
import type { LoadedConfig } from '@hushfield/cli';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase, migrationSql, mysqlServerUrl } from '../support/database';
import type { TestDatabase } from '../support/database';
import { describeOn, migrationsDir, testProvider } from '../support/provider';
import { runCliWith, schema } from './support';
import { startTlsMariaDb, tlsMariaDbUnavailable } from './tls-mariadb';
import type { TlsMariaDb } from './tls-mariadb';

interface CheckJson {
  check: string;
  level: string;
  message: string;
  detail?: Record<string, unknown>;
}

const checksOf = (json: { checks: CheckJson[] }) =>
  Object.fromEntries(json.checks.map((check) => [check.check, check]));

function loaded(prisma: () => unknown, databaseUrl?: string): LoadedConfig {
  return {
    path: '<test>',
    module: {},
    config: defineConfig({
      schema,
      keyring: new LocalKeyring(randomBytes(32)),
      prisma: prisma as never,
      ...(databaseUrl ? { databaseUrl } : {}),
    }),
  };
}

const provider = testProvider();
const unavailable = tlsMariaDbUnavailable();
const describeTls = unavailable
  ? describeOn([], `a throwaway MariaDB cannot start here: ${unavailable}`)
  : describeOn(['mysql'], 'the throwaway TLS MariaDB runs in the mysql project');

describeTls('doctor on a MariaDB with TLS (self-signed, 10 days left)', () => {
  let server: TlsMariaDb;
  const database = 'hushfield_doctor';
  const url = () => `mysql://root@${server.host}:${server.port}/${database}`;
  const client = (ssl: boolean) => () =>
    new PrismaClient({
      adapter: new PrismaMariaDb({
        host: server.host,
        port: server.port,
        user: 'root',
        database,
        ...(ssl ? { ssl: { rejectUnauthorized: false } } : {}),
      }),
    });

  beforeAll(async () => {
    server = await startTlsMariaDb(10);
    const mariadb = await import('mariadb');
    const admin = await mariadb.createConnection({
      host: server.host,
      port: server.port,
      user: 'root',
      multipleStatements: true,
    });
    await admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; USE ${database}`);
    for (const sql of migrationSql(migrationsDir('mysql'))) await admin.query(sql);
    await admin.end();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  test('reports the session TLS and the certificate, and warns of its expiry', async () => {
    const result = await runCliWith(loaded(client(true), url()), ['doctor', '--require-tls', '--json']);
    const checks = checksOf(result.json);
    expect(checks.tls).toMatchObject({ level: 'ok', detail: { ssl: true, bits: null } });
    expect(checks.tls.detail?.version).toMatch(/^TLSv1\.[23]$/);
    expect(checks.tls.detail?.cipher).toEqual(expect.any(String));
    expect(checks.certificate).toMatchObject({ level: 'warn', detail: { selfSigned: true, daysLeft: 9 } });
    expect(checks.certificate.detail?.subject).toContain('CN=hushfield-test-mariadb');
    expect(checks.certificate.message).toMatch(/expires in 9 days \(under 14\)/);
    const human = await runCliWith(loaded(client(true), url()), ['doctor']);
    expect(human.stdout).toMatch(/ok +tls: connection uses TLS \(TLSv1\.[23], [A-Z0-9_-]+\)/);
  });

  test('a session in clear is a warning, and a failure with --require-tls', async () => {
    const lenient = checksOf((await runCliWith(loaded(client(false), url()), ['doctor', '--json'])).json);
    expect(lenient.tls).toMatchObject({ level: 'warn', detail: { ssl: false, version: null, cipher: null } });
    // The server offers TLS though: the certificate is still read.
    expect(lenient.certificate).toMatchObject({ level: 'warn', detail: { selfSigned: true } });
    const strict = await runCliWith(loaded(client(false), url()), ['doctor', '--require-tls', '--json']);
    expect(strict.code).toBe(1);
    expect(checksOf(strict.json).tls.level).toBe('fail');
  });
});

describeOn(['mysql', 'sqlite'], 'doctor.test.ts covers PostgreSQL')(`doctor on the test ${provider} database`, () => {
  let db: TestDatabase;
  const client = () => new PrismaClient({ adapter: db.adapter() });

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.close();
  });

  (provider === 'mysql' ? test : test.skip)(
    'MariaDB without TLS: the session is in clear, no TLS offered',
    async () => {
      const result = await runCliWith(loaded(client, db.url), ['doctor', '--json']);
      const checks = checksOf(result.json);
      expect(checks.database.level).toBe('ok');
      expect(checks.tls).toMatchObject({ level: 'warn', detail: { ssl: false } });
      const server = new URL(mysqlServerUrl());
      expect(checks.certificate).toMatchObject({ level: 'skip' });
      expect(checks.certificate.message).toBe(`${server.hostname}:${server.port || 3306} does not offer TLS`);
      const strict = await runCliWith(loaded(client, db.url), ['doctor', '--require-tls', '--json']);
      expect(checksOf(strict.json).certificate.level).toBe('fail');
      expect(strict.code).toBe(1);
    },
  );

  (provider === 'sqlite' ? test : test.skip)(
    'SQLite: TLS does not apply to a file, even with --require-tls',
    async () => {
      for (const args of [
        ['doctor', '--json'],
        ['doctor', '--require-tls', '--json'],
      ]) {
        const result = await runCliWith(loaded(client, db.url), args);
        const checks = checksOf(result.json);
        expect(checks.database.level).toBe('ok');
        expect(checks.tls).toEqual({
          check: 'tls',
          level: 'skip',
          message: 'TLS does not apply: SQLite is a file on this host, not a network connection',
        });
        expect(checks.certificate.level).toBe('skip');
        expect(result.json.checks.filter((check: CheckJson) => check.level === 'fail')).toEqual([]);
      }
    },
  );
});
