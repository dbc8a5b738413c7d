/**
 * Recognises the Prisma errors the key store turns into `KeyConflictError`. Matched by their
 * stable Prisma error codes, because the error classes belong to the application's generated
 * client, which this package cannot import.
 */

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** P2002: a unique constraint refused the write (another writer stored that key version). */
export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === 'P2002';
}

/**
 * P2028: the store's own transaction ended (it ran past its timeout, e.g. waiting for a lock
 * another connection held on the key table) before it committed; nothing was stored.
 */
export function isExpiredTransaction(error: unknown): boolean {
  return codeOf(error) === 'P2028';
}

/**
 * P2028 before the transaction began: no connection of the client's pool came free within the
 * transaction's `maxWait`. Told from a transaction that ran too long only by Prisma's message.
 */
export function isUnstartedTransaction(error: unknown): boolean {
  const message = isExpiredTransaction(error) ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' && /unable to start a transaction/i.test(message);
}

/**
 * P2034: the transaction lost a write conflict or deadlock to a concurrent one. On SQLite the
 * same loss arrives as `SQLITE_BUSY` or `SQLITE_BUSY_SNAPSHOT` (a read transaction that another
 * connection's write overtook cannot become a write transaction), which Prisma reports as a
 * timeout (P1008): better-sqlite3 gives that name as the code, libSQL its number (5, or 517 for
 * the snapshot case) and the name at the start of its message.
 */
export function isWriteConflict(error: unknown): boolean {
  if (codeOf(error) === 'P2034') return true;
  const cause = driverCause(error);
  return [cause?.originalCode, cause?.originalMessage].some(
    (text) => typeof text === 'string' && text.startsWith('SQLITE_BUSY'),
  );
}

/**
 * P2000: a value is longer than its column holds (MySQL's default `VARCHAR(191)`). @returns the
 * column's database name when the driver named it, `''` when it did not, `undefined` for any
 * other error.
 */
export function tooLongColumn(error: unknown): string | undefined {
  if (codeOf(error) !== 'P2000') return undefined;
  const column = driverCause(error)?.column;
  return typeof column === 'string' ? column : '';
}

interface DriverCause {
  readonly originalCode?: unknown;
  readonly originalMessage?: unknown;
  readonly column?: unknown;
}

/** What the database itself reported under a Prisma error from a driver adapter, if anything. */
function driverCause(error: unknown): DriverCause | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { meta?: { driverAdapterError?: { cause?: DriverCause } } }).meta?.driverAdapterError?.cause;
}
