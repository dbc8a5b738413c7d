/**
 * `doctor`'s column checks: the database's own column types and collations (a migration
 * written by hand, or a column altered since the schema was generated), against what the
 * extension needs: an encrypted column that pads envelopes fails, an undeclared fixed-length
 * scope column fails (PostgreSQL) or warns (MySQL), and so do a case-insensitive key table
 * scope and a BINARY(n) column for encrypted bytes (MySQL). A key table scope whose collation
 * ignores trailing spaces (MariaDB's PAD SPACE `utf8mb4_bin`, SQLite's `RTRIM`) warns, and on
 * SQLite a column declared `COLLATE NOCASE` is judged as a case-insensitive MySQL one.
 */
import { KeyStoreError } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import { appClient, createCliWorld, type CliWorld } from './support';
import type { TestDatabase } from '../support/database';
import { testProvider } from '../support/provider';

interface CheckJson {
  check: string;
  level: string;
  message: string;
  detail?: Record<string, string>;
}

/**
 * Recreates SQLite table `table` with `column` declared `COLLATE <collation>` (SQLite cannot
 * alter a column), keeping its rows and indexes.
 */
async function sqliteCollate(db: TestDatabase, table: string, column: string, collation: string): Promise<void> {
  const [created] = await db.query<{ sql: string }>(
    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1",
    [table],
  );
  const indexes = await db.query<{ sql: string }>(
    "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
    [table],
  );
  const declaration = new RegExp(`("${column}" [^,\\n]*?)(,?\\n)`);
  expect(created?.sql).toMatch(declaration);
  await db.query('PRAGMA foreign_keys = OFF');
  await db.query(`ALTER TABLE "${table}" RENAME TO "${table}_old"`);
  await db.query(
    created!.sql.replace(
      declaration,
      (_, head: string, end: string) => `${head.replace(/ COLLATE \w+/i, '')} COLLATE ${collation}${end}`,
    ),
  );
  await db.query(`INSERT INTO "${table}" SELECT * FROM "${table}_old"`);
  await db.query(`DROP TABLE "${table}_old"`);
  for (const index of indexes) await db.query(index.sql);
  await db.query('PRAGMA foreign_keys = ON');
}

