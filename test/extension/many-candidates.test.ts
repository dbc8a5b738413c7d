/**
 * Lookups whose candidates are re-checked after decryption (truncated blind indexes, match
 * indexes) when many rows match: the narrowed query must not name one bind parameter per
 * matching row, which Prisma caps (SQLite 999, PostgreSQL 32,766: past it, P2029).
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, type Harness } from './support';
import { describeOn } from '../support/provider';

const MANY = 1_100;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

describe('fieldEncryption: re-checked lookups that many rows match', () => {
  let h: Harness;
  const shared = '123-45-6789';
  const others: string[] = [];

  beforeAll(async () => {
    h = await createHarness();
    for (let first = 0; first < MANY; first += 100) {
      await h.prisma.user.createMany({
        data: Array.from({ length: 100 }, (_, j) => ({
          tenantId: 'many',
          name: `n${first + j}`,
          email: `u${first + j}@many.test`,
          emailIdx: computedBlindIndex,
          ssn: shared,
        })),
      });
    }
    for (const ssn of ['987-65-4321', '555-55-5555']) {
      const row = await h.prisma.user.create({
        data: { tenantId: 'many', name: ssn, email: `${ssn}@many.test`, emailIdx: computedBlindIndex, ssn },
      });
      others.push(row.id);
    }
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  it('count, a page, updateMany and deleteMany through a truncated index give exactly the matching rows', async () => {
    const where = { ssn: shared };
    expect(await h.prisma.user.count({ where })).toBe(MANY);
    const page = await h.prisma.user.findMany({ where, orderBy: { name: 'asc' }, skip: 10, take: 3 });
    const names = Array.from({ length: MANY }, (_, i) => `n${i}`).sort();
    expect(page.map((u) => u.name)).toEqual(names.slice(10, 13));
    expect(page.every((u) => u.ssn === shared)).toBe(true);
    expect((await h.prisma.user.updateMany({ where, data: { name: 'renamed' } })).count).toBe(MANY);
    expect(await h.base.user.count({ where: { name: 'renamed' } })).toBe(MANY);
    expect((await h.prisma.user.deleteMany({ where })).count).toBe(MANY);
    expect((await h.base.user.findMany({ select: { id: true } })).map((u) => u.id).sort()).toEqual([...others].sort());
  }, 120_000);
});

describeOn(['postgresql'], 'match indexes are PostgreSQL integer arrays')(
  'fieldEncryption: a match query that many rows answer',
  () => {
    let h: Harness;
    let someoneElse: string;

    beforeAll(async () => {
      h = await createHarness();
      for (let first = 0; first < MANY; first += 100) {
        await h.prisma.person.createMany({
          data: Array.from({ length: 100 }, (_, j) => ({ tenantId: 'many', name: `Common Name ${first + j}` })),
        });
      }
      someoneElse = (await h.prisma.person.create({ data: { tenantId: 'many', name: 'Someone Else' } })).id;
    }, 120_000);
    afterAll(async () => {
      await h.close();
    });

    it('is exact and names the few rejected candidates, not one parameter per matching row', async () => {
      const where = { name: { contains: 'mmon Na' } };
      h.queries.length = 0;
      expect(await h.prisma.person.count({ where })).toBe(MANY);
      // The last query is the count itself: every row id it sends is one bind parameter.
      const sent = h.queries[h.queries.length - 1].params.match(UUID) ?? [];
      expect(sent.length).toBeLessThan(100);
      const page = await h.prisma.person.findMany({ where, orderBy: { id: 'asc' }, skip: 5, take: 2 });
      const plain = await h.base.person.findMany({
        where: { id: { not: someoneElse } },
        orderBy: { id: 'asc' },
        skip: 5,
        take: 2,
      });
      expect(page.map((p) => p.id)).toEqual(plain.map((p) => p.id));
      expect((await h.prisma.person.deleteMany({ where: { name: { startsWith: 'Common' } } })).count).toBe(MANY);
      expect((await h.prisma.person.findMany({})).map((p) => p.name)).toEqual(['Someone Else']);
    }, 120_000);
  },
);
