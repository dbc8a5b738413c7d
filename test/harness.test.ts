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

/** Open TCP sockets of this process, once those closing have closed (within a second). */
async function openSockets(expected: number): Promise<number> {
  const count = () => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
  for (let waited = 0; count() !== expected && waited < 1000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return count();
}

describe('a migration that fails', () => {
  const servers = [
    ...(process.env.TEST_DATABASE_URL ? (['postgres'] as const) : []),
    ...(process.env.TEST_MYSQL_URL ? (['mariadb'] as const) : []),
  ];
  // A beforeAll failing so gets no TestDatabase to close: an open connection kept Jest from exiting.
  (servers.length > 0 ? it.each(servers) : it.skip.each(['postgres']))(
    'leaves no connection open on %s',
    async (backend) => {
      const before = await openSockets(-1);
      await expect(createTestDatabase(backend, ['CREATE TABLE kept (id INT)', 'NOT SQL AT ALL'])).rejects.toThrow();
      expect(await openSockets(before)).toBe(before);
    },
  );
});
