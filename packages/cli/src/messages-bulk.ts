/**
 * Messages of the bulk runs of `reencrypt` and `decrypt`: walking a model and its checkpoint,
 * progress, the migrator, prisma-field-encryption imports, the summary, and scaled-out runs.
 * Part of the CLI's catalog (`messages.ts`), under its rule: nothing secret is ever passed in.
 */
import type { MigrateResult } from './migrator-result';
import type { PlanMode } from './row-plan';

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

/** Messages of `reencrypt` and `decrypt`, single-process and scaled out, by module. */
export const bulkMessages = {
  /** Walking a model and the checkpoint of a bulk run (`walker.ts`, `checkpoint.ts`). */
  walk: {
    noModel: (model: string) => `the Prisma client has no model ${model}`,
    cursorNotJson: () => 'checkpoint cursor is not valid JSON; rerun with --restart',
    cursorNotArray: () => 'checkpoint cursor must be an array; rerun with --restart',
    cursorArity: (values: number, keyFields: number) =>
      `cursor has ${values} values for a ${keyFields}-field key; rerun with --restart`,
    batchSize: () => 'batch size must be a positive integer',
    noRowKey: (model: string) =>
      `${model} has no @id and no unique criterion its rows can be walked by: a walk by an optional, encrypted or ` +
      'indexed field could miss rows or see keys change under it, so nothing was read or written; give the model ' +
      'an @id, or @unique (or @@unique) on required String, Int, BigInt, Float, Decimal or DateTime fields that ' +
      'are not encrypted, blind or match indexes, or @updatedAt, then run `prisma generate`',
    rowKeyNotGenerated: (model: string) =>
      `${model} has no @id, and its hushfield metadata predates row keys for such models, so nothing was read or ` +
      'written; run `prisma generate` with this version of @hushfield/prisma',
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
    sealedTooLong: (column: string, larger: string) =>
      `the sealed value is longer than its ${column} column holds, which the database would refuse, or cut to ` +
      `fit (a cut envelope never decrypts); the row was left as it is: declare a longer column (${larger})`,
    checkpointCleared: (model: string) => `${model}: checkpoint cleared (--restart)`,
    nothingToResume: (model: string) => `${model}: no unfinished run to resume; starting from the first row`,
    keySince: (model: string, saved: readonly string[], now: readonly string[]) =>
      `${model}: the unfinished run's checkpoint is keyed by (${saved.join(', ')}), the model's rows now by ` +
      `(${now.join(', ')}); starting from the first row (its cursor would skip or repeat rows)`,
    flagsSince: (model: string, flags: readonly string[]) =>
      `${model}: the unfinished run was not given ${flags.map((flag) => `--${flag}`).join(' or ')}; ` +
      'starting from the first row (the rows before its checkpoint were not handled so)',
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
    shreddedMeanwhile: (scope: string) =>
      `the key of scope "${scope}" that sealed this row's values was destroyed (shredded) while the run read it: not written`,
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
    noWorkerScript: (dir: string) =>
      `--workers: the worker script worker-thread.js is not in ${dir} (is @hushfield/cli bundled into one file?); ` +
      'run the installed CLI (its dist/ as published), or scale out with processes instead: start each with the same --run <id>',
    badRunId: () => '--run must be 1-100 letters, digits, dots, dashes, underscores or colons',
    dryRun: () => '--dry-run cannot be combined with --run or --workers (a dry run writes no checkpoint)',
    controlNeedsRun: (option: string) => `${option} needs --run <id>`,
    noSuchRun: (id: string) => `no run ${id} (hushfield runs list shows the runs)`,
    started: (id: string, created: boolean, ranges: number, workers: number) =>
      `run ${id}: ${created ? 'started' : 'joined'}, ${ranges} range(s); ${workers} worker(s) here ` +
      `(another process joins with --run ${id}; Ctrl-C stops after the current batch)`,
    planned: (model: string, ranges: number, rows: number) => `${model}: ${rows} rows in ${ranges} range(s)`,
    restarted: (id: string) => `run ${id}: ranges cleared (--restart); planning again`,
    restartLive: (id: string, leases: number) =>
      `run ${id}: --restart would delete the ranges of ${leases} live lease(s) that workers of the run are ` +
      `working on; nothing was changed. Pause the run first (hushfield runs pause ${id}: its workers finish ` +
      `their batch and give their ranges back; the restarted run stays paused until hushfield runs resume ${id}), ` +
      'or wait until those processes finish or their leases expire, or pass --force-restart to restart under ' +
      'them (their workers lose their ranges and take the new ones; rows already written are kept)',
    alreadyDone: (id: string) => `run ${id} is done (--restart runs it again)`,
    doneWithout: (id: string, models: readonly string[]) =>
      `run ${id} is done and holds no ranges of ${models.join(', ')}: a finished run takes no new model ` +
      '(start it under a new --run id, or pass --restart to plan the whole run again)',
    partialRanges: (id: string, ranges: number) =>
      `run ${id}: ${ranges} range(s) finished with rows left undone (status --run ${id} lists them; a new --run id, or --restart, takes them again)`,
    paused: (id: string) =>
      `run ${id} is paused: workers finish their batch, give their ranges back and wait (hushfield runs resume ${id})`,
    resumed: (id: string) => `run ${id} resumed`,
    stateSet: (id: string, state: string, changed: boolean) =>
      changed ? `run ${id}: ${state}` : `run ${id} was already ${state}`,
    tookOver: (owner: string, model: string, seq: number, from: string) =>
      `${owner}: took over ${model} range ${seq} from ${from} (its lease expired)`,
    workerFailed: (owner: string, reason: string) => `${owner}: stopped: ${reason}`,
    workerExited: (owner: string) => `worker ${owner} exited without a result`,
    otherMode: (id: string, mode: string, given: string) =>
      `run ${id} is a ${mode} run, and this process was started as ${given}: give each of its processes the same ` +
      'command and flags, or use another --run id',
    otherSchema: (id: string, mode: string, given: string) =>
      `run ${id} was started with another hushfield schema (${mode}; this process: ${given}): every process of a ` +
      'run needs the same generated schema (the same deploy): one with another would encrypt, index or decrypt the rows of the ranges it claims differently. ' +
      'Run this one from the same build as the others, or use another --run id',
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
} as const;
