/**
 * `doctor`'s TLS facts on MySQL/MariaDB and SQLite. MariaDB: a throwaway server with TLS and a
 * self-signed certificate valid 10 days (the session's `Ssl_version`/`Ssl_cipher`, the certificate
 * read through MySQL's SSL request, an expiry warning), the same server reached in clear (a
 * warning, a failure with --require-tls), and the machine's MariaDB without TLS. SQLite: TLS
 * does not apply (a file), whatever --require-tls says.
 */
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import type { HushfieldSchema } from '@hushfield/prisma';
import { defineConfig } from '@hushfield/cli';
import type { LoadedConfig } from '@hushfield/cli';
import { runCliWith } from './support';
import { createScratchDatabase, MARIADB_SERVER } from './scratch-provider';
import type { ScratchDatabase } from './scratch-provider';
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

function loaded(schema: unknown, prisma: () => unknown, databaseUrl?: string): LoadedConfig {
  return {
    path: '<test>',
    module: {},
    config: defineConfig({
      schema: schema as HushfieldSchema,
      keyring: new LocalKeyring(randomBytes(32)),
      prisma: prisma as never,
      ...(databaseUrl ? { databaseUrl } : {}),
    }),
  };
}

async function mysqlModules() {
  const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
  const { PrismaClient } = await import('../../prisma/mysql/generated/client/client');
  const { hushfieldSchema } = await import('../../prisma/mysql/generated/hushfield');
  return { PrismaMariaDb, PrismaClient, hushfieldSchema };
}

const unavailable = tlsMariaDbUnavailable();
const describeTls = unavailable ? describe.skip : describe;
if (unavailable) process.stdout.write(`doctor-dialects.test: skipping the TLS MariaDB: ${unavailable}\n`);

describeTls('doctor on a MariaDB with TLS (self-signed, 10 days left)', () => {
  let server: TlsMariaDb;
  const database = 'hushfield_doctor';

  beforeAll(async () => {
    server = await startTlsMariaDb(10);
    const mariadb = await import('mariadb');
    const admin = await mariadb.createConnection({
      host: server.host,
      port: server.port,
      user: 'root',
      multipleStatements: true,
    });
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(__dirname, '..', '..', 'prisma', 'mysql', 'migrations');
    await admin.query(`CREATE DATABASE ${database}; USE ${database}`);
    for (const name of readdirSync(dir).sort())
      await admin.query(readFileSync(join(dir, name, 'migration.sql'), 'utf8'));
    await admin.end();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  test('reports the session TLS and the certificate, and warns of its expiry', async () => {
    const { PrismaMariaDb, PrismaClient, hushfieldSchema } = await mysqlModules();
    const url = `mysql://root@${server.host}:${server.port}/${database}`;
    const prisma = () =>
      new PrismaClient({
        adapter: new PrismaMariaDb({
          host: server.host,
          port: server.port,
          user: 'root',
          database,
          ssl: { rejectUnauthorized: false },
        }),
      });
    const result = await runCliWith(loaded(hushfieldSchema, prisma, url), ['doctor', '--require-tls', '--json']);
    const checks = checksOf(result.json);
    expect(checks.tls).toMatchObject({ level: 'ok', detail: { ssl: true, bits: null } });
    expect(checks.tls.detail?.version).toMatch(/^TLSv1\.[23]$/);
    expect(checks.tls.detail?.cipher).toEqual(expect.any(String));
    expect(checks.certificate).toMatchObject({ level: 'warn', detail: { selfSigned: true, daysLeft: 9 } });
    expect(checks.certificate.detail?.subject).toContain('CN=hushfield-test-mariadb');
    expect(checks.certificate.message).toMatch(/expires in 9 days \(under 14\)/);
    const human = await runCliWith(loaded(hushfieldSchema, prisma, url), ['doctor']);
    expect(human.stdout).toMatch(/ok +tls: connection uses TLS \(TLSv1\.[23], [A-Z0-9_-]+\)/);
  });

  test('a session in clear is a warning, and a failure with --require-tls', async () => {
    const { PrismaMariaDb, PrismaClient, hushfieldSchema } = await mysqlModules();
    const url = `mysql://root@${server.host}:${server.port}/${database}`;
    const prisma = () =>
      new PrismaClient({
        adapter: new PrismaMariaDb({ host: server.host, port: server.port, user: 'root', database }),
      });
    const lenient = checksOf((await runCliWith(loaded(hushfieldSchema, prisma, url), ['doctor', '--json'])).json);
    expect(lenient.tls).toMatchObject({ level: 'warn', detail: { ssl: false, version: null, cipher: null } });
    // The server offers TLS though: the certificate is still read.
    expect(lenient.certificate).toMatchObject({ level: 'warn', detail: { selfSigned: true } });
    const strict = await runCliWith(loaded(hushfieldSchema, prisma, url), ['doctor', '--require-tls', '--json']);
    expect(strict.code).toBe(1);
    expect(checksOf(strict.json).tls.level).toBe('fail');
  });
});

describe('doctor on the machine MariaDB (no TLS) and on SQLite', () => {
  let maria: ScratchDatabase;
  let sqlite: ScratchDatabase;

  beforeAll(async () => {
    [maria, sqlite] = await Promise.all([createScratchDatabase('mysql'), createScratchDatabase('sqlite')]);
  });

  afterAll(async () => {
    await maria?.close();
    await sqlite?.close();
  });

  test('MariaDB without TLS: the session is in clear, the server offers none', async () => {
    const { hushfieldSchema } = await mysqlModules();
    const url = maria.url.replace(/^mariadb:/, 'mysql:');
    const result = await runCliWith(
      loaded(hushfieldSchema, () => maria.client(), url),
      ['doctor', '--json'],
    );
    const checks = checksOf(result.json);
    expect(checks.database.level).toBe('ok');
    expect(checks.tls).toMatchObject({ level: 'warn', detail: { ssl: false } });
    const server = new URL(MARIADB_SERVER);
    expect(checks.certificate).toMatchObject({ level: 'skip' });
    expect(checks.certificate.message).toBe(`${server.hostname}:${server.port || 3306} does not offer TLS`);
    const strict = await runCliWith(
      loaded(hushfieldSchema, () => maria.client(), url),
      ['doctor', '--require-tls', '--json'],
    );
    expect(checksOf(strict.json).certificate.level).toBe('fail');
    expect(strict.code).toBe(1);
  });

  test('SQLite: TLS does not apply to a file, with or without --require-tls', async () => {
    const { hushfieldSchema } = await import('../../prisma/sqlite/generated/hushfield');
    for (const args of [
      ['doctor', '--json'],
      ['doctor', '--require-tls', '--json'],
    ]) {
      const result = await runCliWith(
        loaded(hushfieldSchema, () => sqlite.client(), sqlite.url),
        args,
      );
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
  });
});
