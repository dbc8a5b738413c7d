/**
 * Messages of `keys` (the key lifecycle: list, create, rotate, rewrap, shred) and `audit` (the
 * log of what was done with keys and values). Part of the CLI's catalog (`messages.ts`), under
 * its rule: nothing secret is ever passed in.
 */

/** Messages of `keys` and `audit`, by command. */
export const keysMessages = {
  /** `keys list | create | rotate | rewrap | shred` (`commands/keys.ts`, `keyring-source.ts`). */
  keys: {
    badKind: () => '--kind must be scope or index',
    badState: () => '--state must be active, pending, retired or destroyed',
    none: () => 'no keys',
    /** `row`: the key's line of the `keys list` table. */
    created: (row: string) => `created ${row}`,
    rotateTarget: () => 'keys rotate needs exactly one of --scope <scope>, --all or --index',
    rotated: (row: string) => `rotated ${row}`,
    indexPending: (version: number, waitMs: number) =>
      `index key v${version} published as pending: every process matches it once it reads the live versions ` +
      `again (cache.indexVersionsTtlMs), none writes it yet; it becomes the version written in ` +
      `${Math.ceil(waitMs / 1_000)} s (interrupted, run keys rotate --index again: it waits for the same version)`,
    noPendingState: () =>
      'the configured key store has no pending state (addPending, promote): the new index key version is ' +
      'active at once, so until every process reads it (cache.indexVersionsTtlMs) one still on the old ' +
      'version checks nothing across versions; rotate at a quiet time, or add addPending and promote to the key store',
    scopesPending: (count: number, waitMs: number) =>
      `${count} scope key version(s) published as pending: every process matches them in per-scope blind ` +
      'indexes once it reads the live versions again (cache.indexVersionsTtlMs), none writes them yet; they ' +
      `become the versions written in ${Math.ceil(waitMs / 1_000)} s (interrupted: keys list --state pending names ` +
      'them; run keys rotate --scope <scope> --wait <ms> for each)',
    rotateFailed: (scope: string, reason: string, code: string) => `FAILED scope ${scope}: ${reason} [${code}]`,
    rotatedNext: () => 'old versions still decrypt; run `hushfield reencrypt` to move data to the new version',
    nothingRotated: () => 'nothing rotated',
    rewrapped: (rewrapped: number, keyringId: string, skipped: number) =>
      `rewrapped ${rewrapped} key version(s) under ${keyringId}; ${skipped} skipped (destroyed, already rewrapped, ` +
      'or changed meanwhile)',
    rewrapNext: () => 'data rows were not touched; point hushfield.config.ts (and the application) at the new keyring',
    noSuchKeyring: (source: string) => `--to-keyring ${source}: no such keyring in the config and no such file`,
    notKeyring: (source: string) => `--to-keyring ${source} is not a Keyring or a function returning one`,
    noKeyringYielded: (source: string) => `--to-keyring ${source} did not yield a Keyring`,
    noLiveKeys: (scope: string) => `scope ${scope} has no live keys`,
    shredNeedsYes: () => 'keys shred destroys data for good: pass --yes when stdin is not a terminal',
    shredWarning: (versions: number, scope: string, rows: number) =>
      `this destroys ${versions} key version(s) of scope ${scope}; ${rows} row(s) become unreadable, ` +
      'in every backup too.',
    shredPrompt: (scope: string) => `type the scope name (${scope}) to confirm: `,
    shredDeclined: () => 'not confirmed; nothing destroyed',
    shredded: (scope: string, versions: number, rows: number) =>
      `shredded scope ${scope}: ${versions} key version(s) destroyed, ${rows} row(s) now unreadable`,
  },

  audit: {
    badTime: (option: string) => `${option} must be an ISO 8601 date or time, or a duration ago such as 7d, 12h, 30m`,
    badOperation: (operations: readonly string[]) => `--operation must be one of ${operations.join(', ')}`,
    none: () => 'no audit events match',
    /** One event: time, operation, outcome, scope, key, actor, detail (never key material: events hold none). */
    row: (time: string, operation: string, outcome: string, rest: string) =>
      `${time}  ${operation} ${outcome}  ${rest}`,
    limited: (limit: number) => `(newest ${limit} shown; raise --limit or narrow --since/--until for more)`,
  },
} as const;
