/**
 * The catalog of every message the CLI prints or throws, grouped by command and module. Messages
 * name models, fields, scopes, key ids and versions, row keys, paths, option names, counts and
 * error codes, which are not secret; they never receive a stored value, plaintext, ciphertext,
 * a blind-index value or key material (a `--from-pfe-key` key included), so none can leak
 * through them. An error's own message passed on (`reason`) is one already made safe (see
 * `describeError` in `output.ts`).
 */
import type { MigrateResult } from './migrator-result';
import type { PlanMode } from './row-plan';
import type { BucketReport } from './commands/index-buckets';
import type { FieldStatus, IndexStatus, MatchIndexStatus, ModelStatus } from './commands/status';
import type { KeyStoreSummary, KeyringHealth } from './health';

/** What a bulk run's summary line reports of one model's run (counts, the model, a row key). */
export type BulkSummary = Pick<
  MigrateResult,
  | 'model'
  | 'scanned'
  | 'written'
  | 'decrypted'
  | 'encrypted'
  | 'moved'
  | 'imported'
  | 'indexed'
  | 'strictPlaintext'
  | 'lostRaces'
  | 'pending'
  | 'failed'
  | 'pendingOverflow'
  | 'resumedFrom'
  | 'stopped'
  | 'rowsPerSecond'
>;

/**
 * Values of a model sealed under another scope's key than their row's, as `status --verify` and
 * `doctor` report them: what can put them there, and what moves them when it was a scope change.
 */
function otherScopeHint(model: string, count: number): string {
  return (
    `${model}: ${count} value(s) sealed under another scope's key than their row's: copied from another ` +
    "scope's row, or the row's scope column was changed outside the extension; if the model's " +
    `@encryption(scope: ...) was added or changed, \`hushfield reencrypt --model ${model} --rescope\` moves them ` +
    "to their rows' scopes"
  );
}

/** A check's level as `doctor` prints it, padded so that the check names line up. */
const LEVEL_LABELS = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

