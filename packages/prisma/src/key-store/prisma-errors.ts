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

/** P2034: the transaction lost a write conflict or deadlock to a concurrent one. */
export function isWriteConflict(error: unknown): boolean {
  return codeOf(error) === 'P2034';
}
