/**
 * A model in a database schema of its own (`@@schema`, emitted as `ModelMeta.schema`) whose
 * table shares its name with a table of the connection's default schema: the CLI's
 * compare-and-swap writes reach the model's table, never the other one, even where a row of the
 * other holds the same id and value (a profile table mirroring the auth server's users).
 */
import { randomBytes } from 'node:crypto';
import type { ModelMeta } from '@hushfield/prisma';
import { MysqlCasWriter } from '../../packages/cli/src/cas-writer-mysql';
import { PostgresCasWriter, createCasWriter } from '../../packages/cli/src/cas-writer';
import { describeOn, testProvider } from '../support/provider';
import { createCliWorld } from './support';
import type { CliWorld } from './support';

const mysql = testProvider() === 'mysql';
/** The other schema (a database on MySQL/MariaDB), unique to this run: MySQL's are server-wide. */
const other = `hf_other_${randomBytes(4).toString('hex')}`;

function member(schema: string | undefined): ModelMeta {
  const scalar = (name: string, type: string) =>
    ({
      name,
      dbName: name,
      kind: 'scalar',
      type,
      isList: false,
      isRequired: name === 'id',
      isId: name === 'id',
    }) as const;
  return {
    name: 'Member',
    dbName: 'hf_members',
    ...(schema === undefined ? {} : { schema }),
    idFields: ['id'],
    idGeneration: 'none',
    bindRowId: false,
    fields: { id: scalar('id', 'Int'), email: scalar('email', 'String') },
    encrypted: { email: { name: 'email', dbName: 'email', mode: 'migrating', optional: true } },
    blindIndexes: {},
    uniqueIndexes: [],
  };
}

describeOn(['postgresql', 'mysql'], 'schemas of tables are PostgreSQL schemas and MySQL databases')(
  'a model whose table is in its own database schema',
  () => {
    let world: CliWorld;

    beforeAll(async () => {
      world = await createCliWorld();
      const text = mysql ? 'TEXT' : 'text';
      await world.db.query(mysql ? `CREATE DATABASE ${other}` : `CREATE SCHEMA ${other}`);
      for (const table of [`${other}.hf_members`, 'hf_members'])
        await world.db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, email ${text})`);
    });

    afterAll(async () => {
      if (mysql) await world?.db.query(`DROP DATABASE IF EXISTS ${other}`);
      await world?.close();
    });

    beforeEach(async () => {
      for (const table of [`${other}.hf_members`, 'hf_members']) {
        await world.db.query(`DELETE FROM ${table}`);
        await world.db.query(`INSERT INTO ${table} (id, email) VALUES (1, 'a@x'), (2, 'b@x')`);
      }
    });

    const emails = async (table: string) =>
      (await world.db.query<{ email: string }>(`SELECT email FROM ${table} ORDER BY id`)).map((row) => row.email);

    test('writes the rows of its own table, and leaves the same rows of the default schema alone', async () => {
      const writer = await createCasWriter(world.prisma, member(other));
      expect(writer).toBeInstanceOf(mysql ? MysqlCasWriter : PostgresCasWriter);
      const outcomes = await writer.write([
        { key: [1], expected: { email: 'a@x' }, data: { email: 'sealed-a' } },
        { key: [2], expected: { email: 'b@x' }, data: { email: 'sealed-b' } },
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'applied']);
      expect(await emails(`${other}.hf_members`)).toEqual(['sealed-a', 'sealed-b']);
      expect(await emails('hf_members')).toEqual(['a@x', 'b@x']);
    });

    test('a model without a schema still writes the default schema', async () => {
      const writer = await createCasWriter(world.prisma, member(undefined));
      const outcomes = await writer.write([{ key: [1], expected: { email: 'a@x' }, data: { email: 'sealed-a' } }]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied']);
      expect(await emails('hf_members')).toEqual(['sealed-a', 'b@x']);
      expect(await emails(`${other}.hf_members`)).toEqual(['a@x', 'b@x']);
    });
  },
);