/** The CLI's messages, by command and module. */
export const messages = {
  /** The `hushfield` executable (`bin.ts`). */
  bin: {
    stopping: (signal: string) => `hushfield: ${signal}: stopping after the current batch (again to quit at once)`,
    unexpectedFailure: (errorName: string) => `hushfield: unexpected failure: ${errorName}`,
  },

  /** Argument parsing and the diagnostics every command shares (`program.ts`, `output.ts`). */
  run: {
    positiveInteger: (option: string) => `${option} must be a positive integer`,
    hint: (hint: string) => `hint: ${hint}`,
    warning: (line: string) => `warning: ${line}`,
    error: (reason: string, code: string) => `error: ${reason} [${code}]`,
    /** A Prisma or driver failure, reduced to its code and the names in its `meta` (`key=value ...`). */
    databaseRequestFailed: (code: string, where: string) =>
      `database request failed (${code}${where ? ` ${where}` : ''})`,
  },

  /** `hushfield.config.ts` (`config.ts`, `context.ts`). */
  config: {
    notFound: (path: string) => `config file not found: ${path}`,
    notFoundNearPrisma: (cwd: string) =>
      `no hushfield.config.ts found next to prisma.config.ts (searched from ${cwd}); pass --config <file>`,
    loadFailed: (path: string, reason: string) => `could not load ${path}: ${reason}`,
    noDefaultExport: (source: string) => `${source} must default-export defineConfig({...})`,
    schema: (source: string) => `${source}: 'schema' must be the generated hushfieldSchema (formatVersion 1)`,
    keyring: (source: string) => `${source}: 'keyring' must be a Keyring or a function returning one`,
    prisma: (source: string) => `${source}: 'prisma' must be a function returning a base PrismaClient`,
    cacheTtl: (source: string) => `${source}: 'cache.ttlMs' must be a positive number of milliseconds`,
    extendedClient: (path: string) =>
      `${path}: 'prisma' returned a hushfield-extended client; return the base PrismaClient ` +
      '(without $extends(fieldEncryption(...)))',
    unknownModel: (model: string, known: readonly string[]) => `unknown model ${model} (known: ${known.join(', ')})`,
    noEncryptedFields: (model: string) => `model ${model} has no encrypted fields`,
  },

  /** The `.env` file read before the configuration (`env-file.ts`). */
  envFile: {
    notFound: (path: string) => `env file not found: ${path}`,
    unreadable: (path: string) => `cannot read env file ${path}`,
    /** Where the CLI looked for `DATABASE_URL`: no env file read, a file without it, or no file. */
    missingDatabaseUrl: (envFile: { readonly path: string; readonly found: boolean } | undefined) => {
      const where =
        envFile === undefined
          ? 'no env file was read'
          : envFile.found
            ? `${envFile.path} does not set it`
            : `there is no ${envFile.path}`;
      return (
        `DATABASE_URL is not set (${where}): set it in the environment, in the .env next to ` +
        'hushfield.config.ts, or name a file with --dotenv'
      );
    },
  },

  /** Options that take a secret as `env:NAME` or `file:PATH` (`secret-arg.ts`); the secret is never named. */
  secretArg: {
    envUnset: (option: string, variable: string) => `${option}: environment variable ${variable} is not set`,
    fileUnreadable: (option: string, path: string) => `${option}: cannot read ${path}`,
  },

  /** Walking a model and the checkpoint of a bulk run (`walker.ts`, `checkpoint.ts`). */
  walk: {
    noModel: (model: string) => `the Prisma client has no model ${model}`,
    cursorNotJson: () => 'checkpoint cursor is not valid JSON; rerun with --restart',
    cursorNotArray: () => 'checkpoint cursor must be an array; rerun with --restart',
    cursorArity: (values: number, keyFields: number) =>
      `cursor has ${values} values for a ${keyFields}-field key; rerun with --restart`,
    batchSize: () => 'batch size must be a positive integer',
    noCheckpointModel: (model: string) =>
      `the Prisma client has no ${model} model: add it to schema.prisma (see the CLI README)`,
  },

  /** Progress of a bulk run (`progress.ts`). */
  progress: {
    /** The cli-progress bar of a model on a terminal; `{...}` are the bar's own placeholders. */
    bar: (model: string) =>
      `${model.padEnd(16)} {bar} {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}`,
    /** The plain progress line (not a terminal); `eta` is seconds left with an `s`, or `?`. */
    line: (model: string, done: number, total: number, speed: number, eta: string) =>
      `${model}: ${done}/${total} rows, ${speed} rows/s, ETA ${eta}`,
  },

  /** The bulk engine of `reencrypt` and `decrypt` (`migrator.ts`, `row-plan.ts`); lines start with the model. */
  migrate: {
    unreadableJson: () => 'the value decrypted but is not JSON; it was not written by hushfield',
    checkpointCleared: (model: string) => `${model}: checkpoint cleared (--restart)`,
    nothingToResume: (model: string) => `${model}: no unfinished run to resume; starting from the first row`,
    rotatedSince: (model: string, startedAt: string) =>
      `${model}: a key was rotated since the unfinished run started (${startedAt}); starting over ` +
      '(--resume forces resuming)',
    pendingOverflow: (model: string) =>
      `${model}: the unfinished run lost more races than its checkpoint could record; run again with ` +
      '--restart afterwards for a full pass',
    /** `cursor`: the encoded primary key of the last committed row, null before the first batch. */
    resuming: (model: string, cursor: string | null, processed: number, savedAt: string) =>
      `${model}: resuming after ${cursor ?? 'the start'} (${processed} rows done, checkpoint of ${savedAt}; ` +
      '--restart ignores it)',
    rereading: (model: string, pass: number, rows: number) =>
      `${model}: pass ${pass}: re-reading ${rows} row(s) changed by another writer meanwhile`,
    keyringRetry: (model: string, reason: string, delayMs: number, attempt: number, attempts: number) =>
      `${model}: keyring unavailable (${reason}); retrying in ${delayMs} ms (attempt ${attempt}/${attempts})`,
    interrupted: () => 'interrupted: stopped after the last committed batch',
    oddCharset: (column: string, charset: string) =>
      `column ${column}: information_schema names its character set ${JSON.stringify(charset)}, not a plain name`,
    unknownColumn: (table: string, column: string) =>
      `column ${table}.${column} is not in information_schema.COLUMNS for this database: its character set is unknown`,
    updateFailed: () => 'update failed (e.g. a unique blind index collides with another row)',
    emptyScope: () => 'scope field is empty',
    pfeWithoutKey: () => 'holds a prisma-field-encryption value: pass --from-pfe-key to import it',
    /** A value of a scoped model sealed under a key that is not one of its row's scope (`scope`). */
    otherScope: (scope: string) =>
      `sealed under another scope's key than its row's scope ${JSON.stringify(scope)}: copied from another ` +
      "scope's row, or the row's scope column was changed outside the extension; left as it is (if the " +
      "model's @encryption(scope: ...) was added or changed, rerun with --rescope)",
  },

  /** Importing prisma-field-encryption values (`pfe-import.ts`); keys are counted or numbered, never shown. */
  pfe: {
    noKeys: () => '--from-pfe-key needs at least one key',
    notCloakKey: (position: number) => `--from-pfe-key #${position} is not a cloak key (expected k1.aesgcm256.…)`,
    unparsableKey: (errorName: string) => `--from-pfe-key: a key could not be parsed (${errorName})`,
    notCloakValue: () => 'value is not in prisma-field-encryption (cloak) format',
    /** `fingerprint`: cloak's public key fingerprint, as stored in the value. */
    noKeyForFingerprint: (fingerprint: string) => `no --from-pfe-key has fingerprint ${fingerprint}`,
    authenticationFailed: () => 'prisma-field-encryption value failed to authenticate',
  },

  /** `reencrypt` and `decrypt`: the summary (`commands/bulk-run.ts`). */
  bulk: {
    nothingToDo: (mode: PlanMode) =>
      mode === 'decrypt' ? 'no model has readonly fields: nothing to decrypt' : 'no model has fields to re-encrypt',
    /** Printed when `reencrypt` encrypts (or would encrypt) plaintext it found in the database. */
    adoptionNotice: () =>
      'plaintext encrypted here still exists in backups, snapshots, replicas, WAL/binlog archives and query logs ' +
      'taken before this run; encryption cannot erase those copies (expire or destroy them on their own schedule)',
    note: (notice: string) => `note: ${notice}`,
    /** One model's outcome: rows scanned and written, why, and what is left. */
    summary: (mode: PlanMode, result: BulkSummary, dryRun: boolean) => {
      if (result.scanned === 0 && !result.resumedFrom && !result.stopped) return `${result.model}: no rows`;
      const verb = dryRun ? 'would write' : 'wrote';
      const parts =
        mode === 'decrypt'
          ? [`${result.decrypted} values decrypted`]
          : [
              `${result.encrypted} plaintext encrypted`,
              `${result.moved} moved to the active key`,
              `${result.imported} imported`,
              `${result.indexed} index values rebuilt`,
            ];
      const extra = [
        result.strictPlaintext
          ? `${result.strictPlaintext} plaintext in strict fields left alone (unreadable; switch the field to ` +
            'migrating to adopt it)'
          : '',
        result.lostRaces ? `${result.lostRaces} lost races retried` : '',
        result.pending ? `${result.pending} rows still changing (rerun)` : '',
        result.failed ? `${result.failed} rows failed` : '',
        result.pendingOverflow
          ? 'more rows were changed by other writers than could be held for re-reading ' + '(run again with --restart)'
          : '',
        result.resumedFrom ? `resumed after ${result.resumedFrom}` : '',
      ].filter(Boolean);
      return (
        `${result.model}: ${result.scanned} rows scanned, ${verb} ${result.written} rows (${parts.join(', ')})` +
        `${extra.length ? `; ${extra.join(', ')}` : ''}; ${result.rowsPerSecond} rows/s`
      );
    },
    /** A row left undone: its key, the field when known, and the error's code and safe message. */
    rowFailure: (model: string, key: string, field: string | undefined, code: string, reason: string) =>
      `  ${model} row ${key}${field ? ` .${field}` : ''}: ${code} ${reason}`,
    stopped: (model: string, reason: string, code: string) => `stopped in ${model}: ${reason} [${code}]`,
    resumable: () => 'progress up to the last committed batch is checkpointed; rerun the same command to resume',
  },

  /**
   * Scaled-out runs: `--run`, `--workers`, leases, caps, pause/resume (`run-store.ts`,
   * `range-worker.ts`, `commands/scaled-run.ts`, `commands/runs.ts`); run ids, models, range
   * numbers, owners (host:pid:worker) and counts only.
   */
  runs: {
    unsupportedDatabase: (provider: string) =>
      `scaled-out runs (--run, --workers) need PostgreSQL, MySQL/MariaDB or SQLite (this database: ${provider}); ` +
      'run without --run/--workers',
    leaseLost: (model: string, seq: number) =>
      `${model} range ${seq}: lease taken over by another worker; leaving the range to it`,
    badRunId: () => '--run must be 1-100 letters, digits, dots, dashes, underscores or colons',
    dryRun: () => '--dry-run cannot be combined with --run or --workers (a dry run writes no checkpoint)',
    controlNeedsRun: (option: string) => `${option} needs --run <id>`,
    noSuchRun: (id: string) => `no run ${id} (hushfield runs list shows the runs)`,
    started: (id: string, created: boolean, ranges: number, workers: number) =>
      `run ${id}: ${created ? 'started' : 'joined'}, ${ranges} range(s); ${workers} worker(s) here ` +
      `(another process joins with --run ${id}; Ctrl-C stops after the current batch)`,
    planned: (model: string, ranges: number, rows: number) => `${model}: ${rows} rows in ${ranges} range(s)`,
    restarted: (id: string) => `run ${id}: ranges cleared (--restart); planning again`,
    alreadyDone: (id: string) => `run ${id} is done (--restart runs it again)`,
    paused: (id: string) =>
      `run ${id} is paused: workers finish their batch, give their ranges back and wait (hushfield runs resume ${id})`,
    resumed: (id: string) => `run ${id} resumed`,
    stateSet: (id: string, state: string, changed: boolean) =>
      changed ? `run ${id}: ${state}` : `run ${id} was already ${state}`,
    tookOver: (owner: string, model: string, seq: number, from: string) =>
      `${owner}: took over ${model} range ${seq} from ${from} (its lease expired)`,
    workerFailed: (owner: string, reason: string) => `${owner}: stopped: ${reason}`,
    workerExited: (owner: string) => `worker ${owner} exited without a result`,
    otherMode: (id: string, mode: string) => `run ${id} is a ${mode} run; use another --run id`,
    /** The progress line of a run: the whole run's rows and rate, then this process's workers. */
    progress: (id: string, done: number, total: number, speed: number, eta: string, workers: string) =>
      `run ${id}: ${done}/${total} rows, ${speed} rows/s, ETA ${eta}${workers ? ` | here: ${workers}` : ''}`,
    workerRate: (worker: string, speed: number) => `${worker} ${speed} rows/s`,
    workersSummary: (workers: number, rows: number, speed: number, elapsedMs: number) =>
      `${workers} worker(s) here: ${rows} rows in ${(elapsedMs / 1000).toFixed(1)} s, ${speed} rows/s`,
    workerSummary: (owner: string, ranges: number, rows: number, speed: number, peakRssMb: number) =>
      `  ${owner}: ${ranges} range(s), ${rows} rows, ${speed} rows/s, peak RSS ${peakRssMb} MB`,
    none: () => 'no runs',
    runLine: (id: string, mode: string, state: string, createdAt: string, caps: string) =>
      `${id}  ${mode}  ${state}  started ${createdAt}${caps ? `  ${caps}` : ''}`,
    rangeLine: (
      model: string,
      seq: number,
      span: string,
      state: string,
      owner: string,
      processed: number,
      rows: number,
    ) => `  ${model} #${seq} ${span}: ${state}${owner ? ` by ${owner}` : ''}, ${processed}/${rows} rows`,
    rangesTotal: (done: number, ranges: number, processed: number, rows: number) =>
      `  ${done}/${ranges} range(s) finished, ${processed}/${rows} rows`,
  },

  /** `keys list | create | rotate | rewrap | shred` (`commands/keys.ts`, `keyring-source.ts`). */
  keys: {
    badKind: () => '--kind must be scope or index',
    none: () => 'no keys',
    /** `row`: the key's line of the `keys list` table. */
    created: (row: string) => `created ${row}`,
    rotateTarget: () => 'keys rotate needs exactly one of --scope <scope>, --all or --index',
    rotated: (row: string) => `rotated ${row}`,
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

  /** `status` (`commands/status.ts`, `commands/index-buckets.ts`, `health.ts`). */
  status: {
    model: (model: Pick<ModelStatus, 'model' | 'rows' | 'rowsDestroyed'>) =>
      `${model.model}: ${model.rows} rows` +
      `${model.rowsDestroyed ? `, ${model.rowsDestroyed} under destroyed scopes` : ''}`,
    /** One encrypted field's counts (the unreadable count only with `--verify`). */
    field: (field: FieldStatus) => {
      const parts = [
        `${field.current} current`,
        field.retired ? `${field.retired} on retired key versions` : '',
        field.destroyed ? `${field.destroyed} destroyed` : '',
        field.unknownKey ? `${field.unknownKey} unknown key` : '',
        field.plaintext ? `${field.plaintext} plaintext` : '',
        field.pfe ? `${field.pfe} prisma-field-encryption` : '',
        field.malformed ? `${field.malformed} malformed` : '',
        `${field.nulls} null`,
        field.unreadable ? `${Object.values(field.unreadable).reduce((a, b) => a + b, 0)} unreadable` : '',
        field.otherScope ? `${field.otherScope} under another scope's key than their row's` : '',
      ].filter(Boolean);
      return `  ${field.field} (${field.mode}): ${parts.join(', ')}`;
    },
    scopeVersion: (scope: string, version: number, state: string, count: number) =>
      `    scope ${scope} v${version} (${state}): ${count}`,
    manyScopes: (scopes: number) => `    ${scopes}+ scopes (see --json)`,
    matchIndex: (index: MatchIndexStatus) => {
      const versions = Object.entries(index.versions)
        .map(([version, count]) => (version === 'empty' ? `no n-gram: ${count}` : `v${version}: ${count}`))
        .join(', ');
      return (
        `  ${index.index} (match index of ${index.source}): ${versions || 'empty'}` +
        `${index.missing ? `, ${index.missing} missing` : ''}` +
        `${index.otherParameters ? `, ${index.otherParameters} under other parameters (run reencrypt)` : ''}`
      );
    },
    index: (index: IndexStatus) => {
      const versions = Object.entries(index.versions)
        .map(([version, count]) => `${/^[0-9]/.test(version) ? 'v' : ''}${version}: ${count}`)
        .join(', ');
      const { shared, perScope } = index.keyed;
      // Per-scope values, or a schema that wants them: how far `reencrypt` has moved the index.
      const keyed =
        index.perScope || perScope > 0
          ? `; ${shared} shared, ${perScope} per scope (schema: ${index.perScope ? 'per scope' : 'shared'})`
          : '';
      return (
        `  ${index.index} (index of ${index.source}): ${versions || 'empty'}` +
        `${index.missing ? `, ${index.missing} missing` : ''}${keyed}`
      );
    },
    /** A truncated blind index's bucket sizes (counts only). */
    buckets: (report: BucketReport) => {
      if (report.values === 0) return `    buckets (${report.bits} bits): no values`;
      const alone = Math.round((report.singletons / report.values) * 100);
      const expected = report.expected !== undefined ? `, expected ${report.expected} values` : '';
      return (
        `    buckets (${report.bits} bits${expected}): ` +
        `${report.values} values in ${report.buckets} buckets; ` +
        `per bucket min ${report.min}, median ${report.median}, ` +
        `mean ${report.mean}, max ${report.max} (skew ${report.skew}); ${report.singletons} values alone in their ` +
        `bucket (${alone}%)`
      );
    },
    keyStore: (summary: Pick<KeyStoreSummary, 'scopes' | 'byState'>) => {
      const states = Object.entries(summary.byState)
        .map(([state, count]) => `${count} ${state}`)
        .join(', ');
      return `key store: ${summary.scopes} scopes; ${states || 'no keys'}`;
    },
    keyring: (health: KeyringHealth) =>
      health.ok
        ? `keyring ${health.keyringId}: ok (round trip ${health.latencyMs} ms)`
        : `keyring ${health.keyringId}: FAILED ${health.error?.message} [${health.error?.code}]`,
    /** The keyring round trip got back other bytes than it wrapped. */
    roundTripMismatch: () => 'unwrapped bytes differ from the wrapped ones',
    /** `count` values of `model` sealed under another scope's key than their row's (`--verify`). */
    otherScope: (model: string, count: number) => otherScopeHint(model, count),
    verified: (unreadable: number) =>
      unreadable === 0
        ? 'verify: every value is readable (values under destroyed scopes aside)'
        : `verify: ${unreadable} value(s) the application cannot read (failed to decrypt, malformed, unknown key, ` +
          'not imported, or plaintext in a strict field); exit 3',
  },

  /** `doctor`: one message per check outcome (`commands/doctor.ts`, `tls-probe.ts`). */
  doctor: {
    line: (level: keyof typeof LEVEL_LABELS, check: string, message: string) =>
      `${LEVEL_LABELS[level]}  ${check}: ${message}`,
    outcome: (failed: boolean) => (failed ? 'doctor: some checks failed' : 'doctor: no failures'),
    databaseReachable: () => 'database reachable',
    databaseUnreachable: (reason: string, hint: string | undefined) =>
      `database unreachable: ${reason}${hint ? `; ${hint}` : ''}`,
    keyringOk: (keyringId: string, latencyMs: number) => `keyring ${keyringId} round trip ok (${latencyMs} ms)`,
    keyringFailed: (keyringId: string, reason: string | undefined) =>
      `keyring ${keyringId} round trip failed: ${reason}`,
    memberOk: (keyringId: string, latencyMs: number) => `member ${keyringId} round trip ok (${latencyMs} ms)`,
    memberFailed: (keyringId: string, reason: string | undefined) =>
      `member ${keyringId} round trip failed: ${reason} (reads fall back to the other members; its copies cannot recover keys)`,
    namedOk: (name: string, keyringId: string, latencyMs: number) =>
      `keyrings.${name} (${keyringId}) round trip ok (${latencyMs} ms)`,
    namedFailed: (name: string, reason: string | undefined) =>
      `keyrings.${name} round trip failed: ${reason} (keys rewrap --to-keyring ${name} would fail)`,
    tlsUnknown: () => 'this database does not report TLS state',
    tlsOn: (version: string | null, cipher: string | null, bits: number | null) =>
      `connection uses TLS (${[version, cipher, bits === null ? null : `${bits} bits`].filter(Boolean).join(', ')})`,
    tlsOff: () =>
      'connection does NOT use TLS: values travel encrypted, but blind indexes, ids and queries are visible ' +
      'on the network',
    tlsUnavailable: (reason: string) => `TLS state unavailable: ${reason}`,
    tlsNotApplicable: () => 'TLS does not apply: SQLite is a file on this host, not a network connection',
    noTcpUrl: () => 'no TCP database URL (--url, config databaseUrl or DATABASE_URL) to read the certificate from',
    noTlsOffered: (host: string, port: number) => `${host}:${port} does not offer TLS`,
    /** `certificate <subject>[ (self-signed)]`, the start of every certificate message. */
    certificate: (subject: string, selfSigned: boolean) =>
      `certificate ${subject || '(no subject)'}${selfSigned ? ' (self-signed)' : ''}`,
    certificateExpired: (what: string, validTo: string) => `${what} EXPIRED on ${validTo}`,
    certificateExpiring: (what: string, daysLeft: number, threshold: number | undefined, validTo: string) =>
      `${what} expires in ${daysLeft} days (under ${threshold}) on ${validTo}`,
    certificateValid: (what: string, daysLeft: number, protocol: string | null, cipher: string | null) =>
      `${what} valid for ${daysLeft} more days (${protocol}, ${cipher})`,
    certificateUnreadable: (host: string, port: number, reason: string) =>
      `could not read the certificate of ${host}:${port}: ${reason}`,
    probeTimeout: (host: string, port: number, timeoutMs: number) =>
      `TLS probe of ${host}:${port} timed out after ${timeoutMs} ms`,
    noCertificate: () => 'server presented no certificate',
    probeClosed: (host: string, port: number) =>
      `${host}:${port} closed the connection before its certificate was read`,
    greetingTooLong: (bytes: number) =>
      `the server's greeting announces ${bytes} bytes (a MySQL greeting is under 1 KiB)`,
    serverRefused: (text: string) => `the server refused the connection: ${text}`,
    keyStoreOk: (scopes: number, versions: number) =>
      `key store reachable: ${scopes} scope(s), ${versions} key version(s)`,
    /** Key versions wrapped by keyrings other than the configured one, with their counts. */
    foreignKeyrings: (foreign: readonly (readonly [string, number])[], keyringId: string) =>
      `${foreign.map(([id, count]) => `${count} key version(s) wrapped by ${id}`).join(', ')}; ` +
      `the configured keyring is ${keyringId} (finish \`keys rewrap\` or configure a MultiKeyring)`,
    keyStoreUnavailable: (reason: string) => `key store unavailable: ${reason}`,
    checkpointModel: () => 'HushfieldCheckpoint model present (reencrypt can resume)',
    runModels: () => 'HushfieldRun and HushfieldRange models present (reencrypt --run / --workers can scale out)',
    noRunModels: () =>
      'no HushfieldRun/HushfieldRange models: reencrypt --run and --workers need them; add them to schema.prisma ' +
      '(see the CLI README)',
    noCheckpointModel: () => 'no HushfieldCheckpoint model: reencrypt cannot checkpoint; add it to schema.prisma',
    unknownKeys: (model: string, values: number) =>
      `${model}: ${values} sampled value(s) name keys the key store does not hold (wrong key store or database?)`,
    columnsMatch: (model: string, rows: number, destroyed: number) =>
      `${model}: columns match the schema metadata; sampled ${rows} row(s)` +
      `${destroyed ? `, ${destroyed} value(s) under destroyed scopes` : ''}`,
    /** `codes`: failures by error code. */
    undecryptable: (
      model: string,
      failed: number,
      sampled: number,
      codes: Readonly<Record<string, number>>,
      otherScope: number,
    ) =>
      `${model}: ${failed} of ${sampled} sampled value(s) fail to decrypt ` +
      `(${Object.entries(codes)
        .map(([code, count]) => `${code}: ${count}`)
        .join(', ')}): ` +
      'tampered, moved, or wrapped ' +
      'under a key this keyring cannot open; `hushfield status --verify` counts them all' +
      (otherScope > 0 ? `. ${otherScopeHint(model, otherScope)}` : ''),
    columnsUnreadable: (model: string, reason: string) =>
      `${model}: cannot read its encrypted columns (${reason}); regenerate the client and metadata`,
    noIndexKey: () =>
      'the schema has blind indexes but the key store has no active index key yet (created on first use)',
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
