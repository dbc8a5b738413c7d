/**
 * The check that refuses a duplicate of a unique blind-indexed value held under another live
 * key version (README, "Key rotation"), in the shapes beyond unique-check-shapes.test.ts: a
 * nested to-one upsert's create, a nested `createMany({ skipDuplicates })`, and an update of
 * the other field of a `@@unique` holding an index column. With one live version, none of
 * them queries anything for it.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { testProvider } from '../support/provider';
import { createHarness, expectNoPlaintextInLog, rejection, type Harness } from './support';

describe('unique blind-index values across live versions, in nested updates and compound updates', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const user = (email: string, name: string) => ({ tenantId: 'nest', name, email, emailIdx: computedBlindIndex });
  const passport = (number: string) => ({ number, numberIdx: computedBlindIndex });
  const account = (provider: string, externalId: string) => ({
    provider,
    externalId,
    externalIdIdx: computedBlindIndex,
  });
  const expectDuplicate = (error: unknown, modelName: string, target: string[]) => {
    expect(error).toMatchObject({ name: 'PrismaClientKnownRequestError', code: 'P2002', meta: { modelName, target } });
    expect(String((error as Error).message)).not.toMatch(/@nest\.test|P-\d|ext-\d/i);
  };
  /** The index columns the check filters on with every live version's value (`IN`). */
  const checkQueries = (mark: number, column: string) =>
    h.queries.slice(mark).filter((q) => new RegExp(`${column}\\W*\\s+IN\\s*\\(`, 'i').test(q.query));

  it("refuses a nested to-one upsert's create of a held value when the relation holds no row, not when it updates", async () => {
    const { prisma } = h;
    const ivy = await prisma.user.create({
      data: { ...user('ivy@nest.test', 'ivy'), passport: { create: passport('P-1001') } },
    });
    const val = await prisma.user.create({ data: user('val@nest.test', 'val') });
    const wes = await prisma.user.create({
      data: { ...user('wes@nest.test', 'wes'), passport: { create: passport('P-3003') } },
    });
    // One live version: the constraint sees a duplicate, and nothing is queried for it.
    const mark = h.queries.length;
    await prisma.user.update({
      where: { id: val.id },
      data: { passport: { upsert: { create: passport('P-2002'), update: { number: 'P-2002' } } } },
    });
    expect(checkQueries(mark, 'number_idx')).toEqual([]);
    await h.base.passport.deleteMany({ where: { userId: val.id } });

    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    const upsert = (id: string, create: string, update: string) =>
      prisma.user.update({
        where: { id },
        data: { passport: { upsert: { create: passport(create), update: { number: update } } } },
      });
    expectDuplicate(await rejection(upsert(val.id, 'p-1001 ', 'P-4004')), 'Passport', ['number_idx']);
    expect(await h.base.passport.count({ where: { userId: val.id } })).toBe(0);
    // wes holds a passport: the upsert updates it, and its create (ivy's number) is never written.
    await upsert(wes.id, 'P-1001', 'P-3004');
    expect((await prisma.passport.findUnique({ where: { userId: wes.id } }))?.number).toBe('P-3004');
    await upsert(val.id, 'P-6006', 'P-7007');
    expect(await prisma.passport.count({ where: { number: 'P-1001' } })).toBe(1);
    expect((await prisma.passport.findUnique({ where: { userId: ivy.id } }))?.number).toBe('P-1001');
    expectNoPlaintextInLog(h.queries, ['P-1001', 'p-1001', 'P-3004']);
  });

  // SQLite has no skipDuplicates (Prisma refuses the argument).
  (testProvider() === 'sqlite' ? it.skip : it)(
    'drops from a nested createMany with skipDuplicates a row whose value another row holds under another live version',
    async () => {
      const { prisma } = h;
      const owner = await prisma.user.create({ data: user('own@nest.test', 'own') });
      const other = await prisma.user.create({ data: user('oth@nest.test', 'oth') });
      await prisma.account.create({ data: { ...account('github', 'ext-4242'), userId: owner.id } });
      const createMany = (values: string[]) =>
        prisma.user.update({
          where: { id: other.id },
          data: {
            accounts: {
              createMany: { data: values.map((value) => account('github', value)), skipDuplicates: true },
            },
          },
        });
      const mark = h.queries.length;
      await createMany(['ext-1000']);
      expect(checkQueries(mark, 'external_id_idx')).toEqual([]);

      await prisma.$hushfield.crypto.keys.rotateIndexKey();
      await createMany(['ext-4242', 'ext-5151']);
      expect(await prisma.account.count({ where: { provider: 'github', externalId: 'ext-4242' } })).toBe(1);
      expect(await prisma.account.count({ where: { userId: other.id } })).toBe(2);
      // Every row held: none is sent.
      await createMany(['ext-4242']);
      expect(await h.base.account.count()).toBe(3);
      // A nested create beside it is still refused.
      expectDuplicate(
        await rejection(
          prisma.user.update({
            where: { id: other.id },
            data: {
              accounts: {
                create: account('github', 'ext-4242'),
                createMany: { data: [account('gitlab', 'ext-6161')], skipDuplicates: true },
              },
            },
          }),
        ),
        'Account',
        ['provider', 'external_id_idx'],
      );
      expect(await h.base.account.count()).toBe(3);
      expectNoPlaintextInLog(h.queries, ['ext-4242', 'ext-5151']);
    },
  );

  it("refuses an update of a compound unique's other field when the new tuple is held under another live version", async () => {
    const { prisma } = h;
    const owner = await prisma.user.create({ data: user('cal@nest.test', 'cal') });
    await prisma.account.create({ data: { ...account('github', 'ext-4242'), userId: owner.id } });
    await prisma.account.create({ data: { ...account('gitlab', 'ext-7777'), userId: owner.id } });
    const third = await prisma.account.create({ data: { ...account('gitlab', 'ext-5151'), userId: owner.id } });
    const mark = h.queries.length;
    await prisma.account.update({ where: { id: third.id }, data: { provider: 'bitbucket' } });
    await prisma.account.updateMany({ where: { provider: 'bitbucket' }, data: { provider: 'gitlab' } });
    expect(checkQueries(mark, 'external_id_idx')).toEqual([]);

    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    // Written under the new version: github's, under the old one, is not seen by the constraint.
    const other = await prisma.account.create({ data: { ...account('gitlab', 'ext-4242'), userId: owner.id } });
    const stored = await h.base.account.findUnique({ where: { id: other.id } });
    const target = ['provider', 'external_id_idx'];
    const rotated = h.queries.length;
    expectDuplicate(
      await rejection(prisma.account.update({ where: { id: other.id }, data: { provider: 'github' } })),
      'Account',
      target,
    );
    expect(checkQueries(rotated, 'external_id_idx').length).toBeGreaterThan(0);
    expectDuplicate(
      await rejection(prisma.account.updateMany({ where: { provider: 'gitlab' }, data: { provider: 'github' } })),
      'Account',
      target,
    );
    expectDuplicate(
      await rejection(
        prisma.account.upsert({
          where: { id: other.id },
          create: { ...account('gitlab', 'ext-0000'), userId: owner.id },
          update: { provider: { set: 'github' } },
        }),
      ),
      'Account',
      target,
    );
    expect(await h.base.account.findUnique({ where: { id: other.id } })).toEqual(stored);
    // Two of the rows it writes, under different versions, would meet on one tuple.
    await prisma.account.create({ data: { ...account('bitbucket', 'ext-7777'), userId: owner.id } });
    expectDuplicate(
      await rejection(
        prisma.account.updateMany({
          where: { provider: { in: ['gitlab', 'bitbucket'] }, externalId: 'ext-7777' },
          data: { provider: 'gitea' },
        }),
      ),
      'Account',
      target,
    );
    expect(await h.base.account.count({ where: { provider: 'gitea' } })).toBe(0);
    // Another provider is no duplicate; the row itself may keep its provider.
    await prisma.account.update({ where: { id: other.id }, data: { provider: 'gitlab' } });
    await prisma.account.update({ where: { id: third.id }, data: { provider: 'github' } });
    expect(await prisma.account.count({ where: { provider: 'github' } })).toBe(2);
    expectNoPlaintextInLog(h.queries, ['ext-4242', 'ext-5151', 'ext-7777']);
  });
});
