import { computedBlindIndex } from '@hushfield/prisma';
import { skip } from '@prisma/client/runtime/client';
import { createHarness, expectNoPlaintextIn, type Harness } from './support';

/**
 * `Prisma.skip` leaves a property out, as if it were not written (`ssn: input.ssn ?? Prisma.skip`):
 * on an encrypted field, in a where or a selection, the extension reads it the same way.
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
});
