import { casTransactionOptions, isWriteConflict, retryConflicts } from './cas-writer';

/** An error as Prisma reports a raw statement's failure from a driver adapter. */
const rawFailure = (kind: string, originalCode: string) =>
  Object.assign(new Error('Raw query failed'), {
    code: 'P2010',
    meta: { driverAdapterError: { cause: { kind, originalCode } } },
  });

describe('isWriteConflict', () => {
  test('a serialization failure or deadlock, as Prisma or the driver reports it', () => {
    expect(isWriteConflict(Object.assign(new Error('write conflict'), { code: 'P2034' }))).toBe(true);
    expect(isWriteConflict(rawFailure('TransactionWriteConflict', '40P01'))).toBe(true);
    expect(isWriteConflict(rawFailure('postgres', '40001'))).toBe(true);
    expect(isWriteConflict(rawFailure('mysql', '1213'))).toBe(true);
  });

  test('anything else is not', () => {
    expect(isWriteConflict(Object.assign(new Error('unique'), { code: 'P2002' }))).toBe(false);
    expect(isWriteConflict(rawFailure('UniqueConstraintViolation', '23505'))).toBe(false);
    expect(isWriteConflict(rawFailure('mysql', '1205'))).toBe(false);
    expect(isWriteConflict(new Error('40001'))).toBe(false);
    expect(isWriteConflict(undefined)).toBe(false);
    expect(isWriteConflict(null)).toBe(false);
  });
});

describe('retryConflicts', () => {
  test('runs a transaction lost to a conflict again, and returns what the next run returns', async () => {
    let runs = 0;
    const result = await retryConflicts(async () => {
      runs++;
      if (runs < 3) throw rawFailure('TransactionWriteConflict', '40P01');
      return 'written';
    });
    expect(result).toBe('written');
    expect(runs).toBe(3);
  });

  test('gives up after 5 runs, with the last error', async () => {
    let runs = 0;
    const last = rawFailure('TransactionWriteConflict', '40001');
    await expect(
      retryConflicts(async () => {
        runs++;
        throw runs === 5 ? last : rawFailure('TransactionWriteConflict', '40001');
      }),
    ).rejects.toBe(last);
    expect(runs).toBe(5);
  });

  test('never runs again a transaction that failed otherwise', async () => {
    let runs = 0;
    const unique = Object.assign(new Error('unique'), { code: 'P2002' });
    await expect(
      retryConflicts(async () => {
        runs++;
        throw unique;
      }),
    ).rejects.toBe(unique);
    expect(runs).toBe(1);
  });
});

describe('casTransactionOptions', () => {
  test('read committed on PostgreSQL, nothing elsewhere', () => {
    expect(casTransactionOptions({ _activeProvider: 'postgresql' })).toEqual({ isolationLevel: 'ReadCommitted' });
    expect(casTransactionOptions({ _activeProvider: 'mysql' })).toEqual({});
    expect(casTransactionOptions({ _activeProvider: 'sqlite' })).toEqual({});
    expect(casTransactionOptions({})).toEqual({});
  });
});
