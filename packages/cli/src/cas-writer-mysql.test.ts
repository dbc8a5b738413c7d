import type { ModelMeta } from '@hushfield/prisma';
import { MysqlCasWriter } from './cas-writer-mysql';

const scalar = (name: string, type = 'String') => ({
  name,
  dbName: name,
  kind: 'scalar' as const,
  type,
  isList: false,
  isRequired: true,
  isId: name === 'id',
});
const model = {
  name: 'Customer',
  dbName: 'customers',
  idFields: ['id'],
  idGeneration: 'autoincrement',
  bindRowId: false,
  fields: { id: scalar('id', 'Int'), email: scalar('email') },
  encrypted: {},
  blindIndexes: {},
  uniqueIndexes: [],
} as unknown as ModelMeta;

/** A client whose catalog query answers `catalog` (or throws it), and which records every statement. */
function fakeClient(catalogs: (Error | { name: string; charset: string | null }[])[]) {
  const statements: string[] = [];
  const client = {
    statements,
    async $queryRawUnsafe(query: string) {
      if (!query.includes('information_schema')) return [];
      const next = catalogs.shift();
      if (next instanceof Error || next === undefined) throw next ?? new Error('no catalog');
      return next;
    },
    async $executeRawUnsafe(query: string) {
      statements.push(query);
      return 1;
    },
    async $transaction<T>(work: (tx: unknown) => Promise<T>) {
      return work(client);
    },
  };
  return client;
}

const write = { key: [1], expected: { email: 'é@x' }, data: { email: 'E' } };

describe('MysqlCasWriter', () => {
  it("converts the value read into the column's character set before comparing bytes", async () => {
    const client = fakeClient([
      [
        { name: 'ID', charset: null },
        { name: 'Email', charset: 'latin1' },
      ],
    ]);
    await expect(new MysqlCasWriter(client as never, model).write([write])).resolves.toEqual([{ status: 'applied' }]);
    expect(client.statements[0]).toContain('CAST(t.`email` AS BINARY) <=> CAST(CONVERT(v.o0 USING latin1) AS BINARY)');
  });

  it('fails a batch whose catalog read fails, and reads it again for the next one', async () => {
    const client = fakeClient([new Error('catalog down'), [{ name: 'email', charset: 'utf8mb4' }]]);
    const writer = new MysqlCasWriter(client as never, model);
    await expect(writer.write([write])).rejects.toThrow('catalog down');
    expect(client.statements).toEqual([]);
    await expect(writer.write([write])).resolves.toEqual([{ status: 'applied' }]);
    expect(client.statements[0]).toContain('CONVERT(v.o0 USING utf8mb4)');
  });

  it('never compares a column the catalog does not list, nor writes an odd character set name into SQL', async () => {
    const missing = fakeClient([[{ name: 'id', charset: null }]]);
    const outcomes = await new MysqlCasWriter(missing as never, model).write([write]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['error']);
    expect(missing.statements).toEqual([]);
    const odd = fakeClient([[{ name: 'email', charset: 'latin1) OR 1=1 --' }]]);
    await expect(new MysqlCasWriter(odd as never, model).write([write])).rejects.toThrow('not a plain name');
    expect(odd.statements).toEqual([]);
  });
});
