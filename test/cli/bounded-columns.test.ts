/**
 * `reencrypt` into a bounded column (`@db.VarChar(n)`, MySQL's TEXT): an envelope longer than
 * the column fails its row, which keeps its plaintext, as the extension refuses such a write.
 * Without the check PostgreSQL and a strict MySQL refused the batch's statement, and MySQL
 * without a strict `sql_mode` cut the envelope to fit: the plaintext was replaced by a value
 * that never decrypts.
 */
import type { HushfieldSchema } from '@hushfield/prisma';
import { createCliWorld, schema } from './support';
import type { CliWorld } from './support';
import { nonStrictMysqlAdapter } from '../support/database';
import { describeOn, testProvider } from '../support/provider';
import { PrismaClient as MysqlClient } from '../../prisma/mysql/generated/client/client';

let world: CliWorld;

/** The test schema with `Customer.email` declared `@db.VarChar(200)`, as the generator writes it. */
function boundedSchema(): HushfieldSchema {
  const copy = JSON.parse(JSON.stringify(schema)) as {
    models: Record<string, { fields: Record<string, { maxLength?: number }> }>;
  };
  copy.models.Customer.fields.email.maxLength = 200;
  return copy as unknown as HushfieldSchema;
}

/** A client whose session cuts over-long values instead of refusing them (MySQL without a strict sql_mode). */
function lenientMysqlClient(): MysqlClient {
  return new MysqlClient({ adapter: nonStrictMysqlAdapter(world.db, 'NO_ENGINE_SUBSTITUTION') });
}

describeOn(['postgresql', 'mysql'], 'SQLite does not enforce VARCHAR lengths')(
  'reencrypt into a bounded column',
  () => {
    beforeAll(async () => {
      world = await createCliWorld();
    }, 60_000);

    afterAll(async () => {
      await world?.close();
    });

    const onMysql = testProvider() === 'mysql' ? test : test.skip;

    onMysql(
      'fails a row whose envelope outgrows its MySQL TEXT column (65,535 bytes) and leaves its plaintext',
      async () => {
        const long = `${'t'.repeat(60_000)}@example.com`;
        await world.db.query('INSERT INTO customers (email) VALUES ($1)', [long]);
        const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], {
          config: { prisma: lenientMysqlClient },
        });
        expect(result.code).toBe(3);
        expect(result.json.models[0].failures).toEqual([
          expect.objectContaining({ field: 'email', code: 'HUSHFIELD_INVALID_ARGUMENT' }),
        ]);
        expect(result.json.models[0].failures[0].message).toContain('Text (65535 bytes)');
        expect((await world.db.query<{ email: string }>('SELECT email FROM customers'))[0].email).toBe(long);
        await world.db.query('DELETE FROM customers');
      },
    );

    test('fails a row whose envelope outgrows the column and leaves its plaintext; the other rows are encrypted', async () => {
      await world.db.query(
        world.db.provider === 'mysql'
          ? 'ALTER TABLE customers MODIFY email VARCHAR(200) NOT NULL'
          : 'ALTER TABLE customers ALTER COLUMN email TYPE varchar(200)',
      );
      const long = `${'a'.repeat(170)}@example.com`;
      await world.db.query("INSERT INTO customers (email) VALUES ('short@example.com'), ($1)", [long]);
      const lenient = world.db.provider === 'mysql' ? { prisma: lenientMysqlClient } : {};
      const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], {
        config: { schema: boundedSchema(), ...lenient },
      });
      expect(result.code).toBe(3);
      const [customer] = result.json.models;
      expect(customer).toMatchObject({ scanned: 2, written: 1, failed: 1 });
      expect(customer.failures).toEqual([
        expect.objectContaining({ field: 'email', code: 'HUSHFIELD_INVALID_ARGUMENT' }),
      ]);
      expect(customer.failures[0].message).toContain('VarChar(200)');
      expect(result.stdout).not.toContain(long.slice(0, 40));
      const rows = await world.db.query<{ email: string }>('SELECT email FROM customers ORDER BY id');
      expect(rows[0].email).toMatch(/^hfe\$/);
      expect(rows[1].email).toBe(long);
    });
  },
);
