import { computedBlindIndex, PrismaKeyStore } from '@hushfield/prisma';
import { DecryptionError, KeyStoreError, UnsupportedQueryError } from '@hushfield/core';
import { createHarness, type Harness } from './support';
import { describeOn } from '../support/provider';

describe('fieldEncryption: fails closed before any query', () => {
  let h: Harness;
  let userId: string;

  beforeAll(async () => {
    h = await createHarness();
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'Fay',
        email: 'fay@example.com',
        notes: 'n',
        posts: { create: { title: 't', body: 'b' } },
      },
    });
    userId = user.id;
  });
  afterAll(async () => {
    await h.close();
  });

  /** Runs `fn`, expects an UnsupportedQueryError naming model/field/operation, and that no query was sent. */
  async function refuses(fn: () => Promise<unknown>, expected: { model: string; field: string; operation: string }) {
    const sent = h.queries.length;
    const error = await fn().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedQueryError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_UNSUPPORTED_QUERY', ...expected });
    expect(h.queries.length).toBe(sent);
  }

  it.each([
    ['contains', { email: { contains: 'fay' } }],
    ['startsWith', { email: { startsWith: 'fay' } }],
    ['endsWith', { email: { endsWith: '.com' } }],
    ['lt', { email: { lt: 'm' } }],
    ['gt', { email: { gt: 'm' } }],
    ['lte', { email: { lte: 'm' } }],
    ['gte', { email: { gte: 'm' } }],
    ['mode', { email: { equals: 'fay@example.com', mode: 'insensitive' } }],
    ['search', { email: { search: 'fay' } }],
  ])('refuses %s on an encrypted field', async (operation, where) => {
    await refuses(() => h.prisma.user.findMany({ where: where as never }), {
      model: 'User',
      field: 'email',
      operation,
    });
  });

  it('refuses the same operators inside OR, NOT, relation filters and nested reads', async () => {
    await refuses(() => h.prisma.user.findMany({ where: { OR: [{ name: 'x' }, { email: { contains: 'a' } }] } }), {
      model: 'User',
      field: 'email',
      operation: 'contains',
    });
    await refuses(() => h.prisma.post.findMany({ where: { author: { is: { email: { startsWith: 'f' } } } } }), {
      model: 'User',
      field: 'email',
      operation: 'startsWith',
    });
    await refuses(() => h.prisma.user.findMany({ include: { posts: { where: { body: { contains: 'b' } } } } }), {
      model: 'Post',
      field: 'body',
      operation: 'contains',
    });
    await refuses(() => h.prisma.user.count({ where: { NOT: { notes: { endsWith: 'n' } } } }), {
      model: 'User',
      field: 'notes',
      operation: 'endsWith',
    });
  });

  it('refuses equality on an encrypted field without a blind index', async () => {
    await refuses(() => h.prisma.user.findMany({ where: { notes: 'n' } }), {
      model: 'User',
      field: 'notes',
      operation: 'equals',
    });
    await refuses(() => h.prisma.post.findMany({ where: { body: { in: ['b'] } } }), {
      model: 'Post',
      field: 'body',
      operation: 'in',
    });
    await refuses(() => h.prisma.user.findMany({ where: { posts: { some: { body: 'b' } } } }), {
      model: 'Post',
      field: 'body',
      operation: 'equals',
    });
  });

  it('allows null checks on an encrypted field without a blind index', async () => {
    expect(await h.prisma.user.count({ where: { notes: null } })).toBe(0);
    expect(await h.prisma.user.count({ where: { notes: { not: null } } })).toBe(1);
  });

  it('refuses orderBy on an encrypted field or a blind index, at any depth', async () => {
    await refuses(() => h.prisma.user.findMany({ orderBy: { email: 'asc' } }), {
      model: 'User',
      field: 'email',
      operation: 'orderBy',
    });
    await refuses(() => h.prisma.user.findMany({ orderBy: [{ name: 'asc' }, { emailIdx: 'desc' }] }), {
      model: 'User',
      field: 'emailIdx',
      operation: 'orderBy',
    });
    await refuses(() => h.prisma.post.findMany({ orderBy: { author: { email: 'asc' } } }), {
      model: 'User',
      field: 'email',
      operation: 'orderBy',
    });
    await refuses(() => h.prisma.user.findMany({ include: { posts: { orderBy: { body: 'asc' } } } }), {
      model: 'Post',
      field: 'body',
      operation: 'orderBy',
    });
  });

  it('refuses distinct, groupBy by/having and min/max over encrypted fields', async () => {
    await refuses(() => h.prisma.user.findMany({ distinct: ['email'] }), {
      model: 'User',
      field: 'email',
      operation: 'distinct',
    });
    await refuses(() => h.prisma.user.findMany({ distinct: ['ssnIdx'] }), {
      model: 'User',
      field: 'ssnIdx',
      operation: 'distinct',
    });
    await refuses(() => h.prisma.user.groupBy({ by: ['email'] }) as Promise<unknown>, {
      model: 'User',
      field: 'email',
      operation: 'groupBy by',
    });
    await refuses(
      () => h.prisma.user.groupBy({ by: ['tenantId'], having: { email: { _min: { gt: 'a' } } } }) as Promise<unknown>,
      { model: 'User', field: 'email', operation: 'groupBy having' },
    );
    await refuses(
      () =>
        h.prisma.user.groupBy({
          by: ['tenantId'],
          having: { OR: [{ notes: { _count: { gt: 1 }, equals: 'n' } }] },
        }) as Promise<unknown>,
      { model: 'User', field: 'notes', operation: 'groupBy having' },
    );
    await refuses(
      () => h.prisma.user.groupBy({ by: ['tenantId'], having: { ssnIdx: { equals: 'x' } } }) as Promise<unknown>,
      { model: 'User', field: 'ssnIdx', operation: 'groupBy having' },
    );
    await refuses(() => h.prisma.user.aggregate({ _max: { email: true } }), {
      model: 'User',
      field: 'email',
      operation: '_max',
    });
  });

  it('allows groupBy having and _count on the count of an encrypted field, which reveals no more than its column', async () => {
    await h.prisma.user.create({
      data: { tenantId: 'count-co', name: 'a', email: 'a@count.example', emailIdx: computedBlindIndex, notes: 'x' },
    });
    await h.prisma.user.create({
      data: { tenantId: 'count-co', name: 'b', email: 'b@count.example', emailIdx: computedBlindIndex },
    });
    try {
      const groups = await h.prisma.user.groupBy({
        by: ['tenantId'],
        where: { tenantId: { in: ['acme', 'count-co'] } },
        having: { email: { _count: { gt: 1 } }, AND: [{ notes: { _count: { gte: 1 } } }] },
        _count: { email: true, notes: true, ssn: true },
        orderBy: { _count: { email: 'desc' } },
      });
      expect(groups).toEqual([{ tenantId: 'count-co', _count: { email: 2, notes: 1, ssn: 0 } }]);
    } finally {
      // the other tests here count on one user
      await h.prisma.user.deleteMany({ where: { tenantId: 'count-co' } });
    }
  });

  it('allows distinct and groupBy on a full-length blind index (equality only)', async () => {
    const groups = await h.prisma.user.groupBy({ by: ['emailIdx'], _count: { _all: true } });
    expect(groups).toHaveLength(1);
  });

  it('refuses a caller-set blind-index column, in any write', async () => {
    const refusedSet = async (fn: () => Promise<unknown>, model: string, field: string) => {
      const sent = h.queries.length;
      await expect(fn()).rejects.toMatchObject({ code: 'HUSHFIELD_UNSUPPORTED_QUERY', model, field, operation: 'set' });
      expect(h.queries.length).toBe(sent);
    };
    await refusedSet(
      () => h.prisma.user.create({ data: { tenantId: 'acme', name: 'x', email: 'x@example.com', emailIdx: 'forged' } }),
      'User',
      'emailIdx',
    );
    await refusedSet(
      () => h.prisma.user.update({ where: { id: userId }, data: { ssnIdx: 'forged' } }),
      'User',
      'ssnIdx',
    );
    await refusedSet(
      () =>
        h.prisma.user.update({
          where: { id: userId },
          data: { accounts: { create: { provider: 'p', externalId: 'e', externalIdIdx: 'forged' } } },
        }),
      'Account',
      'externalIdIdx',
    );
  });

  it('refuses a truncated-index lookup where false positives cannot be removed', async () => {
    await refuses(() => h.prisma.user.findMany({ where: { OR: [{ ssn: '1' }, { name: 'x' }] } }), {
      model: 'User',
      field: 'ssn',
      operation: 'equals',
    });
    await refuses(() => h.prisma.user.findMany({ where: { ssn: { not: '123' } } }), {
      model: 'User',
      field: 'ssn',
      operation: 'not',
    });
    await refuses(() => h.prisma.post.findMany({ where: { author: { ssn: '123' } } }), {
      model: 'User',
      field: 'ssn',
      operation: 'equals',
    });
  });

  it('refuses a misspelt nested write before Prisma could echo its plaintext', async () => {
    const posts = await h.prisma.post.findMany({ where: { authorId: userId } });
    const data = { posts: { craete: { title: 't', body: 'typo secret body' } } } as never;
    await refuses(() => h.prisma.user.update({ where: { id: userId }, data }), {
      model: 'Post',
      field: '',
      operation: 'craete',
    });
    // Nothing was written.
    expect(await h.prisma.post.findMany({ where: { authorId: userId } })).toEqual(posts);
  });

  it('refuses a to-one nested update mixing { data } with fields, and writes both real forms encrypted', async () => {
    const post = await h.prisma.post.findFirstOrThrow({ where: { authorId: userId } });
    const mixed = { author: { update: { data: { name: 'Fay' }, notes: 'mixed secret' } } } as never;
    await refuses(() => h.prisma.post.update({ where: { id: post.id }, data: mixed }), {
      model: 'User',
      field: '',
      operation: 'update',
    });
    for (const [notes, update] of [
      ['wrapped secret', { data: { notes: 'wrapped secret' } }],
      ['direct secret', { notes: 'direct secret' }],
    ] as const) {
      await h.prisma.post.update({ where: { id: post.id }, data: { author: { update } } });
      const [stored] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [userId]);
      expect(stored.notes).not.toContain(notes);
      expect((await h.prisma.user.findUniqueOrThrow({ where: { id: userId } })).notes).toBe(notes);
    }
    await h.prisma.user.update({ where: { id: userId }, data: { notes: 'n' } });
  });

  it('refuses comparing a column with an encrypted or index column through a field reference', async () => {
    const fields = (h.prisma.user as unknown as { fields: Record<string, unknown> }).fields;
    for (const [field, operation] of [
      ['email', 'name equals'],
      ['emailIdx', 'name equals'],
    ] as const) {
      await refuses(() => h.prisma.user.findMany({ where: { name: { equals: fields[field] } } as never }), {
        model: 'User',
        field,
        operation,
      });
    }
    await refuses(() => h.prisma.user.findMany({ where: { NOT: { name: { not: { in: [fields.ssn] } } } } as never }), {
      model: 'User',
      field: 'ssn',
      operation: 'name in',
    });
    // The encrypted or index column compared with another one, either way round.
    for (const [field, where] of [
      ['email', { email: { equals: fields.name } }],
      ['emailIdx', { emailIdx: fields.name }],
      ['ssn', { ssn: { not: { equals: fields.notes } } }],
    ] as const) {
      await refuses(() => h.prisma.user.findMany({ where } as never), {
        model: 'User',
        field,
        operation: `${field === 'ssn' ? 'notes' : 'name'} equals`,
      });
    }
    // A reference to a plain column is Prisma's business.
    expect(await h.prisma.user.findMany({ where: { name: { equals: fields.name } } as never })).toHaveLength(1);
  });

  describeOn(['postgresql'], 'match indexes are PostgreSQL integer arrays')('on a match-index column', () => {
    const fields = () => (h.prisma.person as unknown as { fields: Record<string, unknown> }).fields;

    it('refuses comparing a column with a match-index column through a field reference', async () => {
      for (const [where, field, operation] of [
        [{ tenantId: { equals: fields().nameMatch } }, 'nameMatch', 'tenantId equals'],
        [{ id: { not: { in: [fields().cityMatch] } } }, 'cityMatch', 'id in'],
        [{ OR: [{ tenantId: 'acme' }, { tenantId: fields().cityMatch }] }, 'cityMatch', 'tenantId equals'],
      ] as const) {
        await refuses(() => h.prisma.person.findMany({ where } as never), { model: 'Person', field, operation });
      }
    });

    it('refuses comparing a match-index column with another column through a field reference', async () => {
      for (const [where, field, operation] of [
        [{ nameMatch: { equals: fields().cityMatch } }, 'nameMatch', 'cityMatch equals'],
        [{ cityMatch: { hasSome: fields().nameMatch } }, 'cityMatch', 'nameMatch hasSome'],
        [{ NOT: { nameMatch: { has: fields().tenantId } } }, 'nameMatch', 'tenantId has'],
      ] as const) {
        await refuses(() => h.prisma.person.findMany({ where } as never), { model: 'Person', field, operation });
      }
    });
  });

  it("a key-store outage while reading throws KeyStoreError, even with onDecryptError 'null'", async () => {
    // The key store's database fails under reads of key material (a new process: cold caches).
    class FailingStore extends PrismaKeyStore {
      override async getVersion(): Promise<never> {
        throw new Error('Connection terminated unexpectedly');
      }
    }
    const { prisma } = h.fresh({ onDecryptError: 'null', keyStore: new FailingStore(h.base) });
    const error = await prisma.user.findUnique({ where: { id: userId } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyStoreError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_KEY_STORE', model: 'User', rowId: userId });
  });

  it('never returns a stored value that is not an envelope in strict mode', async () => {
    await h.db.query(`UPDATE users SET notes = 'planted plaintext' WHERE id = $1`, [userId]);
    const error = await h.prisma.user.findUnique({ where: { id: userId } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'User', field: 'notes', rowId: userId });
    expect(String((error as Error).message)).not.toContain('planted plaintext');
    const { prisma } = h.fresh({ onDecryptError: 'null' });
    const lenient = await prisma.user.findUniqueOrThrow({ where: { id: userId } });
    expect(lenient.notes).toBeNull();
    expect(lenient.email).toBe('fay@example.com');
  });
});
