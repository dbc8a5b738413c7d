/**
 * The check that refuses a duplicate of a unique blind-indexed value held under another live
 * key version (README, "Key rotation"), in the write shapes beyond a top-level write of a
 * single-column `@unique` index: nested creates under a relation, `connectOrCreate`,
 * `createMany({ skipDuplicates })`, compound `@@unique` constraints holding an index column,
 * and per-scope indexes after a rotation of their scope's key.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { testProvider } from '../support/provider';
import { createHarness, expectNoPlaintextInLog, rejection, type Harness } from './support';

describe('unique blind-index values across live versions, in every write shape', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const user = (email: string, name: string) => ({ tenantId: 'shape', name, email, emailIdx: computedBlindIndex });
  const expectDuplicate = (error: unknown, modelName: string, target: string[]) => {
    expect(error).toMatchObject({ name: 'PrismaClientKnownRequestError', code: 'P2002', meta: { modelName, target } });
    expect(String((error as Error).message)).not.toMatch(/@shape\.test|4242|ext-/);
  };
  const usersWith = async (email: string) => (await h.prisma.user.findMany({ where: { email } })).length;

  it('refuses a duplicate created under another model (nested create), kept by connectOrCreate', async () => {
    const { prisma } = h;
    const ann = await prisma.user.create({ data: user('ann@shape.test', 'ann') });
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    expectDuplicate(
      await rejection(
        prisma.post.create({ data: { title: 't', body: 'b', author: { create: user('ANN@shape.test', 'dup') } } }),
      ),
      'User',
      ['email_idx'],
    );
    expect(await usersWith('ann@shape.test')).toBe(1);
    expect(await h.base.post.count({ where: { title: 't' } })).toBe(0);
    // connectOrCreate finds ann through every live version, and connects her.
    const post = await prisma.post.create({
      data: {
        title: 'c',
        body: 'b',
        author: { connectOrCreate: { where: { emailIdx: 'ann@shape.test' }, create: user('ann@shape.test', 'dup') } },
      },
    });
    expect(post.authorId).toBe(ann.id);
    // A connectOrCreate whose where finds no row creates: ann's value is refused then, and only then.
    const nobody = '00000000-0000-4000-8000-000000000000';
    const viaId = (id: string) => ({
      title: 'd',
      body: 'b',
      author: { connectOrCreate: { where: { id }, create: user('ann@shape.test', 'dup') } },
    });
    expectDuplicate(await rejection(prisma.post.create({ data: viaId(nobody) })), 'User', ['email_idx']);
    expect((await prisma.post.create({ data: viaId(ann.id) })).authorId).toBe(ann.id);
    expect(await usersWith('ann@shape.test')).toBe(1);
    expectNoPlaintextInLog(h.queries, ['ann@shape.test', 'ANN@shape.test']);
  });

  // SQLite has no skipDuplicates (Prisma refuses the argument).
  (testProvider() === 'sqlite' ? it.skip : it)(
    'drops with skipDuplicates a row whose value another row holds under another live version',
    async () => {
      const { prisma } = h;
      await prisma.user.create({ data: user('bob@shape.test', 'bob') });
      await prisma.$hushfield.crypto.keys.rotateIndexKey();
      const result = await prisma.user.createMany({
        data: [user('bob@shape.test', 'dup'), user('bea@shape.test', 'bea')],
        skipDuplicates: true,
      });
      expect(result.count).toBe(1);
      expect(await usersWith('bob@shape.test')).toBe(1);
      expect(await usersWith('bea@shape.test')).toBe(1);
    },
  );

  it('refuses a duplicate of a compound unique holding a shared index column, and lets another provider through', async () => {
    const { prisma } = h;
    const owner = await prisma.user.create({ data: user('cal@shape.test', 'cal') });
    await prisma.account.create({
      data: { provider: 'github', externalId: 'ext-4242', externalIdIdx: computedBlindIndex, userId: owner.id },
    });
    await prisma.$hushfield.crypto.keys.rotateIndexKey();
    const again = { provider: 'github', externalId: 'ext-4242', externalIdIdx: computedBlindIndex, userId: owner.id };
    expectDuplicate(await rejection(prisma.account.create({ data: again })), 'Account', [
      'provider',
      'external_id_idx',
    ]);
    expectDuplicate(await rejection(prisma.account.createMany({ data: [again] })), 'Account', [
      'provider',
      'external_id_idx',
    ]);
    expectDuplicate(
      await rejection(
        prisma.user.update({
          where: { id: owner.id },
          data: { accounts: { create: { ...again, userId: undefined } } },
        }),
      ),
      'Account',
      ['provider', 'external_id_idx'],
    );
    // Another provider is no duplicate; an update to github's value is.
    const other = await prisma.account.create({ data: { ...again, provider: 'gitlab' } });
    expectDuplicate(
      await rejection(
        prisma.account.update({ where: { id: other.id }, data: { provider: 'github', externalId: 'ext-4242' } }),
      ),
      'Account',
      ['provider', 'external_id_idx'],
    );
    // The row holding it may write it again.
    const [held] = await h.base.account.findMany({ where: { userId: owner.id, provider: 'github' } });
    await prisma.account.update({ where: { id: held.id }, data: { externalId: 'ext-4242' } });
    expect(await h.base.account.count({ where: { userId: owner.id } })).toBe(2);
    expectNoPlaintextInLog(h.queries, ['ext-4242']);
  });

  it('refuses a duplicate of a per-scope index in its scope after a rotation of the scope key, not in another scope', async () => {
    const { prisma } = h;
    const [org, other] = [
      (await prisma.organization.create({ data: { slug: 'shape-a' } })).id,
      (await prisma.organization.create({ data: { slug: 'shape-b' } })).id,
    ];
    const dee = await prisma.contact.create({
      data: { orgId: org, email: 'dee@shape.test', emailIdx: computedBlindIndex },
    });
    await prisma.$hushfield.crypto.keys.rotateScope(org);
    const again = { orgId: org, email: 'Dee@shape.test', emailIdx: computedBlindIndex };
    const target = ['org_id', 'email_idx'];
    expectDuplicate(await rejection(prisma.contact.create({ data: again })), 'Contact', target);
    expectDuplicate(await rejection(prisma.contact.createMany({ data: [again] })), 'Contact', target);
    expectDuplicate(
      await rejection(
        prisma.organization.update({
          where: { id: org },
          data: { contacts: { create: { email: 'dee@shape.test', emailIdx: computedBlindIndex } } },
        }),
      ),
      'Contact',
      target,
    );
    const eve = await prisma.contact.create({
      data: { orgId: org, email: 'eve@shape.test', emailIdx: computedBlindIndex },
    });
    expectDuplicate(
      await rejection(prisma.contact.update({ where: { id: eve.id }, data: { email: 'dee@shape.test' } })),
      'Contact',
      target,
    );
    expectDuplicate(
      await rejection(
        prisma.contact.upsert({
          where: { orgId_emailIdx: { orgId: org, emailIdx: 'nobody@shape.test' } },
          create: { orgId: org, email: 'dee@shape.test', emailIdx: computedBlindIndex },
          update: {},
        }),
      ),
      'Contact',
      target,
    );
    expectDuplicate(
      await rejection(
        prisma.contact.upsert({
          where: { orgId_emailIdx: { orgId: org, emailIdx: 'eve@shape.test' } },
          create: { orgId: org, email: 'x@shape.test', emailIdx: computedBlindIndex },
          update: { email: 'dee@shape.test' },
        }),
      ),
      'Contact',
      target,
    );
    const stored = await h.base.contact.findUnique({ where: { id: eve.id } });
    expectDuplicate(
      await rejection(prisma.contact.updateMany({ where: { id: eve.id }, data: { email: 'dee@shape.test' } })),
      'Contact',
      target,
    );
    expect(await h.base.contact.findUnique({ where: { id: eve.id } })).toEqual(stored);
    // Under the organization: a nested upsert's or connectOrCreate's create is refused when its
    // where finds no row (it creates), not when it finds one (nothing is created).
    const nobody = '00000000-0000-4000-8000-000000000000';
    const nested = (id: string, op: 'upsert' | 'connectOrCreate') =>
      prisma.organization.update({
        where: { id: org },
        data: {
          contacts: {
            [op]: {
              where: { id },
              create: { email: 'dee@shape.test', emailIdx: computedBlindIndex },
              ...(op === 'upsert' ? { update: { phone: '555-0100' } } : {}),
            },
          },
        },
      });
    expectDuplicate(await rejection(nested(nobody, 'upsert')), 'Contact', target);
    expectDuplicate(await rejection(nested(nobody, 'connectOrCreate')), 'Contact', target);
    await nested(eve.id, 'upsert');
    await nested(eve.id, 'connectOrCreate');
    expect((await prisma.contact.findUnique({ where: { id: eve.id } }))?.phone).toBe('555-0100');
    // The row holding it may write it again; the same email in another organization is no duplicate.
    await prisma.contact.update({ where: { id: dee.id }, data: { email: 'dee@shape.test' } });
    await prisma.contact.create({ data: { orgId: other, email: 'dee@shape.test', emailIdx: computedBlindIndex } });
    expect(await h.base.contact.count({ where: { orgId: org } })).toBe(2);
    // In a scope whose key was never rotated a create sends what Prisma alone sends: no side query.
    let mark = h.queries.length;
    await h.base.contact.create({ data: { orgId: other, email: 'x', emailIdx: 'x' } });
    const plain = h.queries.length - mark;
    mark = h.queries.length;
    await prisma.contact.create({ data: { orgId: other, email: 'fay@shape.test', emailIdx: computedBlindIndex } });
    expect(h.queries.length - mark).toBe(plain);
    expectNoPlaintextInLog(h.queries.slice(0, mark), ['dee@shape.test', 'Dee@shape.test', 'eve@shape.test']);
  });

  it('lets one of two writers that both read the new version through when they race on a value', async () => {
    const [a, b] = [h.prisma, h.fresh().prisma];
    await a.user.create({ data: user('gil@shape.test', 'gil') });
    await a.$hushfield.crypto.keys.rotateIndexKey();
    // b reads the live versions now, the new one included; both write it, and check the old ones.
    expect(await b.user.findUnique({ where: { emailIdx: 'gil@shape.test' } })).not.toBeNull();
    const results = await Promise.allSettled([
      a.user.create({ data: user('hal@shape.test', 'a') }),
      b.user.create({ data: user('hal@shape.test', 'b') }),
      a.user.create({ data: user('gil@shape.test', 'a') }),
      b.user.create({ data: user('gil@shape.test', 'b') }),
    ]);
    expect(results.map((result) => result.status)).toEqual(
      expect.arrayContaining(['fulfilled', 'rejected', 'rejected', 'rejected']),
    );
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'P2002' });
    }
    expect(await usersWith('hal@shape.test')).toBe(1);
    expect(await usersWith('gil@shape.test')).toBe(1);
  });
});
