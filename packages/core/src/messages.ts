/**
 * The catalog every hushfield error message comes from. Messages name arguments, keys
 * (id, scope, version) and locations (model, field, row id), which are not secret; they never
 * receive key material, ciphertext or plaintext, so none can leak through them.
 */

/** Formats a value location as ` (model.field, row r)` for messages; empty when unknown. */
function where(location: { model?: string; field?: string; rowId?: string }): string {
  if (location.model === undefined && location.field === undefined) return '';
  const row = location.rowId === undefined ? '' : `, row ${location.rowId}`;
  return ` (${location.model ?? '?'}.${location.field ?? '?'}${row})`;
}

/** Error messages, by error. */

/** Why a key store answers for a scope other than the one asked, and what to do about it. */
const SAME_SCOPES =
  ' (the key table compares the two scopes as equal: give its scope column a binary collation that does not ignore' +
  " trailing spaces, such as MySQL's utf8mb4_0900_bin or MariaDB's utf8mb4_nopad_bin, or write each scope in one form)";

export const messages = {
  invalidArgument: (argument: string, requirement: string) => `${argument} ${requirement}`,
  // Names the type only: an options argument given by mistake may be a secret (a key, a PIN).
  optionsNotObject: (owner: string, got: string, optional: boolean) =>
    `${owner}: options must be an object${optional ? ' (or left out)' : ''}, got ${got}`,

  envelope: (reason: string) => `not a valid hushfield envelope: ${reason}`,
  unsupportedFormat: (version: number) => `unsupported hushfield envelope format version ${version}`,

  decryptionFailed: (location: { model?: string; field?: string; rowId?: string }) =>
    `value failed to decrypt${where(location)}: it was tampered with, moved to another ` +
    'row, field or model, or encrypted under another key',
  keyStoreFailed: (keyId: string, version: number, location: { model?: string; field?: string; rowId?: string }) =>
    `the key store failed while reading key ${keyId} version ${version}${where(location)}; ` +
    'the value was not read (retry when the database answers)',
  otherScope: (location: { model?: string; field?: string; rowId?: string; scope?: string }, keyId: string) =>
    `value is sealed under key ${keyId}, which is not a key of its row's scope "${location.scope}"${where(location)}: ` +
    "it was copied from another scope's row, or the row's scope column was changed outside the extension",
  scopeUnknown: (location: { model?: string; field?: string; rowId?: string }, keyId: string, version: number) =>
    `the scope of key ${keyId} version ${version} could not be established${where(location)} ` +
    '(the key left the cache during the read); read the value again',
  dekUnwrapFailed: (location: { model?: string; field?: string; rowId?: string }) =>
    `the value's data key failed to unwrap${where(location)}: the envelope was tampered with ` +
    'or its key store entry does not match it',

  scopeDestroyed: (scope: string, keyId: string, version: number) =>
    `scope "${scope}" was destroyed (crypto-shredded): key ${keyId} version ${version} ` +
    'no longer exists and its values can never be decrypted again',
  scopeDestroyedForWrite: (scope: string) =>
    `scope "${scope}" was destroyed (crypto-shredded); create it again explicitly with createScope to write new values`,
  keyNotFound: (keyId: string, version?: number) =>
    version === undefined ? `no key ${keyId} in the key store` : `no key ${keyId} version ${version} in the key store`,
  scopeNotFound: (kind: string, scope: string) => `no ${kind} key for scope "${scope}" in the key store`,
  keyStoreOtherScope: (
    kind: string,
    scope: string,
    answered: { kind: string; scope: string; state: string },
    refused: string,
  ) =>
    `the key store answered the ${answered.state} ${answered.kind} key of scope "${answered.scope}" when asked for the active ${kind} key of scope "${scope}": ${refused}` +
    (answered.scope === scope ? '' : SAME_SCOPES),
  keyStoreOtherScopeListed: (scope: string, listed: string) =>
    `the key store listed keys of scope "${listed}" when asked for those of scope "${scope}": nothing was destroyed${SAME_SCOPES}`,
  wrongKind: (keyId: string, version: number, expected: string) =>
    `key ${keyId} version ${version} is not a ${expected} key`,
  scopeExists: (kind: string, scope: string) => `a ${kind} key for scope "${scope}" already exists`,
  keyVersionExists: (kind: string, scope: string, version: number) =>
    `${kind} key for scope "${scope}" version ${version} already exists`,
  rotateConflict: (kind: string, scope: string, version: number) =>
    `cannot rotate ${kind} key for scope "${scope}" to version ${version}: another writer rotated first`,
  promoteConflict: (kind: string, scope: string, version: number) =>
    `cannot promote ${kind} key for scope "${scope}" version ${version}: it is not pending after an active ` +
    `version ${version - 1} (another writer promoted or rotated first)`,
  noPendingSupport: () =>
    'the key store has no addPending/promote: a pending key version cannot be published with it ' +
    '(rotateIndexKey and rotateScope make the new version active at once)',
  nothingPending: (kind: string, scope: string) => `no ${kind} key version for scope "${scope}" is pending`,
  rewrapConflict: (kind: string, keyId: string, version: number) =>
    `${kind} key ${keyId} version ${version} was not re-wrapped: it changed (rotated, destroyed or re-wrapped) since it was read`,

  keyringFailed: (keyringId: string, operation: string, reason: string) =>
    `keyring ${keyringId} failed to ${operation}: ${reason}`,
  keyringMismatch: (
    slot: { kind: string; keyId: string; scope: string; version: number },
    wrappedBy: string,
    asked: string,
  ) =>
    `the ${slot.kind} key ${slot.keyId} v${slot.version} (scope ${slot.scope}) is wrapped by keyring ${wrappedBy}, ` +
    `but keyring ${asked} was asked to unwrap it and cannot: the key store was re-wrapped (\`keys rewrap\`) or is ` +
    `shared with another root key; configure keyring ${wrappedBy} (or a MultiKeyring that holds it)`,
  keyringContext: (keyringId: string) =>
    `keyring ${keyringId} refused to unwrap: the wrapped key was tampered with, wrapped under ` +
    'another root key, or presented with another encryption context',

  cacheTtlRequired: () => 'cache.ttlMs is required: a positive number of milliseconds keys stay cached',
  cacheNotObject: () => 'cache must be an object ({ ttlMs, maxEntries?, maxUses?, indexVersionsTtlMs? })',
  cacheBound: (option: string) => `${option} must be a positive integer (leave it out for the default)`,
  cacheTtlTooLong: (max: number) => `cache.ttlMs must be at most ${max} ms (about 24 days)`,
  envMissing: (variable: string) => `environment variable ${variable} is not set (expected a base64 256-bit key)`,
  keyEncoding: (source: string) => `${source} does not hold a base64 256-bit key`,
  keyFileExists: (path: string) => `refusing to overwrite existing key file ${path}`,
  keyFileRead: (path: string) => `cannot read key file ${path}`,
  keyFileWrite: (path: string) => `cannot write key file ${path}`,

  decryptThreadNotStarted: (why: string) =>
    `hushfield: the decrypt thread of large reads did not start (${why}); they are decrypted on the calling ` +
    `thread, which is slower. A bundle (esbuild, webpack, Next.js) that folds @hushfield/core into one file ` +
    `leaves the thread's script behind: keep @hushfield/core external (esbuild external, webpack externals, ` +
    `Next.js serverExternalPackages) and install it beside the bundle, or set parallelDecrypt: false`,
  unicodeMismatch: (index: string, normalizer: string, pinned: string, runtime: string) =>
    `blind index ${index}: normalizer ${normalizer} is pinned to Unicode ${pinned}, but this runtime ` +
    `(Node ${process.version}) has Unicode ${runtime}, so its index values could differ from the stored ones; ` +
    'run a Node release with Unicode ' +
    pinned +
    ', or see the README section "Node upgrades and Unicode" ' +
    "(option unicodeMismatch: 'warn')",

  encryptorDisposed: () => 'was disposed; create a new one with rowEncryptor(scope)',

  keyringCauseWithheld: (code: string | undefined) =>
    `${code === undefined ? '' : `${code}: `}[message withheld: a keyring's error may carry the key it was given]`,

  auditUnwritten: (sink: string, unwritten: number, timeoutMs: number) =>
    `audit sink '${sink}': close() waited ${timeoutMs} ms for a write that did not return; ` +
    `${unwritten} event${unwritten === 1 ? ' is' : 's are'} not written (kept, and written should the write return)`,
} as const;
