/**
 * Prisma's validation errors print the invocation's arguments with their values. A value given
 * where a relation field's own arguments go (a nested write, a relation filter, an include's
 * arguments) in a shape Prisma refuses is echoed as written: when it is an encrypted field's
 * plaintext in the wrong spot, it must be withheld from every part of the error.
 */
import { inspect } from 'node:util';
import { computedBlindIndex } from '@hushfield/prisma';
import { HushfieldError } from '@hushfield/core';
import { Prisma } from '../../prisma/generated/client/client';
import { createHarness, expectNoPlaintextInLog, type Harness } from './support';

/** Everything of `error` a log could print: its text, every own property (hidden ones too), its causes. */
function everything(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 4) return String(error);
  const parts = [
    String(error),
    String(error.message),
    String(error.stack),
    inspect(error, { showHidden: true, depth: 8 }),
  ];
  for (const name of Object.getOwnPropertyNames(error)) {
    const value = (error as unknown as Record<string, unknown>)[name];
    if (value instanceof Error) parts.push(everything(value, depth + 1));
    else parts.push(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? '');
  }
  if (error.cause !== undefined) parts.push(everything(error.cause, depth + 1));
  if (error instanceof AggregateError)
    for (const item of error.errors as unknown[]) parts.push(everything(item, depth + 1));
  return parts.join('\n');
}

