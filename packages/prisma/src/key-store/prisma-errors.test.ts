import { isExpiredTransaction, isUniqueViolation, isUnstartedTransaction, isWriteConflict } from './prisma-errors';

describe('Prisma error recognition', () => {
  it('recognises a unique-constraint violation by its P2002 code', () => {
    expect(isUniqueViolation(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBe(true);
    expect(isUniqueViolation(Object.assign(new Error('x'), { code: 'P2034' }))).toBe(false);
  });

  it('recognises a lost write conflict by its P2034 code', () => {
    expect(isWriteConflict({ code: 'P2034' })).toBe(true);
    expect(isWriteConflict({ code: 'P2002' })).toBe(false);
  });

  it("recognises SQLite's SQLITE_BUSY under P1008, as better-sqlite3 and libSQL report it", () => {
    const busy = (cause: Record<string, unknown>) => ({ code: 'P1008', meta: { driverAdapterError: { cause } } });
    expect(isWriteConflict(busy({ originalCode: 'SQLITE_BUSY' }))).toBe(true);
    expect(isWriteConflict(busy({ originalCode: 'SQLITE_BUSY_SNAPSHOT' }))).toBe(true);
    // libSQL: the numeric code, the name at the start of the message.
    expect(isWriteConflict(busy({ originalCode: '5', originalMessage: 'SQLITE_BUSY: database is locked' }))).toBe(true);
    expect(isWriteConflict(busy({ originalCode: '5', originalMessage: 'database is locked' }))).toBe(false);
    expect(isWriteConflict(busy({ originalCode: '1', originalMessage: 'SQLITE_ERROR: no such table' }))).toBe(false);
    expect(isWriteConflict({ code: 'P1008' })).toBe(false);
  });

  it('tells a transaction that never started (P2028, pool busy past maxWait) from one that ran too long', () => {
    const p2028 = (message: string) => Object.assign(new Error(message), { code: 'P2028' });
    const unstarted = p2028('Transaction API error: Unable to start a transaction in the given time.');
    const expired = p2028('Transaction already closed: A query cannot be executed on an expired transaction.');
    expect([isExpiredTransaction(unstarted), isUnstartedTransaction(unstarted)]).toEqual([true, true]);
    expect([isExpiredTransaction(expired), isUnstartedTransaction(expired)]).toEqual([true, false]);
    const otherCode = Object.assign(new Error('Unable to start a transaction in the given time.'), { code: 'P2034' });
    expect(isUnstartedTransaction(otherCode)).toBe(false);
    expect(isUnstartedTransaction({ code: 'P2028' })).toBe(false);
  });

  it.each([null, undefined, 'P2002', 2002, new Error('P2002'), { code: 2002 }])('ignores %p', (value) => {
    expect(isUniqueViolation(value)).toBe(false);
    expect(isWriteConflict(value)).toBe(false);
    expect(isUnstartedTransaction(value)).toBe(false);
  });
});
