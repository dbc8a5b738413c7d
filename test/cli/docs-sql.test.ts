/**
 * The SQL the docs give for hushfield's own tables (the checkpoint table in the CLI README,
 * the key store in key-store.md) creates exactly the tables the migrations create: same
 * columns, types, nullability, defaults and indexes. Run in a schema of their own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { describeOn } from '../support/provider';

const ROOT = join(__dirname, '..', '..');
let db: TestDatabase;

/** The ```sql blocks of a Markdown file that create `table`. */
function documentedSql(file: string, table: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const blocks = [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => match[1]);
  const found = blocks.filter((block) => block.includes(`CREATE TABLE "${table}"`));
  expect(found).toHaveLength(1);
  return found[0];
}

/** Columns and indexes of `table` in `schema`, without the schema's name. */
async function shape(schema: string, table: string): Promise<unknown> {
  const columns = await db.query(
    `SELECT column_name, data_type, datetime_precision, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  const indexes = await db.query<{ indexname: string; indexdef: string }>(
    'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname',
    [schema, table],
  );
  return {
    columns,
    indexes: indexes.map((index) => ({ ...index, indexdef: index.indexdef.replace(`${schema}.`, '') })),
  };
}

describeOn(['postgresql'], 'the docs give the PostgreSQL SQL; prisma/<provider>/migrations has the others')(
  'documented SQL',
  () => {
    beforeAll(async () => {
      db = await createTestDatabase();
    }, 60_000);
    afterAll(async () => {
      await db?.close();
    });

    it.each([
      ['packages/cli/README.md', 'hushfield_checkpoints'],
      ['packages/cli/README.md', 'hushfield_runs'],
      ['packages/cli/README.md', 'hushfield_ranges'],
      ['packages/prisma/docs/key-store.md', 'hushfield_keys'],
    ])('the SQL in %s creates %s as the migrations do', async (file, table) => {
      const schema = `docs_${table}`;
      await db.query(`CREATE SCHEMA "${schema}"`);
      // Unqualified names in the documented SQL land in the first schema of the search path.
      await db.query(`SET search_path TO "${schema}"`);
      try {
        for (const statement of documentedSql(file, table)
          .split(';')
          .map((part) => part.trim())
          .filter(Boolean))
          await db.query(statement);
      } finally {
        await db.query('SET search_path TO public');
      }
      const expected = await shape('public', table);
      expect((expected as { columns: unknown[] }).columns.length).toBeGreaterThan(0);
      expect(await shape(schema, table)).toEqual(expected);
    });
  },
);
