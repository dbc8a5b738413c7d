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
 * P2034: the transaction lost a write conflict or deadlock to a concurrent one. On SQLite the
 * same loss arrives as `SQLITE_BUSY` or `SQLITE_BUSY_SNAPSHOT` (a read transaction that another connection's write
 * overtook cannot become a write transaction), which Prisma reports as a timeout (P1008).
 */
export function isWriteConflict(error: unknown): boolean {
  const driver = driverCode(error);
  return codeOf(error) === 'P2034' || (typeof driver === 'string' && driver.startsWith('SQLITE_BUSY'));
}

/** The database's own error code under a Prisma error from a driver adapter, if any. */
function driverCode(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const adapterError = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta
    ?.driverAdapterError;
  return adapterError?.cause?.originalCode;
}
