import { InvalidArgumentError } from '@hushfield/core';
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

  it('takes out Prisma.skip properties inside a Json value, as Prisma does', () => {
    expect(withoutSkips({ data: { body: { a: skip, b: [{ c: skip, d: 1 }] } } })).toEqual({
      data: { body: { b: [{ d: 1 }] } },
    });
  });

  it('refuses Prisma.skip as an element of a list, naming the argument and no value', () => {
    for (const [args, argument] of [
      [{ data: { body: [1, skip] } }, 'data'],
      [{ data: { body: { 'secret key': { inner: ['secret value', skip] } } } }, 'data'],
      [{ where: { name: { in: ['a', skip] } } }, 'where'],
      [{ data: [{ name: 'a' }, skip] }, 'data'],
    ] as const) {
      const error = catchError(() => withoutSkips(args));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', argument });
      expect((error as Error).message).not.toMatch(/secret/);
    }
  });

  it('refuses select: Prisma.skip in a read or a nested read, which Prisma reads as an empty select', () => {
    for (const [args, argument] of [
      [{ select: skip }, 'select'],
      [{ where: { id: 1 }, include: { posts: { select: skip } } }, 'include.posts.select'],
      [
        { select: { name: true, posts: { include: { author: { select: skip } } } } },
        'select.posts.include.author.select',
      ],
      [{ select: { _count: { select: skip } } }, 'select._count.select'],
    ] as const) {
      const error = catchError(() => withoutSkips(args));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ argument });
    }
  });

  it('takes out include, omit and a relation set to Prisma.skip, which Prisma reads as not given', () => {
    expect(withoutSkips({ include: skip, omit: skip })).toEqual({});
    expect(withoutSkips({ select: { name: true, posts: skip }, where: { select: skip } })).toEqual({
      select: { name: true },
      where: {},
    });
  });

  it('tells Prisma.skip by its shape, and nothing else', () => {
    expect(isSkip(skip)).toBe(true);
    for (const value of [undefined, null, 'skip', {}, { ifUndefined: () => 1 }, [], new Date(0), Buffer.from('')]) {
      expect(isSkip(value)).toBe(false);
    }
  });
});

/** The error `fn` throws. */
function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
