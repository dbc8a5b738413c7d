import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';

type Row = Record<string, string | null>;

describe('fieldEncryption: nested writes under relations', () => {
  let h: Harness;
  const secrets = [
    'nested author note',
    'nest@example.com',
    'nested body',
    'gh-nested',
    'second body',
    'gh-upsert',
    'gh-updated',
    'many body',
    'created author',
    'gh-coc',
    'listed body',
  ];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    for (const table of ['users', 'posts', 'accounts']) await expectNoPlaintextIn(h.db, table, secrets);
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  it('create with nested create and createMany encrypts every row, binding bound children to their generated ids', async () => {
    const user = await h.prisma.user.create({
      data: {
        tenantId: 'acme',
        emailIdx: computedBlindIndex,
        name: 'Nest',
        email: 'nest@example.com',
        posts: {
          createMany: {
            data: [
              { title: 'a', body: 'nested body' },
              { title: 'b', body: 'second body' },
            ],
          },
        },
        accounts: { create: [{ provider: 'github', externalId: 'gh-nested', externalIdIdx: computedBlindIndex }] },
      },
      include: { posts: { orderBy: { title: 'asc' } }, accounts: true },
    });
    expect(user.posts.map((p) => p.body)).toEqual(['nested body', 'second body']);
    expect(user.accounts[0].externalId).toBe('gh-nested');
    const [account] = await h.db.query<Row>('SELECT * FROM accounts WHERE user_id = $1', [user.id]);
    expect(isEnvelope(account.external_id)).toBe(true);
    expect(account.id).toBe(user.accounts[0].id);
    const posts = await h.db.query<Row>('SELECT body FROM posts WHERE author_id = $1', [user.id]);
    for (const post of posts) expect(isEnvelope(post.body)).toBe(true);
  });

  it('nested update, updateMany, upsert, connectOrCreate, delete and deleteMany', async () => {
    const user = await h.prisma.user.findUniqueOrThrow({
      where: { emailIdx: 'nest@example.com' },
      include: { posts: true, accounts: true },
    });
    const updated = await h.prisma.user.update({
      where: { emailIdx: 'nest@example.com' },
      data: {
        posts: { updateMany: { where: { title: { in: ['a', 'b'] } }, data: { body: 'many body' } } },
        accounts: {
          update: { where: { id: user.accounts[0].id }, data: { externalId: 'gh-updated' } },
          upsert: {
            where: { provider_externalIdIdx: { provider: 'gitlab', externalIdIdx: 'gh-upsert' } },
            create: { provider: 'gitlab', externalId: 'gh-upsert', externalIdIdx: computedBlindIndex },
            update: {},
          },
          connectOrCreate: {
            where: { provider_externalIdIdx: { provider: 'bitbucket', externalIdIdx: 'gh-coc' } },
            create: { provider: 'bitbucket', externalId: 'gh-coc', externalIdIdx: computedBlindIndex },
          },
        },
      },
      include: { posts: true, accounts: { orderBy: { provider: 'asc' } } },
    });
    expect(updated.posts.map((p) => p.body)).toEqual(['many body', 'many body']);
    expect(updated.accounts.map((a) => [a.provider, a.externalId])).toEqual([
      ['bitbucket', 'gh-coc'],
      ['github', 'gh-updated'],
      ['gitlab', 'gh-upsert'],
    ]);
    const rows = await h.db.query<Row>('SELECT external_id FROM accounts WHERE user_id = $1', [user.id]);
    for (const row of rows) expect(isEnvelope(row.external_id)).toBe(true);
    const afterDelete = await h.prisma.user.update({
      where: { id: user.id },
      data: {
        accounts: { delete: { provider_externalIdIdx: { provider: 'gitlab', externalIdIdx: 'gh-upsert' } } },
        posts: { deleteMany: { id: user.posts[1].id } },
      },
      include: { accounts: true, posts: true },
    });
    expect(afterDelete.accounts).toHaveLength(2);
    expect(afterDelete.posts).toHaveLength(1);
  });

  it('nested to-one create and update of a scoped, bound related row', async () => {
    const post = await h.prisma.post.create({
      data: {
        title: 'orphan',
        body: 'nested body',
        author: { create: { emailIdx: computedBlindIndex, tenantId: 'beta', name: 'Author', email: 'created author' } },
      },
      include: { author: true },
    });
    expect(post.author.email).toBe('created author');
    const [row] = await h.db.query<Row>('SELECT email FROM users WHERE id = $1', [post.authorId]);
    expect(isEnvelope(row.email)).toBe(true);
    const updated = await h.prisma.post.update({
      where: { id: post.id },
      data: { author: { update: { notes: 'nested author note' } } },
      include: { author: true },
    });
    expect(updated.author.notes).toBe('nested author note');
    const [author] = await h.db.query<Row>('SELECT notes, "tenantId" FROM users WHERE id = $1', [post.authorId]);
    expect(isEnvelope(author.notes)).toBe(true);
    expect((await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: post.authorId } })).notes).toBe(
      'nested author note',
    );
  });

  it('refuses a nested updateMany whose data is not an object, as Prisma does, instead of running it with none', async () => {
    const user = await h.prisma.user.create({
      data: {
        tenantId: 'acme',
        emailIdx: computedBlindIndex,
        name: 'Shapes',
        email: 'shapes@example.com',
        posts: { create: { title: 'kept', body: 'nested body' } },
      },
    });
    for (const updateMany of [
      { where: {}, data: 'retitled' },
      { where: {}, data: [{ title: 'retitled', body: 'listed body' }] },
      { where: {} },
      [{ where: {}, data: 7 }],
    ]) {
      const error = await h.prisma.user
        .update({ where: { id: user.id }, data: { posts: { updateMany } } } as never)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const shape = JSON.stringify(updateMany);
      expect([shape, (error as Error | undefined)?.constructor.name]).toEqual([shape, 'PrismaClientValidationError']);
      expect(String(error)).not.toContain('listed body');
    }
    const posts = await h.prisma.post.findMany({ where: { authorId: user.id } });
    expect(posts.map((p) => [p.title, p.body])).toEqual([['kept', 'nested body']]);
  });

  it('refuses a nested createMany without data, as Prisma does, instead of creating nothing', async () => {
    const user = await h.prisma.user.findFirstOrThrow({ where: { name: 'Shapes' }, include: { posts: true } });
    for (const createMany of [{}, { skipDuplicates: true }, { data: null }]) {
      const error = await h.prisma.user
        .update({ where: { id: user.id }, data: { posts: { createMany } } } as never)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const shape = JSON.stringify(createMany);
      expect([shape, (error as Error | undefined)?.constructor.name]).toEqual([shape, 'PrismaClientValidationError']);
    }
    expect(await h.prisma.post.count({ where: { authorId: user.id } })).toBe(user.posts.length);
  });
});
