/**
 * A model in a database schema of its own (`@@schema`, emitted as `ModelMeta.schema`) whose
 * table shares its name with a table of the connection's default schema: the CLI's
 * compare-and-swap writes reach the model's table, never the other one, even where a row of the
 * other holds the same id and value (a profile table mirroring the auth server's users); and
 * `doctor` judges the columns of the model's own table, not the other one's.
 */
import { randomBytes } from 'node:crypto';
import type { ModelMeta } from '@hushfield/prisma';
import { MysqlCasWriter } from '../../packages/cli/src/cas-writer-mysql';
import { PostgresCasWriter, createCasWriter } from '../../packages/cli/src/cas-writer';
import { judgeColumns, readColumns } from '../../packages/cli/src/column-checks';
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
      // The model's own table pads its encrypted column (doctor fails it); the default schema's does not.
      await world.db.query(`CREATE TABLE ${other}.hf_people (id INT PRIMARY KEY, email CHAR(200))`);
      await world.db.query(`CREATE TABLE hf_people (id INT PRIMARY KEY, email ${text})`);
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

    test("doctor reads the columns of the models' schemas, each under its schema", async () => {
      const database = (await readColumns(world.prisma, [other]))!;
      const people = database.columns.filter((fact) => fact.table === 'hf_people' && fact.column === 'email');
      expect(people).toHaveLength(2);
      expect(people.map((fact) => [fact.schema, fact.type])).toEqual(
        expect.arrayContaining([
          [other, mysql ? 'char' : 'character'],
          [undefined, 'text'],
        ]),
      );
    });

    // A padded encrypted String is PostgreSQL's failure (MySQL's CHAR trims).
    (mysql ? test.skip : test)('doctor judges the encrypted column of the model in its own schema', async () => {
      const person = (schema: string | undefined): ModelMeta => ({
        ...member(schema),
        name: 'Person',
        dbName: 'hf_people',
      });
      const judge = async (model: ModelMeta) =>
        judgeColumns(
          { formatVersion: 1, keyStoreModel: 'HushfieldKey', models: { Person: model } },
          (await readColumns(world.prisma, model.schema === undefined ? [] : [model.schema]))!,
        ).map((finding) => [finding.level, finding.detail.table, finding.detail.column]);
      expect(await judge(person(other))).toEqual([['fail', 'hf_people', 'email']]);
      expect(await judge(person(undefined))).toEqual([]);
    });
  },
);