describe('doctor: column checks', () => {
  let world: CliWorld;
  const mysql = testProvider() === 'mysql';
  const sqlite = testProvider() === 'sqlite';

  beforeAll(async () => {
    world = await createCliWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  const columnChecks = async () => {
    const result = await world.runCli(['doctor', '--json']);
    return { code: result.code, checks: (result.json.checks as CheckJson[]).filter((c) => c.check === 'columns') };
  };

  it('passes the migrations this repository ships, but for a MySQL key table scope that ignores trailing spaces', async () => {
    const { checks } = await columnChecks();
    if (!mysql) {
      expect(checks).toEqual([expect.objectContaining({ level: 'ok' })]);
      return;
    }
    // utf8mb4_bin, the test migration's collation (MySQL 8 has no utf8mb4_nopad_bin), is PAD SPACE on MariaDB.
    expect(checks).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/hushfield_keys\.scope .*utf8mb4_bin.*trailing spaces.*utf8mb4_nopad_bin/),
        detail: expect.objectContaining({ table: 'hushfield_keys', column: 'scope', collation: 'utf8mb4_bin' }),
      }),
    ]);
  });

  (mysql ? it : it.skip)(
    "answers one scope's key for another that differs in trailing spaces (PAD SPACE), which doctor warned of",
    async () => {
      const prisma = appClient(world);
      const user = (tenantId: string) => ({
        data: { emailIdx: computedBlindIndex, tenantId, name: 'Ada', email: `${tenantId.length}@x.test` },
      });
      await prisma.user.create(user('pad-acme'));
      // A client that has cached nothing asks the key table for "pad-acme ": it answers "pad-acme"'s key.
      const error = await appClient(world)
        .user.create(user('pad-acme '))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(KeyStoreError);
      expect(await world.db.query('SELECT id FROM users WHERE `tenantId` = $1', ['pad-acme '])).toHaveLength(1);
      await world.db.query(
        'ALTER TABLE `hushfield_keys` MODIFY `scope` VARCHAR(191) NOT NULL COLLATE utf8mb4_nopad_bin',
      );
      expect((await columnChecks()).checks).toEqual([expect.objectContaining({ level: 'ok' })]);
      await appClient(world).user.create(user('pad-acme '));
      const scopes = await world.db.query<{ scope: string }>(
        "SELECT scope FROM hushfield_keys WHERE kind = 'scope' ORDER BY scope",
      );
      expect(scopes.map((row) => row.scope)).toEqual(['pad-acme', 'pad-acme ']);
      // The tests below alter the column back to PAD SPACE collations, which these two rows would clash in.
      await world.db.query("DELETE FROM hushfield_keys WHERE kind = 'scope' AND scope LIKE 'pad-acme%'");
      await world.db.query("DELETE FROM users WHERE `tenantId` LIKE 'pad-acme%'");
    },
  );

  (sqlite ? it : it.skip)(
    "on SQLite, fails a key table scope declared COLLATE NOCASE, whose lookups answer another scope's key",
    async () => {
      await sqliteCollate(world.db, 'hushfield_keys', 'scope', 'NOCASE');
      await appClient(world).user.create({
        data: { emailIdx: computedBlindIndex, tenantId: 'nocase-acme', name: 'Ada', email: 'ada@x.test' },
      });
      const error = await appClient(world)
        .user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'NOCASE-ACME', name: 'Bo', email: 'bo@x.test' },
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(KeyStoreError);
      const { code, checks } = await columnChecks();
      expect(code).toBe(1);
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'fail',
          message: expect.stringMatching(/hushfield_keys\.scope \(the key table's scope\) .*NOCASE/),
          detail: expect.objectContaining({ table: 'hushfield_keys', column: 'scope', collation: 'NOCASE' }),
        }),
      );
    },
  );

  (sqlite ? it : it.skip)(
    'on SQLite, warns of a blind-index or scope column declared COLLATE NOCASE and a key scope in RTRIM',
    async () => {
      await sqliteCollate(world.db, 'users', 'ssn_idx', 'NOCASE');
      await sqliteCollate(world.db, 'tickets', 'tenant_id', 'nocase');
      await sqliteCollate(world.db, 'hushfield_keys', 'scope', 'RTRIM');
      // A unique index comparing by another collation than its column's refuses values that collation equates.
      await world.db.query(
        'CREATE UNIQUE INDEX "customers_email_idx_nocase" ON "customers"("email_idx" COLLATE NOCASE)',
      );
      const { checks } = await columnChecks();
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          detail: expect.objectContaining({ field: 'ssnIdx', collation: 'NOCASE' }),
        }),
      );
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringContaining('tickets.tenant_id compares case-insensitively (NOCASE)'),
        }),
      );
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          detail: expect.objectContaining({ model: 'Customer', field: 'emailIdx', collation: 'NOCASE' }),
        }),
      );
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringMatching(/hushfield_keys\.scope .*RTRIM.*trailing spaces/),
        }),
      );
    },
  );

  (sqlite ? it.skip : it)(
    'fails an encrypted column altered to CHAR on PostgreSQL, and one undeclared fixed-length scope column',
    async () => {
      if (mysql) {
        await world.db.query('ALTER TABLE tickets MODIFY tenant_id CHAR(16) NOT NULL');
        await world.db.query('ALTER TABLE documents MODIFY `blob` BINARY(200) NULL');
      } else {
        await world.db.query('ALTER TABLE users ALTER COLUMN notes TYPE CHAR(900)');
        await world.db.query('ALTER TABLE tickets ALTER COLUMN tenant_id TYPE CHAR(16)');
      }
      const { code, checks } = await columnChecks();
      expect(code).toBe(1);
      const byField = Object.fromEntries(checks.map((c) => [`${c.detail?.model}.${c.detail?.field}`, c]));
      expect(byField['Ticket.tenantId']).toMatchObject({
        level: mysql ? 'warn' : 'fail',
        message: expect.stringContaining('tickets.tenant_id is CHAR in the database, but the schema does not declare'),
      });
      if (mysql) {
        expect(byField['Document.blob']).toMatchObject({ level: 'fail', message: expect.stringContaining('BINARY') });
      } else {
        expect(byField['User.notes']).toMatchObject({
          level: 'fail',
          message: expect.stringContaining('users.notes is CHAR in the database'),
        });
      }
      // the Char(8) scope the schema declares is not reported: the extension refuses what it would change
      expect(byField['Locker.siteCode']).toBeUndefined();
    },
  );

  (mysql ? it : it.skip)(
    'reads a column whose name the database spells in another case, as MySQL matches it',
    async () => {
      // MySQL's column names are not case-sensitive: the application reads and writes these as before.
      await world.db.query(
        'ALTER TABLE `contacts` CHANGE `phone_idx` `PHONE_IDX` TEXT NULL COLLATE utf8mb4_general_ci',
      );
      await world.db.query(
        'ALTER TABLE `people` CHANGE `tenant_id` `Tenant_Id` TEXT NOT NULL COLLATE utf8mb4_general_ci',
      );
      const { checks } = await columnChecks();
      expect(checks).toContainEqual(
        expect.objectContaining({ level: 'warn', detail: expect.objectContaining({ field: 'phoneIdx' }) }),
      );
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringContaining('people.Tenant_Id compares case-insensitively (utf8mb4_general_ci)'),
        }),
      );
    },
  );

  (mysql ? it : it.skip)(
    'fails a case-insensitive key table scope and warns of a case-insensitive index or scope column',
    async () => {
      await world.db.query(
        'ALTER TABLE `hushfield_keys` MODIFY `scope` VARCHAR(191) NOT NULL COLLATE utf8mb4_general_ci',
      );
      await world.db.query('ALTER TABLE `users` MODIFY `ssn_idx` VARCHAR(191) NULL COLLATE utf8mb4_unicode_ci');
      await world.db.query('ALTER TABLE `tickets` MODIFY `tenant_id` VARCHAR(191) NOT NULL COLLATE utf8mb4_general_ci');
      const { checks } = await columnChecks();
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'fail',
          message: expect.stringMatching(
            /hushfield_keys\.scope \(the key table's scope\) is varchar in utf8mb4_general_ci/,
          ),
        }),
      );
      expect(checks).toContainEqual(
        expect.objectContaining({ level: 'warn', detail: expect.objectContaining({ field: 'ssnIdx' }) }),
      );
      // a scope column that compares case-insensitively: a connect differing in case would seal under another scope
      expect(checks).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringContaining('tickets.tenant_id compares case-insensitively (utf8mb4_general_ci)'),
        }),
      );
    },
  );
});
