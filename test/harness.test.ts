import { createPrisma, createTestDatabase, type TestDatabase } from './support/database';

describe('test database harness', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('applies the SQL migrations and serves Prisma and raw SQL on the same database', async () => {
    const { prisma, queries } = createPrisma(db);
    try {
      await prisma.hushfieldKey.create({
        data: {
          keyId: 'k1',
          kind: 'scope',
          scope: 'default',
          version: 1,
          state: 'active',
          wrappedKey: 'AA',
          keyringId: 'test',
        },
      });
      const rows = await db.query<{ key_id: string }>('SELECT key_id FROM hushfield_keys');
      expect(rows).toEqual([{ key_id: 'k1' }]);
      expect(queries.some((q) => q.query.includes('INSERT INTO'))).toBe(true);
    } finally {
      await prisma.$disconnect();
    }
  });
});
