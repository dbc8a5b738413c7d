import { isUniqueViolation, isWriteConflict } from './prisma-errors';

describe('Prisma error recognition', () => {
  it('recognises a unique-constraint violation by its P2002 code', () => {
    expect(isUniqueViolation(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBe(true);
    expect(isUniqueViolation(Object.assign(new Error('x'), { code: 'P2034' }))).toBe(false);
  });

  it('recognises a lost write conflict by its P2034 code', () => {
    expect(isWriteConflict({ code: 'P2034' })).toBe(true);
    expect(isWriteConflict({ code: 'P2002' })).toBe(false);
  });

  it.each([null, undefined, 'P2002', 2002, new Error('P2002'), { code: 2002 }])('ignores %p', (value) => {
    expect(isUniqueViolation(value)).toBe(false);
    expect(isWriteConflict(value)).toBe(false);
  });
});
