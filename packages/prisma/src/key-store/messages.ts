/**
 * The key store's messages. They name models, kinds, scopes, key ids and versions, which are
 * not secret, and never a wrapped key.
 */

/** Key-store messages, by problem. */
export const messages = {
  invalidArgument: (argument: string, requirement: string) => `${argument} ${requirement}`,
  nulInScope: (why: string) =>
    `must not contain a NUL character (U+0000): ${why}, so no key of such a scope ` +
    'can be stored (a scope comes from the scope field of the row written or looked up)',
  noModel: (model: string) =>
    `the Prisma client has no model ${model}: add the key-store model to the schema ` +
    "(see @hushfield/prisma's docs/key-store.md) and run prisma generate",
  alreadyActive: (kind: string, scope: string) => `a ${kind} key for scope "${scope}" is already active`,
  rotateLost: (kind: string, scope: string, version: number) =>
    `cannot rotate ${kind} key for scope "${scope}" to version ${version}: version ${version - 1} ` +
    'is not the active one (another writer rotated first)',
  promoteLost: (kind: string, scope: string, version: number) =>
    `cannot promote ${kind} key for scope "${scope}" version ${version}: it is not pending after an active ` +
    `version ${version - 1} (another writer promoted or rotated first); nothing changed`,
  versionExists: (operation: string, kind: string, scope: string, version: number) =>
    `cannot ${operation} ${kind} key for scope "${scope}" version ${version}: that version already exists ` +
    '(another writer created it first)',
  writeConflict: (operation: string, kind: string, scope: string, version: number) =>
    `cannot ${operation} ${kind} key for scope "${scope}" version ${version}: a concurrent transaction held the ` +
    'key table (a deadlock or write conflict, or SQLite busy: another connection holds the write lock); ' +
    'nothing was stored',
  tooLong: (model: string, argument: string, length: number | undefined) =>
    `${argument}${length === undefined ? '' : ` (${length} characters)`} is longer than its column in ${model} ` +
    'holds (on MySQL a String column is VARCHAR(191) unless declared longer); the key was not stored',
  expired: (operation: string, kind: string, scope: string, version: number, timeoutMs: number) =>
    `cannot ${operation} ${kind} key for scope "${scope}" version ${version}: the key store's transaction ` +
    `ran past its ${timeoutMs} ms (another connection held a lock on the key table; PrismaKeyStore's ` +
    'timeoutMs sets the limit); nothing was stored',
  notStarted: (operation: string, kind: string, scope: string, version: number, maxWaitMs: number) =>
    `cannot ${operation} ${kind} key for scope "${scope}" version ${version}: the key store's transaction ` +
    `could not start within ${maxWaitMs} ms (every connection of the client's pool stayed busy; a larger ` +
    "pool or PrismaKeyStore's maxWaitMs lets it wait); nothing was stored",
  storedOtherwise: (model: string, argument: string, length: number) =>
    `${argument} (${length} characters) came back from ${model} otherwise than given: its column cut it to fit ` +
    '(MySQL without a strict sql_mode: a String column is VARCHAR(191) unless declared longer) or changed it; ' +
    'the key was not stored',
  badRow: (model: string, keyId: string, version: number) =>
    `${model} row for key ${keyId} version ${version} has an unknown kind or state; the key store was edited by hand`,
} as const;
