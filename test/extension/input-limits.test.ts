import { computedBlindIndex } from '@hushfield/prisma';
import { InvalidArgumentError } from '@hushfield/core';
import { createHarness, type Harness } from './support';

/** 16 MiB, the largest plaintext an envelope holds. */
const MAX_PLAINTEXT_BYTES = 16 * 1024 * 1024;

describe('fieldEncryption: refuses values it cannot encrypt or look up, before any query', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Fay', email: 'fay@example.com' },
    });
    // A row whose email holds U+FFFD, what a lone surrogate becomes in UTF-8.
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Rex', email: 'a\uFFFD@example.com' },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  /** Runs `fn`, expects an InvalidArgumentError naming `argument`, and that no query was sent. */
  async function refuses(fn: () => Promise<unknown>, argument: string): Promise<InvalidArgumentError> {
    const sent = h.queries.length;
    const error = await fn().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', argument });
    expect(h.queries.length).toBe(sent);
    return error as InvalidArgumentError;
  }

  async function keyRows(scope: string): Promise<number> {
    return (await h.db.query('SELECT 1 FROM "hushfield_keys" WHERE "scope" = $1', [scope])).length;
  }

  it('refuses a write with a lone surrogate without creating a key for a new scope', async () => {
    const error = await refuses(
      () =>
        h.prisma.user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'surrogate-tenant', name: 'X', email: 'x\uD800@example.com' },
        }),
      'User.email',
    );
    expect(error.message).not.toContain('example.com');
    expect(await keyRows('surrogate-tenant')).toBe(0);
  });

  it('refuses an oversized write without creating a key for a new scope', async () => {
    const big = 'a'.repeat(MAX_PLAINTEXT_BYTES + 1);
    const error = await refuses(
      () =>
        h.prisma.user.create({
          data: {
            emailIdx: computedBlindIndex,
            tenantId: 'oversized-tenant',
            name: 'X',
            email: 'fay@example.com',
            notes: big,
          },
        }),
      'User.notes',
    );
    expect(error.message.length).toBeLessThan(500);
    expect(await keyRows('oversized-tenant')).toBe(0);
  });

  it('refuses oversized and lone-surrogate values in updates, nested and batch writes', async () => {
    await refuses(
      () => h.prisma.user.updateMany({ where: { tenantId: 'acme' }, data: { notes: '\uDFFF' } }),
      'User.notes',
    );
    await refuses(
      () => h.prisma.user.createMany({ data: [{ tenantId: 'batch-tenant', name: 'B', email: 'b\uDBFF' }] }),
      'User.email',
    );
    await refuses(
      () =>
        h.prisma.user.create({
          data: { tenantId: 'nested-tenant', name: 'N', posts: { create: { title: 't', body: '\uD83D' } } },
        }),
      'Post.body',
    );
    expect(await keyRows('batch-tenant')).toBe(0);
    expect(await keyRows('nested-tenant')).toBe(0);
  });

  it('refuses a lookup with a lone surrogate (it would match rows holding U+FFFD)', async () => {
    await refuses(() => h.prisma.user.findFirst({ where: { email: 'a\uD800@example.com' } }), 'User.email');
    await refuses(
      () => h.prisma.user.findMany({ where: { email: { in: ['fay@example.com', 'a\uDC00@example.com'] } } }),
      'User.email',
    );
    await refuses(() => h.prisma.user.findUnique({ where: { emailIdx: 'a\uD800@example.com' } }), 'User.email');
    await refuses(
      () => h.prisma.user.count({ where: { OR: [{ name: 'Rex' }, { email: { not: '\uD800' } }] } }),
      'User.email',
    );
  });

  it('refuses an oversized lookup', async () => {
    await refuses(
      () => h.prisma.user.findFirst({ where: { email: 'a'.repeat(MAX_PLAINTEXT_BYTES + 1) } }),
      'User.email',
    );
  });

  it('still finds the row holding U+FFFD by its own value', async () => {
    const row = await h.prisma.user.findFirst({ where: { email: 'a\uFFFD@example.com' } });
    expect(row?.name).toBe('Rex');
  });
});
