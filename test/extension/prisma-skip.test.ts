import { InvalidArgumentError } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import { skip } from '@prisma/client/runtime/client';
import { createHarness, expectNoPlaintextIn, type Harness } from './support';

/**
 * `Prisma.skip` leaves a property out, as if it were not written (`ssn: input.ssn ?? Prisma.skip`):
 * on an encrypted field, in a where or a selection, the extension reads it the same way. Where
 * Prisma 7 refuses it (as a list element, a `Json` value's included, and as a `select`, which
 * selects nothing), the extension refuses it too, before any query, instead of sealing or reading
 * something else. Each case is checked against plain Prisma on a column hushfield leaves alone.
 */
describe('fieldEncryption with Prisma.skip', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  // Prisma.skip is typed only under the strictUndefinedChecks preview feature; its runtime takes it always.
  const skipped = skip as never;

  it('writes nothing to a field set to Prisma.skip, in a create, an update and a nested create', async () => {
    const user = await h.prisma.user.create({
      data: { tenantId: 'skip', name: 'S', email: 'skip@example.com', emailIdx: computedBlindIndex, ssn: skipped },
    });
    expect(user).toMatchObject({ email: 'skip@example.com', ssn: null, ssnIdx: null });
    await h.prisma.user.update({ where: { id: user.id }, data: { ssn: '123-45-6789' } });
    const updated = await h.prisma.user.update({ where: { id: user.id }, data: { ssn: skipped, name: 'T' } });
    expect(updated).toMatchObject({ name: 'T', ssn: '123-45-6789' });
    const withPost = await h.prisma.user.update({
      where: { id: user.id },
      data: { posts: { create: { title: 'post', body: 'body of post', published: skipped } } },
      include: { posts: true },
    });
    expect(withPost.posts).toHaveLength(1);
    await expectNoPlaintextIn(h.db, 'users', ['skip@example.com', '123-45-6789']);
  });

  it('leaves a where condition or a selection set to Prisma.skip out', async () => {
    await h.prisma.ticket.create({ data: { tenantId: 'skip-t', subject: 'subject of skip', detail: skipped } });
    const found = await h.prisma.ticket.findMany({ where: { tenantId: 'skip-t', subject: skipped } });
    expect(found.map((ticket) => ticket.subject)).toEqual(['subject of skip']);
    const selected = await h.prisma.ticket.findFirstOrThrow({
      where: { tenantId: 'skip-t' },
      select: { subject: true, detail: skipped },
    });
    expect(selected).toEqual({ subject: 'subject of skip' });
    expect(
      await h.prisma.user.findUnique({
        where: { email: 'skip@example.com', tenantId: skipped },
        select: { ssn: true },
      }),
    ).toEqual({ ssn: '123-45-6789' });
  });

  /** Runs `fn`, expects hushfield's InvalidArgumentError naming `argument`, and that no query was sent. */
  async function refuses(fn: () => Promise<unknown>, argument: string, plaintexts: readonly string[] = []) {
    const sent = h.queries.length;
    const error = await fn().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', argument });
    for (const plain of plaintexts) expect((error as Error).message).not.toContain(plain);
    expect(h.queries.length).toBe(sent);
  }

  /** The same value written to a plain Json column by Prisma alone: what Prisma makes of it. */
  async function plainPrisma(detail: unknown): Promise<unknown> {
    const event = await h.base.hushfieldAuditEvent.create({
      data: { time: new Date(0), operation: 'skip-probe', outcome: 'ok', detail: detail as never },
    });
    return event.detail;
  }

  it("leaves a Json value's properties set to Prisma.skip out, as Prisma does with a plain Json column", async () => {
    const body = { a: skipped, kept: [{ c: skipped, d: 'Json secret' }] };
    expect(await plainPrisma(body)).toEqual({ kept: [{ d: 'Json secret' }] });
    const doc = await h.prisma.document.create({ data: { tenantId: 'skip', title: 'json', body: body as never } });
    expect(doc.body).toEqual({ kept: [{ d: 'Json secret' }] });
    const updated = await h.prisma.document.update({ where: { id: doc.id }, data: { body: { b: skipped } as never } });
    expect(updated.body).toEqual({});
    expect((await h.fresh().prisma.document.findUniqueOrThrow({ where: { id: doc.id } })).body).toEqual({});
    await expectNoPlaintextIn(h.db, 'documents', ['Json secret']);
  });

  it('refuses Prisma.skip as a list element of an encrypted Json value, as Prisma does, before any query', async () => {
    await expect(plainPrisma([1, skipped])).rejects.toThrow(/Can not use `Prisma.skip` value within array/);
    const before = await h.prisma.document.count();
    await refuses(
      () => h.prisma.document.create({ data: { tenantId: 'skip', title: 'j', body: [1, skipped] as never } }),
      'data',
    );
    const { id } = await h.prisma.document.create({ data: { tenantId: 'skip', title: 'j', body: { v: 1 } } });
    const secrets = ['secret-key', 'Grace Hopper'];
    const body = { 'secret-key': ['Grace Hopper', skipped] } as never;
    await refuses(() => h.prisma.document.update({ where: { id }, data: { meta: body } }), 'data', secrets);
    await refuses(
      () => h.prisma.document.upsert({ where: { id }, create: { tenantId: 'skip', title: 'j', body }, update: {} }),
      'create',
      secrets,
    );
    await refuses(
      () =>
        h.prisma.document.createMany({
          data: [{ tenantId: 'skip', title: 'j', body: { list: [[skipped]] } as never }],
        }),
      'data',
    );
    expect(await h.prisma.document.count()).toBe(before + 1);
    expect((await h.prisma.document.findUniqueOrThrow({ where: { id } })).body).toEqual({ v: 1 });
  });

  it('refuses select: Prisma.skip, which Prisma reads as an empty select, before any query', async () => {
    await expect(h.base.ticket.findFirst({ select: skipped })).rejects.toThrow(/must not be empty/);
    await expect(h.base.ticket.findFirst({ include: { _count: { select: skipped } } })).rejects.toThrow(
      /must not be empty/,
    );
    await refuses(() => h.prisma.ticket.findFirst({ where: { tenantId: 'skip-t' }, select: skipped }), 'select');
    await refuses(() => h.prisma.ticket.updateMany({ data: { detail: 'x' }, select: skipped } as never), 'select');
    await refuses(() => h.prisma.user.findMany({ include: { posts: { select: skipped } } }), 'include.posts.select');
    await refuses(
      () => h.prisma.post.findMany({ select: { title: true, author: { select: skipped } } }),
      'select.author.select',
    );
    await refuses(() => h.prisma.user.findFirst({ include: { _count: { select: skipped } } }), 'include._count.select');
    const user = await h.prisma.user.findFirstOrThrow({ where: { email: 'skip@example.com' } });
    await refuses(
      () => h.prisma.user.findUnique({ where: { id: user.id } }).posts({ select: skipped }),
      'select.posts.select',
    );
  });

  it('reads include or omit set to Prisma.skip as not given, as Prisma does', async () => {
    const where = { email: 'skip@example.com' };
    const user = await h.prisma.user.findFirstOrThrow({ where });
    expect(await h.prisma.user.findFirstOrThrow({ where, include: skipped })).toEqual(user);
    expect(await h.prisma.user.findFirstOrThrow({ where, omit: skipped })).toEqual(user);
    expect(await h.prisma.user.findFirstOrThrow({ where, include: { posts: skipped } })).toEqual(user);
    // Plain Prisma returns every scalar field for each too (its ciphertext included, undecrypted).
    const base = await h.base.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(await h.base.user.findUniqueOrThrow({ where: { id: user.id }, include: skipped })).toEqual(base);
    expect(await h.base.user.findUniqueOrThrow({ where: { id: user.id }, omit: skipped })).toEqual(base);
  });
});
