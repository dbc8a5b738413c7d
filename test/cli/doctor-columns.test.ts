/**
 * `doctor`'s column checks: the database's own column types and collations (a migration
 * written by hand, or a column altered since the schema was generated), against what the
 * extension needs: an encrypted column that pads envelopes fails, an undeclared fixed-length
 * scope column fails (PostgreSQL) or warns (MySQL), and so do a case-insensitive key table
 * scope and a BINARY(n) column for encrypted bytes (MySQL).
 */
import { createCliWorld, type CliWorld } from './support';
import { describeOn, testProvider } from '../support/provider';

interface CheckJson {
  check: string;
  level: string;
  message: string;
  detail?: Record<string, string>;
}

describeOn(['postgresql', 'mysql'], 'SQLite declares no column lengths or collations')('doctor: column checks', () => {
  let world: CliWorld;
  const mysql = testProvider() === 'mysql';

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

  it('passes the migrations this repository ships', async () => {
    const { checks } = await columnChecks();
    expect(checks).toEqual([expect.objectContaining({ level: 'ok' })]);
  });

  it('fails an encrypted column altered to CHAR on PostgreSQL, and one undeclared fixed-length scope column', async () => {
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
  });

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
