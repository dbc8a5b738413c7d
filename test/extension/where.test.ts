import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextInLog, type Harness } from './support';

describe('fieldEncryption: where rewriting through blind indexes', () => {
  let h: Harness;
  const ids: Record<string, string> = {};
  const emails = ['ann@example.com', 'bob@example.com', 'cat@example.com', 'dan@example.com'];

  beforeAll(async () => {
    h = await createHarness();
    for (const email of emails) {
      const name = email.split('@')[0];
      const user = await h.prisma.user.create({
        data: {
          emailIdx: computedBlindIndex,
          tenantId: name === 'dan' ? 'beta' : 'acme',
          name,
          email,
          posts: { create: [{ title: `${name} post`, body: `${name} body`, published: name !== 'cat' }] },
          accounts: { create: { provider: 'github', externalId: `gh-${name}`, externalIdIdx: computedBlindIndex } },
        },
      });
      ids[name] = user.id;
    }
  });
  afterEach(() => {
    expectNoPlaintextInLog(h.queries, [...emails, 'ann body', 'gh-ann', 'gh-bob']);
  });
  afterAll(async () => {
    await h.close();
  });

  const names = (users: { name: string }[]) => users.map((u) => u.name).sort();

  it('rewrites equality and equals, normalizing like the write did', async () => {
    expect(names(await h.prisma.user.findMany({ where: { email: 'ANN@example.com ' } }))).toEqual(['ann']);
    expect(names(await h.prisma.user.findMany({ where: { email: { equals: 'bob@example.com' } } }))).toEqual(['bob']);
    expect(await h.prisma.user.findMany({ where: { email: 'nobody@example.com' } })).toEqual([]);
  });

  it('rewrites in, notIn and not', async () => {
    expect(
      names(await h.prisma.user.findMany({ where: { email: { in: ['ann@example.com', 'cat@example.com'] } } })),
    ).toEqual(['ann', 'cat']);
    expect(
      names(await h.prisma.user.findMany({ where: { email: { notIn: ['ann@example.com', 'cat@example.com'] } } })),
    ).toEqual(['bob', 'dan']);
    expect(names(await h.prisma.user.findMany({ where: { email: { not: 'ann@example.com' } } }))).toEqual([
      'bob',
      'cat',
      'dan',
    ]);
    expect(
      names(
        await h.prisma.user.findMany({ where: { email: { not: { in: ['ann@example.com', 'bob@example.com'] } } } }),
      ),
    ).toEqual(['cat', 'dan']);
  });

  it('rewrites inside AND, OR and NOT at any nesting', async () => {
    const found = await h.prisma.user.findMany({
      where: {
        OR: [{ email: 'ann@example.com' }, { AND: [{ tenantId: 'beta' }, { NOT: { email: 'bob@example.com' } }] }],
        NOT: [{ email: { in: ['cat@example.com'] } }],
      },
    });
    expect(names(found)).toEqual(['ann', 'dan']);
    expect(names(await h.prisma.user.findMany({ where: { AND: { email: 'bob@example.com', name: 'bob' } } }))).toEqual([
      'bob',
    ]);
  });

  it('rewrites relation filters some/every/none/is/isNot at any depth', async () => {
    const withPost = await h.prisma.post.findMany({ where: { author: { email: 'ann@example.com' } } });
    expect(withPost.map((p) => p.body)).toEqual(['ann body']);
    const is = await h.prisma.post.findMany({ where: { author: { is: { email: 'bob@example.com' } } } });
    expect(is.map((p) => p.title)).toEqual(['bob post']);
    const isNot = await h.prisma.post.findMany({
      where: { author: { isNot: { email: { in: ['bob@example.com', 'cat@example.com', 'dan@example.com'] } } } },
    });
    expect(isNot.map((p) => p.title)).toEqual(['ann post']);
    const some = await h.prisma.user.findMany({ where: { accounts: { some: { externalId: 'gh-cat' } } } });
    expect(names(some)).toEqual(['cat']);
    const none = await h.prisma.user.findMany({
      where: { accounts: { none: { externalId: { in: ['gh-cat', 'gh-dan'] } } } },
    });
    expect(names(none)).toEqual(['ann', 'bob']);
    const every = await h.prisma.user.findMany({ where: { accounts: { every: { externalId: 'gh-bob' } } } });
    expect(names(every)).toEqual(['bob']);
    const deep = await h.prisma.post.findMany({ where: { author: { accounts: { some: { externalId: 'gh-dan' } } } } });
    expect(deep.map((p) => p.title)).toEqual(['dan post']);
  });

  it('rewrites nested read filters inside include, select and _count', async () => {
    const user = await h.prisma.user.findUniqueOrThrow({
      where: { id: ids.ann },
      include: {
        accounts: { where: { externalId: 'gh-ann' } },
        _count: { select: { accounts: { where: { externalId: 'gh-nope' } } } },
      },
    });
    expect(user.accounts.map((a) => a.externalId)).toEqual(['gh-ann']);
    expect(user._count.accounts).toBe(0);
  });

  it('answers a compound unique input given as { provider, externalId } or { provider, externalIdIdx: plaintext }', async () => {
    const byIdx = await h.prisma.account.findUnique({
      where: { provider_externalIdIdx: { provider: 'github', externalIdIdx: 'gh-bob' } },
    });
    expect(byIdx?.externalId).toBe('gh-bob');
    const bySource = await h.prisma.account.findUnique({
      where: { provider_externalIdIdx: { provider: 'github', externalId: 'gh-cat' } } as never,
    });
    expect(bySource?.externalId).toBe('gh-cat');
    expect(
      await h.prisma.account.findUnique({
        where: { provider_externalIdIdx: { provider: 'gitlab', externalIdIdx: 'gh-bob' } },
      }),
    ).toBeNull();
  });

  it('rewrites cursor and connect', async () => {
    const page = await h.prisma.user.findMany({
      cursor: { emailIdx: 'bob@example.com' },
      orderBy: { name: 'asc' },
      take: 2,
    });
    expect(names(page)).toEqual(['bob', 'cat']);
    const post = await h.prisma.post.create({
      data: { title: 'moved', body: 'x', author: { connect: { emailIdx: 'cat@example.com' } } },
    });
    expect(post.authorId).toBe(ids.cat);
    const connected = await h.prisma.user.update({
      where: { id: ids.dan },
      data: { posts: { connect: { id: post.id } } },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    expect(connected.posts.map((p) => p.title)).toEqual(['dan post', 'moved']);
  });

  it('matches every live index version during an index-key rotation', async () => {
    const before = await h.db.query<{ email_idx: string }>('SELECT email_idx FROM users WHERE id = $1', [ids.ann]);
    await h.prisma.$hushfield.crypto.keys.rotateIndexKey();
    const { prisma } = h.fresh();
    const eve = await prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'eve', email: 'eve@example.com' },
    });
    const after = await h.db.query<{ email_idx: string }>('SELECT email_idx FROM users WHERE id = $1', [eve.id]);
    expect(prisma.$hushfield.crypto.blindIndexVersion(after[0].email_idx)).toBe(
      (prisma.$hushfield.crypto.blindIndexVersion(before[0].email_idx) ?? 0) + 1,
    );
    expect(
      names(await prisma.user.findMany({ where: { email: { in: ['ann@example.com', 'eve@example.com'] } } })),
    ).toEqual(['ann', 'eve']);
    expect(names(await prisma.user.findMany({ where: { email: 'ann@example.com' } }))).toEqual(['ann']);
    expect(names(await prisma.user.findMany({ where: { email: { not: 'ann@example.com' } } }))).not.toContain('ann');
    expect((await prisma.user.findUnique({ where: { emailIdx: 'ann@example.com' } }))?.id).toBe(ids.ann);
    expect((await prisma.user.findUnique({ where: { emailIdx: 'eve@example.com' } }))?.id).toBe(eve.id);
    const account = await prisma.account.findUnique({
      where: { provider_externalIdIdx: { provider: 'github', externalIdIdx: 'gh-bob' } },
    });
    expect(account?.externalId).toBe('gh-bob');
    // The same external id under another provider, indexed under the new version: each compound
    // lookup finds its own provider's row, whichever candidate hash the other row holds.
    await prisma.user.update({
      where: { id: ids.cat },
      data: { accounts: { create: { provider: 'gitlab', externalId: 'gh-bob', externalIdIdx: computedBlindIndex } } },
    });
    for (const provider of ['github', 'gitlab']) {
      const found = await prisma.account.findUnique({
        where: { provider_externalIdIdx: { provider, externalIdIdx: 'gh-bob' } },
      });
      expect(found).toMatchObject({
        provider,
        externalId: 'gh-bob',
        userId: provider === 'github' ? ids.bob : ids.cat,
      });
    }
    const post = await prisma.post.create({
      data: { title: 'rot', body: 'x', author: { connect: { emailIdx: 'bob@example.com' } } },
    });
    expect(post.authorId).toBe(ids.bob);
    expect(
      (await prisma.user.update({ where: { emailIdx: 'cat@example.com' }, data: { notes: 'rotated' } })).notes,
    ).toBe('rotated');
  });
});
