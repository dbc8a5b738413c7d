/**
 * One worker of a scaled-out run: claims a range (`run-store.ts`), runs it with the same
 * engine as a single-process run (`migrator.ts`: batches, compare-and-swap, retries of lost
 * races), renews its lease while it works, and claims the next, until every range of the run
 * is finished. The same loop runs in a worker thread (`worker-thread.ts`), on the main thread,
 * or in another process or host: the database decides who does what.
 *
 * While the run is paused the worker finishes its batch, gives its range back (cursor kept)
 * and waits. A worker whose lease was taken over (it stalled past the lease) cannot save
 * into the range any more and moves on; a row it still wrote is safe: every write is a
 * compare-and-swap against the values read, so nothing is lost and no row is skipped.
 */
import type { FieldCrypto, KeyStore } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import { createCasWriter } from './cas-writer';
import type { ShredGuard } from './shred-guard';
import type { CasWriter } from './cas-writer';
import type { BasePrismaClient } from './config';
import { messages } from './messages';
import { migrateModel } from './migrator';
import { emptyResult } from './migrator-result';
import type { MigrateResult } from './migrator-result';
import type { RangeTarget } from './migrator-resume';
import { describeError } from './output';
import type { PfeImporter } from './pfe-import';
import type { Progress } from './progress';
import { abortableSleep } from './rate-limit';
import type { PlanMode } from './row-plan';
import type { RangeInfo } from './run-records';
import { LeaseLostError, RunStore } from './run-store';

/** What a worker needs to run ranges. */
export interface RangeWorkerOptions {
  readonly client: BasePrismaClient;
  readonly crypto: FieldCrypto;
  readonly keyStore: KeyStore;
  /** Checks, in each batch write's transaction, that no key its rows were read under was shredded. */
  readonly shredGuard?: ShredGuard;
  /** The run's models (by Prisma model name). */
  readonly models: readonly ModelMeta[];
  readonly mode: PlanMode;
  readonly runId: string;
  /** This worker's name in the ranges table: `host:pid:wN`. */
  readonly owner: string;
  readonly leaseSeconds: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly keyringAttempts?: number;
  readonly pfe?: PfeImporter;
  /** Move values sealed under another scope's key than their row's (`--rescope`; see `PlanContext.rescope`). */
  readonly rescope?: boolean;
  /** Open values sealed before the model's binding was added (`--rebind`; see `PlanContext.rebind`). */
  readonly rebind?: boolean;
  /** Recompute every index value (`reencrypt --reindex`; see `PlanContext.reindex`). */
  readonly reindex?: boolean;
  /** How often the run's state is read (pause) and, every third of a lease, the lease renewed. */
  readonly pollMs?: number;
  /** Aborted on Ctrl-C: finish the batch, give the range back, stop. */
  readonly signal?: AbortSignal;
  /** The process's rate cap: waits until `rows` more rows may be read. */
  readonly throttle?: (rows: number, signal: AbortSignal) => Promise<void>;
  /** Rows committed (for progress). */
  readonly onRows?: (rows: number) => void;
  readonly log: (line: string) => void;
}

/** What one worker did. */
export interface WorkerResult {
  readonly owner: string;
  /** Per model, the ranges' results added up. */
  readonly models: MigrateResult[];
  /** Ranges this worker finished. */
  ranges: number;
  /** Ranges it took over from a worker whose lease expired. */
  tookOver: number;
  rows: number;
  elapsedMs: number;
  rowsPerSecond: number;
  /** Peak resident set of the worker's process, in bytes (threads share it). */
  peakRss: number;
  /** Set when the worker stopped before the run was finished (Ctrl-C, keyring down). */
  stopped?: { code: string; name: string; message: string };
}

