import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';
import { testProvider } from '../support/provider';

/** createManyAndReturn / updateManyAndReturn: Prisma has them on PostgreSQL and SQLite, not MySQL. */
const andReturn = testProvider() !== 'mysql';

type Row = Record<string, string | null>;

describe('fieldEncryption: writes and reads', () => {
  let h: Harness;
  const secrets: string[] = [];
  /** Remembers plaintexts every test's final scan must not find. */
  const secret = (value: string) => {
    secrets.push(value);
    return value;
  };
  const rawUser = async (id: string) => (await h.db.query<Row>('SELECT * FROM users WHERE id = $1', [id]))[0];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await expectNoPlaintextIn(h.db, 'users', secrets);
    await expectNoPlaintextIn(h.db, 'posts', secrets);
    await expectNoPlaintextIn(h.db, 'accounts', secrets);
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  it('create stores envelopes and a blind index and returns plaintext', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'Alice',
        email: secret('Alice@Example.com'),
        ssn: secret('123-45-6789'),
        notes: secret('likes tea'),
      },
    });
    expect(user).toMatchObject({
      tenantId: 'acme',
      email: 'Alice@Example.com',
      ssn: '123-45-6789',
      notes: 'likes tea',
    });
    const row = await rawUser(user.id);
    expect(isEnvelope(row.email)).toBe(true);
    expect(isEnvelope(row.ssn)).toBe(true);
    expect(isEnvelope(row.notes)).toBe(true);
    expect(row.email_idx).toEqual(expect.any(String));
    expect(row.ssn_idx).toEqual(expect.any(String));
    secret('alice@example.com');
  });

  it('replaces the computedBlindIndex placeholder and never stores it', async () => {
    const user = await h.prisma.user.create({
      data: {
        tenantId: 'acme',
        name: 'Ph',
        email: secret('ph@example.com'),
        emailIdx: computedBlindIndex,
        ssnIdx: computedBlindIndex,
      },
    });
    const row = await rawUser(user.id);
    expect(row.email_idx).not.toContain('computed');
    expect(row.ssn_idx).toBeNull();
    await h.prisma.user.update({ where: { id: user.id }, data: { name: 'Ph2', emailIdx: computedBlindIndex } });
    expect((await rawUser(user.id)).email_idx).toBe(row.email_idx);
    expect(user.emailIdx).toBe(row.email_idx);
  });

  it('create keeps null as null, with a null blind index', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'Nul',
        email: secret('nul@example.com'),
        ssn: null,
      },
    });
    expect(user.ssn).toBeNull();
    const row = await rawUser(user.id);
    expect(row.ssn).toBeNull();
    expect(row.ssn_idx).toBeNull();
    expect(row.notes).toBeNull();
  });

  it('generates the id of a bound model client-side when the caller gives none', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Gen', email: secret('gen@example.com') },
    });
    expect(user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const account = await h.prisma.account.create({
      data: { provider: 'github', externalId: secret('gh-4242'), userId: user.id, externalIdIdx: computedBlindIndex },
    });
    expect(account.id).toMatch(/^c[0-9a-z]{24}$/);
    expect(
      isEnvelope(
        (await h.db.query<Row>('SELECT external_id FROM accounts WHERE id = $1', [account.id]))[0].external_id,
      ),
    ).toBe(true);
  });

  it('createMany and createManyAndReturn encrypt every row with its own data key', async () => {
    const created = await h.prisma.user.createMany({
      data: [
        { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'M1', email: secret('m1@example.com') },
        {
          emailIdx: computedBlindIndex,
          tenantId: 'beta',
          name: 'M2',
          email: secret('m2@example.com'),
          ssn: secret('999-00-1111'),
        },
      ],
    });
    expect(created.count).toBe(2);
    const data = [
      { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'R1', email: secret('r1@example.com') },
      { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'R2', email: secret('r2@example.com') },
    ];
    if (andReturn) {
      const returned = await h.prisma.user.createManyAndReturn({ data, select: { email: true, name: true } });
      expect(returned).toEqual([
        { email: 'r1@example.com', name: 'R1' },
        { email: 'r2@example.com', name: 'R2' },
      ]);
    } else {
      expect((await h.prisma.user.createMany({ data })).count).toBe(2);
    }
    const rows = await h.db.query<Row>(`SELECT email FROM users WHERE name IN ('M1', 'M2', 'R1', 'R2')`);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(isEnvelope(row.email)).toBe(true);
    const dataKeys = new Set(rows.map((row) => (row.email as string).split('$').slice(0, 5).join('$')));
    expect(dataKeys.size).toBe(4);
  });

  it('update, including { set }, re-encrypts the field and its blind index', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Up', email: secret('up@example.com') },
    });
    const before = await rawUser(user.id);
    const updated = await h.prisma.user.update({
      where: { id: user.id },
      data: { email: { set: secret('up2@example.com') }, notes: secret('updated note') },
    });
    expect(updated).toMatchObject({ email: 'up2@example.com', notes: 'updated note' });
    const after = await rawUser(user.id);
    expect(isEnvelope(after.email)).toBe(true);
    expect(after.email).not.toBe(before.email);
    expect(after.email_idx).not.toBe(before.email_idx);
    expect((await h.prisma.user.findUnique({ where: { emailIdx: 'up2@example.com' } }))?.id).toBe(user.id);
    const cleared = await h.prisma.user.update({ where: { emailIdx: 'up2@example.com' }, data: { notes: null } });
    expect(cleared.notes).toBeNull();
    expect((await rawUser(user.id)).notes).toBeNull();
  });

  it('updateMany and updateManyAndReturn encrypt each row under its own id and scope', async () => {
    await h.prisma.user.createMany({
      data: [
        { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Bulk', email: secret('bulk1@example.com') },
        { emailIdx: computedBlindIndex, tenantId: 'beta', name: 'Bulk', email: secret('bulk2@example.com') },
      ],
    });
    const result = await h.prisma.user.updateMany({ where: { name: 'Bulk' }, data: { notes: secret('bulk note') } });
    expect(result.count).toBe(2);
    const users = await h.prisma.user.findMany({ where: { name: 'Bulk' }, orderBy: { tenantId: 'asc' } });
    expect(users.map((u) => u.notes)).toEqual(['bulk note', 'bulk note']);
    const rows = await h.db.query<Row>(`SELECT notes FROM users WHERE name = 'Bulk'`);
    expect(new Set(rows.map((r) => r.notes)).size).toBe(2);
    if (!andReturn) return;
    const returned = await h.prisma.user.updateManyAndReturn({
      where: { name: 'Bulk' },
      data: { notes: secret('second note') },
      select: { notes: true, tenantId: true },
    });
    expect(returned.sort((a, b) => a.tenantId.localeCompare(b.tenantId))).toEqual([
      { notes: 'second note', tenantId: 'acme' },
      { notes: 'second note', tenantId: 'beta' },
    ]);
  });

  it('updateMany and updateManyAndReturn written row by row keep to their limit', async () => {
    await h.prisma.user.createMany({
      data: ['l1', 'l2', 'l3'].map((n) => ({
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'Limited',
        email: secret(`${n}@example.com`),
      })),
    });
    expect(
      (
        await h.prisma.user.updateMany({
          where: { name: 'Limited' },
          data: { notes: secret('limited note') },
          limit: 1,
        })
      ).count,
    ).toBe(1);
    const rows = await h.db.query<Row>(`SELECT notes FROM users WHERE name = 'Limited' AND notes IS NOT NULL`);
    expect(rows).toHaveLength(1);
    if (!andReturn) return;
    const returned = await h.prisma.user.updateManyAndReturn({
      where: { name: 'Limited', notes: null },
      data: { notes: secret('limited note') },
      limit: 1,
    });
    expect(returned).toHaveLength(1);
    expect(await h.db.query<Row>(`SELECT notes FROM users WHERE name = 'Limited' AND notes IS NULL`)).toHaveLength(1);
  });

  it('updateMany on an unbound, unscoped model encrypts in one statement', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Poster', email: secret('poster@example.com') },
    });
    await h.prisma.post.createMany({
      data: [
        { title: 'p1', body: secret('body one'), authorId: user.id },
        { title: 'p2', body: secret('body two'), authorId: user.id },
      ],
    });
    expect(
      (await h.prisma.post.updateMany({ where: { authorId: user.id }, data: { body: secret('same body') } })).count,
    ).toBe(2);
    const posts = await h.prisma.post.findMany({ where: { authorId: user.id } });
    expect(posts.map((p) => p.body)).toEqual(['same body', 'same body']);
  });

  it('upsert encrypts both the create and the update branch', async () => {
    const created = await h.prisma.user.upsert({
      where: { emailIdx: 'ups@example.com' },
      create: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Ups', email: secret('ups@example.com') },
      update: { notes: secret('never used') },
    });
    expect(created.email).toBe('ups@example.com');
    const updated = await h.prisma.user.upsert({
      where: { emailIdx: 'ups@example.com' },
      create: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Ups', email: 'ups@example.com' },
      update: { notes: secret('upserted note') },
    });
    expect(updated.id).toBe(created.id);
    expect(updated.notes).toBe('upserted note');
    expect(isEnvelope((await rawUser(created.id)).notes)).toBe(true);
  });

  it('delete and deleteMany find rows through the blind index and return plaintext', async () => {
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Del', email: secret('del@example.com') },
    });
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Del', email: secret('del2@example.com') },
    });
    const deleted = await h.prisma.user.delete({ where: { emailIdx: 'del@example.com' } });
    expect(deleted.email).toBe('del@example.com');
    expect((await h.prisma.user.deleteMany({ where: { email: 'DEL2@example.com' } })).count).toBe(1);
    expect(await h.prisma.user.count({ where: { name: 'Del' } })).toBe(0);
  });

  it('reads with select, omit and include at any depth, adding and stripping the id a bound model needs', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'Sel',
        email: secret('sel@example.com'),
        posts: { create: { title: 't', body: secret('post body') } },
      },
    });
    expect(await h.prisma.user.findUnique({ where: { id: user.id }, select: { email: true } })).toEqual({
      email: 'sel@example.com',
    });
    const omitted = await h.prisma.user.findUnique({ where: { id: user.id }, omit: { id: true, ssn: true } });
    expect(omitted).not.toHaveProperty('id');
    expect(omitted?.email).toBe('sel@example.com');
    const deep = await h.prisma.post.findFirst({
      where: { authorId: user.id },
      select: {
        body: true,
        author: {
          select: { email: true, posts: { select: { body: true, author: { select: { notes: true, email: true } } } } },
        },
      },
    });
    expect(deep).toEqual({
      body: 'post body',
      author: {
        email: 'sel@example.com',
        posts: [{ body: 'post body', author: { notes: null, email: 'sel@example.com' } }],
      },
    });
    const included = await h.prisma.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { posts: true, _count: true },
    });
    expect(included.posts[0].body).toBe('post body');
    expect(included._count.posts).toBe(1);
    const first = await h.prisma.user.findFirstOrThrow({
      where: { email: 'sel@example.com' },
      select: { posts: { select: { body: true } } },
    });
    expect(first).toEqual({ posts: [{ body: 'post body' }] });
  });

  it('the fluent API decrypts the related rows', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'Flu',
        email: secret('flu@example.com'),
        posts: { create: [{ title: 'a', body: secret('fluent a') }] },
      },
    });
    const posts = await h.prisma.user.findUnique({ where: { id: user.id } }).posts();
    expect(posts?.map((p) => p.body)).toEqual(['fluent a']);
    const post = await h.prisma.post.findFirstOrThrow({ where: { authorId: user.id } });
    const author = await h.prisma.post.findUnique({ where: { id: post.id } }).author({ select: { email: true } });
    expect(author).toEqual({ email: 'flu@example.com' });
  });

  it('count, aggregate and groupBy filter through the blind index', async () => {
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'agg', name: 'Agg', email: secret('agg@example.com') },
    });
    expect(await h.prisma.user.count({ where: { email: 'agg@example.com' } })).toBe(1);
    const aggregate = await h.prisma.user.aggregate({
      where: { email: { in: ['agg@example.com'] } },
      _count: { _all: true },
    });
    expect(aggregate._count._all).toBe(1);
    const groups = await h.prisma.user.groupBy({
      by: ['tenantId'],
      where: { email: 'agg@example.com' },
      _count: { _all: true },
    });
    expect(groups).toEqual([{ tenantId: 'agg', _count: { _all: 1 } }]);
  });
});
