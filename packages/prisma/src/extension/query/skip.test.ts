import { skip } from '@prisma/client/runtime/client';
import { isSkip, withoutSkips } from './skip';

describe('withoutSkips', () => {
  it('takes out properties set to Prisma.skip at any depth, copying only what changes', () => {
    const untouched = { tenantId: 't' };
    const args = {
      where: { id: 1, email: skip },
      data: { ssn: skip, name: 'n', posts: { create: [{ body: skip, title: 'x' }, untouched] } },
      select: untouched,
    };
    const out = withoutSkips(args);
    expect(out).toEqual({
      where: { id: 1 },
      data: { name: 'n', posts: { create: [{ title: 'x' }, untouched] } },
      select: untouched,
    });
    expect(out.select).toBe(untouched);
    expect(out.data.posts.create[1]).toBe(untouched);
    // The caller's arguments are left as they were.
    expect(args.where.email).toBe(skip);
  });

  it('returns arguments without Prisma.skip as they are', () => {
    const args = { where: { id: 1, AND: [{ a: null }] }, data: { bytes: Buffer.from('x'), at: new Date(0) } };
    expect(withoutSkips(args)).toBe(args);
  });

  it('tells Prisma.skip by its shape, and nothing else', () => {
    expect(isSkip(skip)).toBe(true);
    for (const value of [undefined, null, 'skip', {}, { ifUndefined: () => 1 }, [], new Date(0), Buffer.from('')]) {
      expect(isSkip(value)).toBe(false);
    }
  });
});
