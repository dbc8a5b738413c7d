/**
 * A `@unique` blind index while several index root versions are live (README, "Key rotation"
 * → "Blind-index keys"): a write whose value another row holds under another live version is
 * refused as Prisma refuses a duplicate (P2002), before anything is written; with one live
 * version no query is added.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextInLog, rejection, type Harness } from './support';

describe('@unique blind index across live index versions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const user = (email: string, name: string) => ({
    data: { tenantId: 'uq', name, email, emailIdx: computedBlindIndex },
  });
  const users = () => h.base.user.count();
  /** Queries of data tables since `mark` (key-store reads aside). */
  const dataQueries = (mark: number) => h.queries.slice(mark).filter((q) => !q.query.includes('hushfield_keys')).length;
  const expectDuplicate = (error: unknown) => {
    expect(error).toMatchObject({
      name: 'PrismaClientKnownRequestError',
      code: 'P2002',
      meta: { modelName: 'User', target: ['email_idx'] },
    });
    expect(String((error as Error).message)).not.toMatch(/(ann|ada)@uq.test/);
  };

  it('refuses a value another row holds under another live version, and queries nothing more with one version', async () => {
    const { prisma } = h;
    const ann = await prisma.user.create(user('ann@uq.test', 'ann'));
    const bob = await prisma.user.create(user('bob@uq.test', 'bob'));
    let mark = h.queries.length;
    await prisma.user.create(user('one@uq.test', 'one'));
    const oneVersion = dataQueries(mark);

    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    mark = h.queries.length;
    await prisma.user.create(user('two@uq.test', 'two'));
    expect(dataQueries(mark)).toBe(oneVersion + 1); // the one side query

    const count = await users();
    const stored = await h.base.user.findUnique({ where: { id: bob.id } });
    expectDuplicate(await rejection(prisma.user.create(user(' ANN@uq.test', 'dup'))));
    expectDuplicate(await rejection(prisma.user.createMany({ data: [user('ann@uq.test', 'dup').data] })));
    expectDuplicate(await rejection(prisma.user.update({ where: { id: bob.id }, data: { email: 'ann@uq.test' } })));
    expectDuplicate(
      await rejection(
        prisma.user.upsert({
          where: { emailIdx: 'new@uq.test' },
          create: user('ann@uq.test', 'dup').data,
          update: {},
        }),
      ),
    );
    expectDuplicate(await rejection(prisma.$transaction(async (tx) => tx.user.create(user('ann@uq.test', 'dup')))));
    expect(await users()).toBe(count);
    expect(await h.base.user.findUnique({ where: { id: bob.id } })).toEqual(stored);

    // The row that holds the value may write it again; other values go through.
    await prisma.user.update({ where: { id: ann.id }, data: { email: 'ann@uq.test', notes: 'kept' } });
    await prisma.user.upsert({
      where: { emailIdx: 'ann@uq.test' },
      create: user('ann@uq.test', 'x').data,
      update: { email: 'ann@uq.test' },
    });
    await prisma.user.update({ where: { id: bob.id }, data: { email: 'bob2@uq.test' } });
    expect((await prisma.user.findUnique({ where: { emailIdx: 'ann@uq.test' } }))?.notes).toBe('kept');
    expect(await users()).toBe(count);
    expectNoPlaintextInLog(h.queries, ['ann@uq.test', 'bob2@uq.test']);
  });

  it('checks only the branch an upsert writes: update when its where finds a row, create when it finds none', async () => {
    const { prisma } = h;
    const ada = await prisma.user.create(user('ada@uq.test', 'ada'));
    const ben = await prisma.user.create(user('ben@uq.test', 'ben'));
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    // ben exists: the upsert updates him, and its create (ada's value) is never written.
    const updated = await prisma.user.upsert({
      where: { id: ben.id },
      create: user('ada@uq.test', 'dup').data,
      update: { notes: 'updated' },
    });
    expect(updated.notes).toBe('updated');
    // No row holds cat's value: the upsert creates cat, and its update (ada's value) is never written.
    const created = await prisma.user.upsert({
      where: { emailIdx: 'cat@uq.test' },
      create: user('cat@uq.test', 'cat').data,
      update: { email: 'ada@uq.test' },
    });
    expect(created.name).toBe('cat');
    // The branch that runs is still checked.
    expectDuplicate(
      await rejection(
        prisma.user.upsert({
          where: { id: ben.id },
          create: user('x@uq.test', 'x').data,
          update: { email: 'ada@uq.test' },
        }),
      ),
    );
    expect((await prisma.user.findUnique({ where: { id: ada.id } }))?.email).toBe('ada@uq.test');
  });

  it('lets an update that finds no row through, as plain Prisma does: count 0, or P2025', async () => {
    const { prisma } = h;
    await prisma.user.create(user('eve@uq.test', 'eve'));
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    expect(await prisma.user.updateMany({ where: { name: 'nobody' }, data: { email: 'eve@uq.test' } })).toEqual({
      count: 0,
    });
    expect(
      await rejection(
        prisma.user.update({ where: { id: '00000000-0000-4000-8000-000000000000' }, data: { email: 'eve@uq.test' } }),
      ),
    ).toMatchObject({ code: 'P2025' });
  });

  it('refuses a holder whose column the where filters on is NULL (SQL NOT would have let it through)', async () => {
    const { prisma } = h;
    // fay's ssn is NULL: a where on ssn is NULL for her row, not false.
    const fay = await prisma.user.create(user('fay@uq.test', 'fay'));
    const gus = await prisma.user.create({ data: { ...user('gus@uq.test', 'gus').data, ssn: '123-45-6789' } });
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    const stored = await h.base.user.findUnique({ where: { id: gus.id } });
    expectDuplicate(
      await rejection(prisma.user.updateMany({ where: { ssn: '123456789' }, data: { email: 'fay@uq.test' } })),
    );
    expect(await h.base.user.findUnique({ where: { id: gus.id } })).toEqual(stored);
    expect((await prisma.user.findUnique({ where: { id: fay.id } }))?.email).toBe('fay@uq.test');
  });
});
