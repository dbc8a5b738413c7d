/**
 * The check that refuses a duplicate of a unique blind-indexed value held under another live
 * key version (README, "Key rotation"), in the shapes beyond unique-check-shapes.test.ts: a
 * nested to-one upsert's create, a nested `createMany({ skipDuplicates })`, nested updates
 * (`update`, `updateMany`, an upsert's update, to-one and to-many), and a top-level update of
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
  /** Each call, one after the other, refused as a duplicate on `target` of `modelName`. */
  const expectDuplicates = async (modelName: string, target: string[], calls: (() => Promise<unknown>)[]) => {
    for (const call of calls) expectDuplicate(await rejection(call()), modelName, target);
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
    // Its update branch is checked too.
    expectDuplicate(await rejection(upsert(wes.id, 'P-5005', 'P-1001')), 'Passport', ['number_idx']);
    expect((await prisma.passport.findUnique({ where: { userId: wes.id } }))?.number).toBe('P-3004');
    await upsert(val.id, 'P-6006', 'P-7007');
    expect(await prisma.passport.count({ where: { number: 'P-1001' } })).toBe(1);
    expect((await prisma.passport.findUnique({ where: { userId: ivy.id } }))?.number).toBe('P-1001');
    expectNoPlaintextInLog(h.queries, ['P-1001', 'p-1001', 'P-3004', 'P-5005']);
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

  it("refuses a nested update, updateMany or upsert's update that writes a value another row holds", async () => {
    const { prisma } = h;
    const ann = await prisma.user.create({ data: user('ann@nest.test', 'ann') });
    const bob = await prisma.user.create({ data: user('bob@nest.test', 'bob') });
    const post = await prisma.post.create({ data: { title: 't', body: 'b', authorId: bob.id } });
    await prisma.account.create({ data: { ...account('github', 'ext-4242'), userId: ann.id } });
    const bobs = await prisma.account.create({ data: { ...account('github', 'ext-1111'), userId: bob.id } });
    // One live version: nothing queried for the check.
    const mark = h.queries.length;
    await prisma.post.update({ where: { id: post.id }, data: { author: { update: { email: 'bob@nest.test' } } } });
    await prisma.user.update({
      where: { id: bob.id },
      data: { accounts: { updateMany: { where: { provider: 'gitlab' }, data: { provider: 'gitlab' } } } },
    });
    await prisma.user.update({
      where: { id: bob.id },
      data: { accounts: { update: { where: { id: bobs.id }, data: { externalId: 'ext-1111' } } } },
    });
    expect(checkQueries(mark, 'email_idx')).toEqual([]);
    expect(checkQueries(mark, 'external_id_idx')).toEqual([]);

    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    // Written under the new version: ann's, under the old one, is not seen by the constraint.
    const gitlab = await prisma.account.create({ data: { ...account('gitlab', 'ext-4242'), userId: bob.id } });
    const storedBob = await h.base.user.findUnique({ where: { id: bob.id } });
    const storedAccounts = await h.base.account.findMany({ where: { userId: bob.id }, orderBy: { id: 'asc' } });
    // To-one update, as the data or as { data }, and to-one upsert's update: the author is bob.
    const author = (item: object) => () => prisma.post.update({ where: { id: post.id }, data: { author: item } });
    await expectDuplicates(
      'User',
      ['email_idx'],
      [
        author({ update: { email: 'ann@nest.test' } }),
        author({ update: { data: { email: 'ANN@nest.test' } } }),
        author({ upsert: { create: user('x@nest.test', 'x'), update: { email: 'ann@nest.test' } } }),
      ],
    );
    // To-many update and upsert's update of bob's account to ann's value, and an updateMany
    // of his gitlab account to github (ann's tuple): ann's account is not under bob.
    const accounts = (op: string, item: object) =>
      prisma.user.update({ where: { id: bob.id }, data: { accounts: { [op]: item } } });
    await expectDuplicates(
      'Account',
      ['provider', 'external_id_idx'],
      [
        () => accounts('update', { where: { id: bobs.id }, data: { externalId: 'ext-4242' } }),
        () =>
          accounts('upsert', {
            where: { id: bobs.id },
            create: account('gitlab', 'ext-2222'),
            update: { externalId: 'ext-4242' },
          }),
        () => accounts('updateMany', { where: { provider: 'gitlab' }, data: { provider: 'github' } }),
        () => accounts('update', { where: { id: gitlab.id }, data: { provider: 'github' } }),
      ],
    );
    expect(await h.base.user.findUnique({ where: { id: bob.id } })).toEqual(storedBob);
    expect(await h.base.account.findMany({ where: { userId: bob.id }, orderBy: { id: 'asc' } })).toEqual(
      storedAccounts,
    );
    // The row that holds a value may write it again; other values go through.
    await prisma.post.update({ where: { id: post.id }, data: { author: { update: { email: 'bob@nest.test' } } } });
    await accounts('update', { where: { id: bobs.id }, data: { externalId: 'ext-3333' } });
    await accounts('updateMany', { where: { provider: 'gitlab' }, data: { provider: 'gitea' } });
    await prisma.user.update({
      where: { id: ann.id },
      data: { accounts: { updateMany: { where: { provider: 'github' }, data: { provider: 'github' } } } },
    });
    expect((await prisma.account.findUnique({ where: { id: bobs.id } }))?.externalId).toBe('ext-3333');
    expect(await prisma.user.count({ where: { email: 'ann@nest.test' } })).toBe(1);
    expect(await prisma.account.count({ where: { provider: 'github', externalId: 'ext-4242' } })).toBe(1);
    expectNoPlaintextInLog(h.queries, ['ann@nest.test', 'ANN@nest.test', 'ext-4242']);
  });

  it('refuses a nested update of a passport (to-one, unbound) to a number another passport holds', async () => {
    const { prisma } = h;
    await prisma.user.create({ data: { ...user('ivy@nest.test', 'ivy'), passport: { create: passport('P-1001') } } });
    const wes = await prisma.user.create({
      data: { ...user('wes@nest.test', 'wes'), passport: { create: passport('P-3003') } },
    });
    const update = (number: string) =>
      prisma.user.update({ where: { id: wes.id }, data: { passport: { update: { number } } } });
    const mark = h.queries.length;
    await update('P-3003');
    expect(checkQueries(mark, 'number_idx')).toEqual([]);
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    const rotated = h.queries.length;
    expectDuplicate(await rejection(update(' p-1001')), 'Passport', ['number_idx']);
    // What the assertion above looks for is the check's query.
    expect(checkQueries(rotated, 'number_idx').length).toBeGreaterThan(0);
    await update('P-3003');
    expect(await prisma.passport.count({ where: { number: 'P-1001' } })).toBe(1);
  });

  it('refuses a nested update of a per-scope index to a value another row of its scope holds after a scope rotation', async () => {
    const { prisma } = h;
    const org = (await prisma.organization.create({ data: { slug: 'nest-a' } })).id;
    await prisma.contact.create({ data: { orgId: org, email: 'dee@nest.test', emailIdx: computedBlindIndex } });
    const eve = await prisma.contact.create({
      data: { orgId: org, email: 'eve@nest.test', emailIdx: computedBlindIndex },
    });
    const contacts = (op: string, item: object) =>
      prisma.organization.update({ where: { id: org }, data: { contacts: { [op]: item } } });
    const mark = h.queries.length;
    await contacts('update', { where: { id: eve.id }, data: { email: 'eve@nest.test' } });
    expect(checkQueries(mark, 'email_idx')).toEqual([]);
    await prisma.$hushfield.crypto.keys.rotateScope(org);
    const stored = await h.base.contact.findUnique({ where: { id: eve.id } });
    await expectDuplicates(
      'Contact',
      ['org_id', 'email_idx'],
      [
        () => contacts('update', { where: { id: eve.id }, data: { email: 'Dee@nest.test' } }),
        () =>
          contacts('upsert', {
            where: { id: eve.id },
            create: { email: 'x@nest.test', emailIdx: computedBlindIndex },
            update: { email: 'dee@nest.test' },
          }),
      ],
    );
    expect(await h.base.contact.findUnique({ where: { id: eve.id } })).toEqual(stored);
    await contacts('update', { where: { id: eve.id }, data: { email: 'eve@nest.test' } });
    expectNoPlaintextInLog(h.queries, ['dee@nest.test', 'Dee@nest.test']);
  });

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
    await expectDuplicates('Account', target, [
      () => prisma.account.updateMany({ where: { provider: 'gitlab' }, data: { provider: 'github' } }),
      () =>
        prisma.account.upsert({
          where: { id: other.id },
          create: { ...account('gitlab', 'ext-0000'), userId: owner.id },
          update: { provider: { set: 'github' } },
        }),
    ]);
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

  it("checks an update of a compound unique's other field over many rows with one query per 200 of them", async () => {
    const { prisma } = h;
    const owner = await prisma.user.create({ data: user('many@nest.test', 'many') });
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    const rows = Array.from({ length: 250 }, (_, i) => ({ ...account('gitlab', `ext-${9000 + i}`), userId: owner.id }));
    await prisma.account.createMany({ data: rows });
    const mark = h.queries.length;
    expect(await prisma.account.updateMany({ where: { provider: 'gitlab' }, data: { provider: 'gitea' } })).toEqual({
      count: 250,
    });
    // Two chunks of held values, no holder: nothing more asked.
    expect(checkQueries(mark, 'external_id_idx')).toHaveLength(2);
    expect(await prisma.account.count({ where: { provider: 'gitea' } })).toBe(250);
  });
});