/** Runs ranges of the run until none is left, the user stops it, or a range stops on an error. */
export async function runRangeWorker(options: RangeWorkerOptions): Promise<WorkerResult> {
  const store = new RunStore(options.client);
  const startedAt = Date.now();
  const byModel = new Map<string, MigrateResult>();
  const writers = new Map<string, CasWriter>();
  const result = emptyWorkerResult(options.owner);
  const pollMs = options.pollMs ?? 1000;
  let notedPause = false;
  try {
    while (!options.signal?.aborted) {
      const poll = await store.poll(options.runId, options.owner);
      if (!poll) throw new Error(messages.runs.noSuchRun(options.runId));
      if (poll.run.state === 'done') break;
      if (poll.open === 0) {
        // Done unless another process planned a model's ranges into the run meanwhile: then claim them.
        if (await store.setState(options.runId, 'done')) break;
        continue;
      }
      if (poll.run.state === 'paused') {
        if (!notedPause) options.log(messages.runs.paused(options.runId));
        notedPause = true;
        await abortableSleep(pollMs, options.signal);
        continue;
      }
      notedPause = false;
      const range = await store.claim(
        options.runId,
        options.owner,
        options.leaseSeconds,
        poll.run.settings.maxConcurrency,
      );
      if (!range) {
        // The rest is leased by live workers: wait for them to finish, or for a lease to expire.
        await abortableSleep(pollMs, options.signal);
        continue;
      }
      if (range.tookOverFrom) {
        result.tookOver++;
        options.log(messages.runs.tookOver(options.owner, range.model, range.seq, range.tookOverFrom));
      }
      const model = options.models.find((candidate) => candidate.name === range.model);
      if (!model)
        throw new Error(
          messages.config.unknownModel(
            range.model,
            options.models.map((m) => m.name),
          ),
        );
      let writer = writers.get(model.name);
      if (!writer) writers.set(model.name, (writer = await createCasWriter(options.client, model, options.shredGuard)));
      const outcome = await runRange(options, store, range, model, writer);
      add(byModel, outcome.result);
      result.rows += outcome.result.scanned;
      if (outcome.finished) result.ranges++;
      if (outcome.stop) {
        result.stopped = outcome.result.stopped;
        break;
      }
    }
    if (options.signal?.aborted && !result.stopped) result.stopped = interrupted();
  } catch (error) {
    result.stopped = describeError(error);
  }
  result.models.push(...byModel.values());
  result.elapsedMs = Date.now() - startedAt;
  result.rowsPerSecond = result.elapsedMs > 0 ? Math.round((result.rows * 1000) / result.elapsedMs) : 0;
  result.peakRss = process.resourceUsage().maxRSS * 1024;
  return result;
}

/**
 * How often a working range's heartbeat ticks: every `pollMs` (the run's state, for a pause),
 * and at least three times a lease, so that the renewal due every third of `--lease-seconds`
 * lands before the lease runs out (`--lease-seconds 1` with the 1 s poll renewed at the very
 * moment the lease expired, and another worker took the range over from a live one).
 */
export function heartbeatMs(pollMs: number, leaseSeconds: number): number {
  return Math.max(1, Math.min(pollMs, Math.floor((leaseSeconds * 1000) / 3)));
}

/**
 * Runs `beat` every `tickMs`, one at a time (a tick finding one running is skipped). The
 * returned `stop` clears the timer and resolves once a beat in flight finished: a range worker
 * that returned while its heartbeat still ran had that heartbeat's lease renewal query the
 * client after the command closed it, which reopened the client's pool (Prisma reconnects) and
 * kept the process, or a `--workers` thread, from exiting.
 * @param beat - never rejects (a rejection is dropped)
 */
export function everyTick(tickMs: number, beat: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= beat()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
      });
  }, tickMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * An `AbortController` that aborts when `signal` does, and at once when `signal` already has: a
 * listener added to an aborted signal never runs, so a stop that came while the range was being
 * claimed went unseen and the whole range was worked through. `release` stops following.
 * @internal exported for its unit test
 */
export function followSignal(signal: AbortSignal | undefined): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  if (signal === undefined) return { controller, release: () => undefined };
  const follow = () => controller.abort();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', follow, { once: true });
  return { controller, release: () => signal.removeEventListener('abort', follow) };
}

/**
 * Runs one claimed range. A heartbeat renews the lease and watches for a pause; either a
 * pause, a lost lease or Ctrl-C stops the range after its batches in flight committed.
 */