describe('fieldEncryption: no plaintext in the errors of misplaced values among relation arguments', () => {
  let h: Harness;
  // Used through variables only: Prisma's messages quote the calling source lines too.
  const typed = ['alice', 'example.com'].join('@');
  let userId: string;
  let postId: number;
  let orgId: string;

  beforeAll(async () => {
    h = await createHarness();
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 'acme',
        name: 'zed',
        email: 'zed@example.com',
        posts: { create: { title: 't', body: 'b' } },
      },
      include: { posts: true },
    });
    userId = user.id;
    postId = user.posts[0].id;
    const org = await h.prisma.organization.create({ data: { slug: 'echo-org' } });
    orgId = org.id;
  });
  afterEach(() => {
    expectNoPlaintextInLog(h.queries, [typed]);
  });
  afterAll(async () => {
    await h.close();
  });

  /** The shapes whose error quotes `typed`, is not Prisma's or hushfield's, lost Prisma's words, or that resolved. */
  async function leaks(shapes: [string, () => Promise<unknown>][]): Promise<string[]> {
    const found: string[] = [];
    for (const [shape, call] of shapes) {
      const error = await call().then(
        () => new Error(`resolved: ${shape}`),
        (e: unknown) => e,
      );
      if (!(error instanceof Error)) {
        found.push(`${shape}: threw ${typeof error}`);
        continue;
      }
      if (everything(error).includes(typed)) found.push(`${shape}: echoed`);
      if (error instanceof HushfieldError) continue;
      // still Prisma's error, with its explanation: only the values are withheld
      if (
        !error.constructor.name.startsWith('PrismaClient') ||
        !/Unknown argument|Unknown field|Invalid value|Argument `/.test(error.message)
      )
        found.push(`${shape}: ${error.constructor.name}: ${error.message.slice(0, 300)}`);
    }
    return found;
  }

  const newUser = () => ({ tenantId: 'acme', name: 'n', email: 'o@example.com', emailIdx: computedBlindIndex });
  const post = { title: 't', body: 'b' };

  it('in the nested writes of a to-many relation (create, update, upsert, createMany, updateMany)', async () => {
    const create = (posts: unknown) => () => h.prisma.user.create({ data: { ...newUser(), posts } } as never);
    const update = (posts: unknown) => () => h.prisma.user.update({ where: { id: userId }, data: { posts } } as never);
    const shapes: [string, () => Promise<unknown>][] = [
      ['create: posts given a string', create(typed)],
      ['create: posts given strings', create([typed])],
      ['create: set', create({ set: typed })],
      ['create: create given a string', create({ create: typed })],
      ['create: create given strings', create({ create: [typed] })],
      ['create: connect given a string', create({ connect: typed })],
      ['create: connect given strings', create({ connect: [typed] })],
      ['create: equals in connect', create({ connect: { equals: typed } })],
      ['create: connectOrCreate given a string', create({ connectOrCreate: typed })],
      ['create: connectOrCreate where a string', create({ connectOrCreate: { where: typed, create: post } })],
      ['create: connectOrCreate create a string', create({ connectOrCreate: { where: { id: 1 }, create: typed } })],
      ['create: createMany given a string', create({ createMany: typed })],
      ['create: createMany data a string', create({ createMany: { data: typed } })],
      ['create: createMany data strings', create({ createMany: { data: [typed] } })],
      ['create: createMany skipDuplicates', create({ createMany: { data: [post], skipDuplicates: typed } })],
      ['update: set given a string', update({ set: typed })],
      ['update: set given strings', update({ set: [typed] })],
      ['update: disconnect given a string', update({ disconnect: typed })],
      ['update: delete given a string', update({ delete: typed })],
      ['update: deleteMany given a string', update({ deleteMany: typed })],
      ['update: deleteMany given strings', update({ deleteMany: [typed] })],
      ['update: update given a string', update({ update: typed })],
      ['update: update where a string', update({ update: { where: typed, data: { title: 'x' } } })],
      ['update: update data a string', update({ update: { where: { id: postId }, data: typed } })],
      ['update: set in update data', update({ update: { where: { id: postId }, data: { set: typed } } })],
      ['update: updateMany given a string', update({ updateMany: typed })],
      ['update: updateMany where a string', update({ updateMany: { where: typed, data: { title: 'x' } } })],
      ['update: equals in updateMany data', update({ updateMany: { where: {}, data: { equals: typed } } })],
      ['update: upsert given a string', update({ upsert: typed })],
      ['update: upsert where a string', update({ upsert: { where: typed, create: post, update: { title: 'x' } } })],
      ['update: upsert create a string', update({ upsert: { where: { id: postId }, create: typed, update: {} } })],
      ['update: upsert update a string', update({ upsert: { where: { id: postId }, create: post, update: typed } })],
      ['update: take among nested writes', update({ take: typed })],
      [
        'upsert: posts set in the update',
        () =>
          h.prisma.user.upsert({
            where: { id: userId },
            create: newUser(),
            update: { posts: { set: typed } },
          } as never),
      ],
      [
        'upsert: posts connect in the create',
        () =>
          h.prisma.user.upsert({
            where: { id: userId },
            create: { ...newUser(), posts: { connect: typed } },
            update: {},
          } as never),
      ],
      [
        'createMany: posts given a string',
        () => h.prisma.user.createMany({ data: [{ ...newUser(), posts: typed }] } as never),
      ],
      [
        'updateMany: posts set',
        () => h.prisma.user.updateMany({ where: { id: userId }, data: { posts: { set: typed } } } as never),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it('in the nested writes of a to-one relation', async () => {
    const createPost = (author: unknown) => () => h.prisma.post.create({ data: { ...post, author } } as never);
    const updatePost = (author: unknown) => () =>
      h.prisma.post.update({ where: { id: postId }, data: { author } } as never);
    const updateOrg = (billing: unknown) => () =>
      h.prisma.organization.update({ where: { id: orgId }, data: { billing } } as never);
    const shapes: [string, () => Promise<unknown>][] = [
      ['create: author given a string', createPost(typed)],
      ['create: create given a string', createPost({ create: typed })],
      ['create: connect given a string', createPost({ connect: typed })],
      ['create: equals in connect', createPost({ connect: { equals: typed } })],
      ['create: connectOrCreate where a string', createPost({ connectOrCreate: { where: typed, create: newUser() } })],
      [
        'create: connectOrCreate create a string',
        createPost({ connectOrCreate: { where: { id: userId }, create: typed } }),
      ],
      ['create: set', createPost({ set: typed })],
      ['update: update given a string', updatePost({ update: typed })],
      ['update: update where a string', updatePost({ update: { where: typed, data: { name: 'x' } } })],
      ['update: update data a string', updatePost({ update: { data: typed } })],
      ['update: upsert create a string', updatePost({ upsert: { create: typed, update: {} } })],
      ['update: upsert update a string', updatePost({ upsert: { create: newUser(), update: typed } })],
      ['update: upsert where a string', updatePost({ upsert: { where: typed, create: newUser(), update: {} } })],
      ['update: set', updatePost({ set: typed })],
      ['update: disconnect given a string', updateOrg({ disconnect: typed })],
      ['update: delete given a string', updateOrg({ delete: typed })],
      ['update: equals in disconnect', updateOrg({ disconnect: { equals: typed } })],
      ['update: set in a nested create', updateOrg({ create: { set: typed } })],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it('in nested writes two levels deep', async () => {
    const accountWithUser = (posts: unknown) => () =>
      h.prisma.account.create({
        data: {
          provider: 'p',
          externalId: 'x',
          externalIdIdx: computedBlindIndex,
          user: { create: { ...newUser(), posts } },
        },
      } as never);
    const shapes: [string, () => Promise<unknown>][] = [
      ['to-one then to-many: set', accountWithUser({ set: typed })],
      ['to-one then to-many: connect a string', accountWithUser({ connect: typed })],
      [
        'to-one update then to-many: disconnect a string',
        () =>
          h.prisma.account.updateMany({
            where: { provider: 'none' },
            data: { user: { update: { posts: { disconnect: typed } } } },
          } as never),
      ],
      [
        'to-many then to-many: invoices set',
        () =>
          h.prisma.organization.update({
            where: { id: orgId },
            data: {
              members: {
                create: { email: 'm@example.com', emailIdx: computedBlindIndex, invoices: { set: typed } },
              },
            },
          } as never),
      ],
      [
        'to-many update then to-many: invoices delete a string',
        () =>
          h.prisma.organization.update({
            where: { id: orgId },
            data: { members: { updateMany: { where: {}, data: { invoices: { delete: typed } } } } },
          } as never),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it('in relation filters (findMany, count, aggregate, groupBy, updateMany)', async () => {
    const users = (where: unknown) => () => h.prisma.user.findMany({ where } as never);
    const posts = (where: unknown) => () => h.prisma.post.findMany({ where } as never);
    const shapes: [string, () => Promise<unknown>][] = [
      ['to-many given a string', users({ posts: typed })],
      ['some given a string', users({ posts: { some: typed } })],
      ['every given a string', users({ posts: { every: typed } })],
      ['none given strings', users({ posts: { none: [typed] } })],
      ['equals in some', users({ posts: { some: { equals: typed } } })],
      ['set under a to-many filter', users({ posts: { set: typed } })],
      ['take under a to-many filter', users({ posts: { take: typed } })],
      ['is under a to-many filter', users({ posts: { is: typed } })],
      ['two levels: is given a string', users({ posts: { some: { author: { is: typed } } } })],
      ['two levels: author given a string', users({ posts: { some: { author: typed } } })],
      ['to-one: is given a string', posts({ author: { is: typed } })],
      ['to-one: isNot given a string', posts({ author: { isNot: typed } })],
      ['to-one: equals', posts({ author: { equals: typed } })],
      ['to-one: set', posts({ author: { set: typed } })],
      ['to-one: some', posts({ author: { some: typed } })],
      ['count', () => h.prisma.user.count({ where: { posts: { some: typed } } } as never)],
      ['aggregate', () => h.prisma.user.aggregate({ where: { posts: { every: typed } }, _count: true } as never)],
      ['groupBy', () => h.prisma.user.groupBy({ by: ['tenantId'], where: { posts: { none: typed } } } as never)],
      [
        'updateMany',
        () => h.prisma.user.updateMany({ where: { posts: { some: typed } }, data: { name: 'n' } } as never),
      ],
      ['deleteMany', () => h.prisma.user.deleteMany({ where: { accounts: { some: { user: typed } } } } as never)],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it("in a relation's include and select arguments, and orderBy and cursor", async () => {
    const include = (posts: unknown) => () => h.prisma.user.findMany({ include: { posts } } as never);
    const select = (posts: unknown) => () => h.prisma.user.findMany({ select: { posts } } as never);
    const shapes: [string, () => Promise<unknown>][] = [
      ['include given a string', include(typed)],
      ['include: where a string', include({ where: typed })],
      ['include: equals in where', include({ where: { equals: typed } })],
      ['include: author in where a string', include({ where: { author: typed } })],
      ['include: orderBy a string', include({ orderBy: typed })],
      ['include: orderBy a field given a string', include({ orderBy: { title: typed } })],
      ['include: orderBy a relation given a string', include({ orderBy: { author: typed } })],
      ['include: cursor a string', include({ cursor: typed })],
      ['include: equals in cursor', include({ cursor: { equals: typed } })],
      ['include: take a string', include({ take: typed })],
      ['include: skip a string', include({ skip: typed })],
      ['include: distinct a string', include({ distinct: typed })],
      ['include: select a string', include({ select: typed })],
      ['include: include a relation given a string', include({ include: { author: typed } })],
      ['include: equals', include({ equals: typed })],
      ['select given a string', select(typed)],
      ['select: where a string', select({ where: typed })],
      ['select: select a field given a string', select({ select: { title: typed } })],
      ['select: a to-one given where', () => h.prisma.post.findMany({ select: { author: { where: typed } } } as never)],
      ['select: a to-one given a string', () => h.prisma.post.findMany({ select: { author: typed } } as never)],
      ['include: _count a string', () => h.prisma.user.findMany({ include: { _count: typed } } as never)],
      [
        'include: _count select given a string',
        () => h.prisma.user.findMany({ include: { _count: { select: { posts: typed } } } } as never),
      ],
      [
        'include: _count select where a string',
        () => h.prisma.user.findMany({ include: { _count: { select: { posts: { where: typed } } } } } as never),
      ],
      [
        'two levels: include author include posts where',
        () => h.prisma.post.findMany({ include: { author: { include: { posts: { where: typed } } } } } as never),
      ],
      [
        'two levels: include author include posts orderBy',
        () => h.prisma.post.findMany({ include: { author: { include: { posts: { orderBy: typed } } } } } as never),
      ],
      ['orderBy a relation given a string', () => h.prisma.user.findMany({ orderBy: { posts: typed } } as never)],
      [
        'orderBy a relation _count given a string',
        () => h.prisma.user.findMany({ orderBy: { posts: { _count: typed } } } as never),
      ],
      [
        'orderBy a to-one field given a string',
        () => h.prisma.post.findMany({ orderBy: { author: { name: typed } } } as never),
      ],
      ['cursor a relation given a string', () => h.prisma.user.findMany({ cursor: { posts: typed } } as never)],
      [
        'include in a create',
        () => h.prisma.user.create({ data: newUser(), include: { posts: { where: typed } } } as never),
      ],
      [
        'include in an update',
        () =>
          h.prisma.user.update({ where: { id: userId }, data: {}, include: { posts: { orderBy: typed } } } as never),
      ],
      [
        'select in an upsert',
        () =>
          h.prisma.user.upsert({
            where: { id: userId },
            create: newUser(),
            update: {},
            select: { posts: { take: typed } },
          } as never),
      ],
      ['count: select a relation', () => h.prisma.user.count({ select: { posts: typed } } as never)],
      ['aggregate: _count a relation', () => h.prisma.user.aggregate({ _count: { posts: typed } } as never)],
      ['groupBy: by a string', () => h.prisma.user.groupBy({ by: typed } as never)],
      ['groupBy: by strings', () => h.prisma.user.groupBy({ by: ['tenantId', typed] } as never)],
      [
        'groupBy: having a relation',
        () => h.prisma.user.groupBy({ by: ['tenantId'], having: { posts: typed } } as never),
      ],
      [
        'groupBy: orderBy a relation',
        () => h.prisma.user.groupBy({ by: ['tenantId'], orderBy: { posts: typed } } as never),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it("under a related model's encrypted field, where hushfield or Prisma refuses it", async () => {
    const born = new Date('1971-02-03T04:05:06.789Z');
    const includePosts = (posts: unknown) => () => h.prisma.user.findMany({ include: { posts } } as never);
    const shapes: [string, () => Promise<unknown>][] = [
      ['include: a range on body', includePosts({ where: { body: { gt: typed } } })],
      ['include: orderBy body', includePosts({ orderBy: { body: typed } })],
      ['include: cursor on body', includePosts({ cursor: { body: typed } })],
      [
        'select: body given a string',
        () => h.prisma.user.findMany({ select: { posts: { select: { body: typed } } } } as never),
      ],
      [
        'some: contains on body',
        () => h.prisma.user.findMany({ where: { posts: { some: { body: { contains: typed } } } } } as never),
      ],
      [
        'count: startsWith on body',
        () => h.prisma.user.count({ where: { posts: { none: { body: { startsWith: typed } } } } } as never),
      ],
      [
        'orderBy: a to-one encrypted field',
        () => h.prisma.post.findMany({ orderBy: { author: { email: typed } } } as never),
      ],
      [
        'groupBy: having an encrypted field',
        () => h.prisma.user.groupBy({ by: ['tenantId'], having: { email: typed } } as never),
      ],
      ['aggregate: _min of an encrypted field', () => h.prisma.user.aggregate({ _min: { email: typed } } as never)],
      [
        'nested create: body a date',
        () =>
          h.prisma.user.update({
            where: { id: userId },
            data: { posts: { create: { title: 't', body: born, note: typed } } },
          } as never),
      ],
      [
        'nested set: a date',
        () => h.prisma.user.update({ where: { id: userId }, data: { posts: { set: [born, typed] } } } as never),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it('through the fluent API, and as numbers and dates', async () => {
    const one = () => h.prisma.user.findUnique({ where: { id: userId } });
    const shapes: [string, () => Promise<unknown>][] = [
      ['fluent: where a string', () => one().posts({ where: typed } as never)],
      ['fluent: set in where', () => one().posts({ where: { author: { set: typed } } } as never)],
      ['fluent: orderBy a string', () => one().posts({ orderBy: typed } as never)],
      ['fluent: take a string', () => one().posts({ take: typed } as never)],
      [
        'fluent to-one: select a string',
        () => h.prisma.post.findFirst({ where: { id: postId } }).author({ select: { name: typed } } as never),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
    // Built, so that the source lines Prisma quotes do not hold them.
    const pin = Number(['42424', '24242'].join(''));
    const born = new Date(Date.UTC(1971, 1, 3, 4, 5, 6, 789));
    // Printed by Prisma as `3131313131n` and `new Prisma.Decimal("5757.7575")`.
    const big = BigInt(['31313', '13131'].join(''));
    const amount = new Prisma.Decimal(['5757', '7575'].join('.'));
    for (const value of [pin, born, big, amount]) {
      for (const call of [
        () => h.prisma.user.update({ where: { id: userId }, data: { posts: { set: value } } } as never),
        () => h.prisma.user.findMany({ where: { posts: { some: value } } } as never),
        () => h.prisma.user.findMany({ include: { posts: { orderBy: value } } } as never),
        () => h.prisma.user.findMany({ include: { posts: { skip: born } } } as never),
      ]) {
        const text = everything(await call().catch((e: unknown) => e));
        for (const secret of [String(pin), born.toISOString().slice(0, 10), String(big), amount.toFixed()])
          expect([secret, text.includes(secret)]).toEqual([secret, false]);
      }
    }
  });

  it('under a self relation and a many-to-many one', async () => {
    const folder = () => ({ tenantId: 'acme', name: 'f', nameIdx: computedBlindIndex });
    const shapes: [string, () => Promise<unknown>][] = [
      [
        'self: children set',
        () => h.prisma.folder.create({ data: { ...folder(), children: { set: typed } } } as never),
      ],
      [
        'self: parent connect',
        () => h.prisma.folder.create({ data: { ...folder(), parent: { connect: typed } } } as never),
      ],
      ['self: children some', () => h.prisma.folder.findMany({ where: { children: { some: typed } } } as never)],
      ['self: parent is', () => h.prisma.folder.findMany({ where: { parent: { is: typed } } } as never)],
      [
        'many-to-many: labels set',
        () => h.prisma.folder.create({ data: { ...folder(), labels: { set: typed } } } as never),
      ],
      [
        'many-to-many: labels include orderBy',
        () => h.prisma.folder.findMany({ include: { labels: { orderBy: typed } } } as never),
      ],
      [
        'many-to-many: folders disconnect',
        () => h.prisma.label.updateMany({ where: {}, data: { folders: { disconnect: typed } } } as never),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it('in batch and interactive transactions', async () => {
    const shapes: [string, () => Promise<unknown>][] = [
      [
        'batch: set under a relation filter',
        () => h.prisma.$transaction([h.prisma.user.findMany({ where: { posts: { set: typed } } } as never)]),
      ],
      [
        'batch: nested set',
        () =>
          h.prisma.$transaction([
            h.prisma.user.update({ where: { id: userId }, data: { posts: { set: typed } } } as never),
          ]),
      ],
      [
        'interactive: include orderBy',
        () => h.prisma.$transaction((tx) => tx.user.findMany({ include: { posts: { orderBy: typed } } } as never)),
      ],
      [
        'interactive: nested disconnect',
        () =>
          h.prisma.$transaction((tx) =>
            tx.user.update({ where: { id: userId }, data: { posts: { disconnect: typed } } } as never),
          ),
      ],
    ];
    expect(await leaks(shapes)).toEqual([]);
  });

  it('keeps the values of fields that are not encrypted, directions, counts and field names, and what Prisma points at', async () => {
    const error = (await h.prisma.user
      .findMany({
        where: { name: 'kept-name', posts: { set: typed } },
        include: {
          posts: { where: { title: 'kept-title' }, orderBy: { title: 'desc' }, take: 37 },
          _count: { select: { posts: { where: { title: 'kept-count' } } } },
        },
        distinct: ['tenantId'],
      } as never)
      .catch((e: unknown) => e)) as Error;
    expect(everything(error)).not.toContain(typed);
    expect(error.message).toContain('Unknown argument `set`');
    for (const kept of ['"kept-name"', '"kept-title"', '"desc"', 'take: 37', '"tenantId"', '"kept-count"'])
      expect([kept, error.message.includes(kept)]).toEqual([kept, true]);
  });
});
