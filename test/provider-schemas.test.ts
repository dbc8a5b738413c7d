/**
 * The provider's migrations match its schema: every model's table has exactly the columns the
 * generated schema names, on PostgreSQL, MySQL/MariaDB and SQLite alike (this file runs in every
 * project of the matrix). On MySQL, also the column types the README recommends: encrypted
 * String fields in TEXT columns, blind-index columns VARCHAR(191) or TEXT, every text column
 * with a binary collation (index values are case-sensitive).
 */
import { hushfieldSchema } from '../prisma/generated/hushfield';
import { createTestDatabase, type TestDatabase } from './support/database';
import { testProvider } from './support/provider';

interface Column {
  readonly name: string;
  readonly type: string;
  readonly collation: string | null;
}

async function columns(db: TestDatabase, table: string): Promise<Column[]> {
  if (db.provider === 'sqlite') {
    const rows = await db.query<{ name: string; type: string }>('SELECT name, type FROM pragma_table_info($1)', [
      table,
    ]);
    return rows.map((row) => ({ name: row.name, type: row.type.toLowerCase(), collation: null }));
  }
  const rows = await db.query<{ name: string; type: string; collation: string | null }>(
    db.provider === 'mysql'
      ? 'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, COLLATION_NAME AS collation FROM information_schema.columns ' +
          'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $1'
      : 'SELECT column_name AS name, data_type AS type, collation_name AS collation FROM information_schema.columns ' +
          "WHERE table_schema = 'public' AND table_name = $1",
    [table],
  );
  return rows.map((row) => ({ name: row.name, type: String(row.type).toLowerCase(), collation: row.collation }));
}

describe(`the ${testProvider()} migrations`, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  const models = Object.values(hushfieldSchema.models);

  it.each(models.map((model) => [model.name, model] as const))(
    '%s: the table has the columns the schema names',
    async (_, model) => {
      const scalar = Object.values(model.fields as Record<string, { dbName: string; kind: string }>)
        .filter((field) => field.kind === 'scalar')
        .map((field) => field.dbName)
        .sort();
      const actual = (await columns(db, model.dbName)).map((column) => column.name).sort();
      expect(actual).toEqual(scalar);
    },
  );

  const onMysql = testProvider() === 'mysql' ? it : it.skip;

  onMysql('MySQL: envelopes in TEXT, index values in VARCHAR(191) or TEXT, binary collation', async () => {
    let checked = 0;
    for (const model of models) {
      const byName = new Map((await columns(db, model.dbName)).map((column) => [column.name, column]));
      const encrypted = Object.values((model as { encrypted?: Record<string, { dbName: string }> }).encrypted ?? {});
      for (const field of encrypted) {
        const column = byName.get(field.dbName)!;
        if (['json', 'longtext', 'longblob'].includes(column.type)) continue;
        // A column the schema bounds (`@db.VarChar(n)`: Locker.note) keeps its bound.
        const declared = Object.values(model.fields as Record<string, { dbName: string; maxLength?: number }>).find(
          (f) => f.dbName === field.dbName,
        )?.maxLength;
        const expected = declared === undefined ? 'text' : `varchar(${declared})`;
        expect([model.name, field.dbName, column.type]).toEqual([model.name, field.dbName, expected]);
        checked++;
      }
      const indexes = Object.values(
        (model as { blindIndexes?: Record<string, { dbName: string }> }).blindIndexes ?? {},
      );
      for (const index of indexes) {
        const column = byName.get(index.dbName)!;
        expect(['varchar(191)', 'text']).toContain(column.type);
        expect(column.collation).toBe('utf8mb4_bin');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