async function runRange(
  options: RangeWorkerOptions,
  store: RunStore,
  range: RangeInfo,
  model: ModelMeta,
  writer: CasWriter,
): Promise<{ result: MigrateResult; finished: boolean; stop: boolean }> {
  const { owner, leaseSeconds } = options;
  const { controller: abort, release } = followSignal(options.signal);
  let lost = false;
  let paused = false;
  let renewedAt = Date.now();
  const stopHeartbeat = everyTick(heartbeatMs(options.pollMs ?? 1000, leaseSeconds), async () => {
    try {
      const run = await store.get(range.runId);
      if (run?.state === 'paused') {
        paused = true;
        abort.abort();
      }
      if (Date.now() - renewedAt >= (leaseSeconds * 1000) / 3) {
        if (await store.renew(range, owner, leaseSeconds)) renewedAt = Date.now();
        else {
          lost = true;
          abort.abort();
        }
      }
    } catch {
      // A failed heartbeat is retried on the next tick; the lease outlives two missed ones.
    }
  });
  const target: RangeTarget = {
    lo: range.lo,
    hi: range.hi,
    rows: range.rows,
    cursor: range.cursor,
    processed: range.processed,
    // A range never worked on has no detail yet: it starts now.
    detail:
      range.cursor === null && range.processed === 0
        ? { ...range.detail, startedAt: new Date().toISOString() }
        : range.detail,
    save: (cursor, processed, detail, state) =>
      store.save(range, owner, cursor, processed, detail, state === 'running' ? 'claimed' : state),
  };
  let result: MigrateResult;
  try {
    result = await migrateModel({
      client: options.client,
      crypto: options.crypto,
      keyStore: options.keyStore,
      model,
      mode: options.mode,
      writer,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      dryRun: false,
      rescope: options.rescope,
      rebind: options.rebind,
      reindex: options.reindex,
      resume: 'auto',
      pfe: options.pfe,
      keyringAttempts: options.keyringAttempts,
      progress: rowCounter(options),
      log: options.log,
      signal: abort.signal,
      range: target,
      throttle: options.throttle ? (rows) => options.throttle!(rows, abort.signal) : undefined,
    });
  } catch (error) {
    // Only the final save can throw here: its lease was taken over at the very end.
    if (!(error instanceof LeaseLostError)) throw error;
    options.log(error.message);
    return { result: emptyResult(model.name), finished: false, stop: false };
  } finally {
    await stopHeartbeat();
    release();
  }
  const code = result.stopped?.code;
  if (code === undefined) return { result, finished: true, stop: false };
  if (lost || code === 'LEASE_LOST') {
    options.log(messages.runs.leaseLost(range.model, range.seq));
    // The new owner resumes from the last saved position and redoes what came after it,
    // retries and failures included: they are its to report.
    delete result.stopped;
    delete result.pendingOverflow;
    result.pending = 0;
    result.failed = 0;
    result.strictPlaintext = 0;
    result.failures.length = 0;
    return { result, finished: false, stop: false };
  }
  // Paused, interrupted, or stopped on an error: the range goes back with its cursor.
  await store.release(range, owner).catch(() => undefined);
  if (paused && !options.signal?.aborted) {
    delete result.stopped;
    // What the range's saved detail carries on (rows left undone, strict plaintext, rows to
    // re-read) is reported by whichever worker claims the range again, this one included:
    // counted here too, it would be counted twice.
    delete result.pendingOverflow;
    result.pending = 0;
    result.failed = 0;
    result.strictPlaintext = 0;
    return { result, finished: false, stop: false };
  }
  return { result, finished: false, stop: true };
}

/** A progress sink that only counts committed rows (the run's progress is drawn by the driver). */
function rowCounter(options: RangeWorkerOptions): Progress {
  return {
    start() {},
    advance: (rows) => options.onRows?.(rows),
    note: (line) => options.log(line),
    stop() {},
  };
}

/** A worker's result before it ran any range (also what a worker that failed to start reports). */
export function emptyWorkerResult(owner: string): WorkerResult {
  return { owner, models: [], ranges: 0, tookOver: 0, rows: 0, elapsedMs: 0, rowsPerSecond: 0, peakRss: 0 };
}

/** Adds a range's result into its model's running total. */
export function add(into: Map<string, MigrateResult>, result: MigrateResult): void {
  const total = into.get(result.model) ?? emptyResult(result.model);
  into.set(result.model, total);
  for (const key of [
    'encrypted',
    'moved',
    'imported',
    'indexed',
    'decrypted',
    'strictPlaintext',
    'scanned',
    'written',
    'lostRaces',
    'pending',
    'failed',
  ] as const)
    total[key] += result[key];
  for (const failure of result.failures) if (total.failures.length < 100) total.failures.push(failure);
  if (result.pendingOverflow) total.pendingOverflow = true;
  if (result.stopped && !total.stopped) total.stopped = result.stopped;
  total.elapsedMs = Math.max(total.elapsedMs, result.elapsedMs);
}

function interrupted(): { code: string; name: string; message: string } {
  return { code: 'INTERRUPTED', name: 'InterruptedError', message: messages.migrate.interrupted() };
}
