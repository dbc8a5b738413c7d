/**
 * `reencrypt` / `decrypt` scaled out: `--run <id>` makes this process one of any number
 * (on one host or many) working on the same run, `--workers N` runs N worker threads here.
 * The first process plans the run's primary-key ranges (`run-store.ts`); every worker claims
 * ranges under a lease until none is left (`range-worker.ts`). This module starts the
 * workers, shares the process's rate cap between them, draws the progress of the whole run
 * and of each worker here, and prints the summary.
 */
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ConfigError, InvalidArgumentError, settleAll } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import type { CommandContext } from '../context';
import type { ExitCodeValue } from '../exit-codes';
import { messages } from '../messages';
import type { MigrateResult } from '../migrator-result';
import { describeError } from '../output';
import { PfeImporter } from '../pfe-import';
import { RunProgress } from '../progress';
import { emptyResult } from '../migrator-result';
import { add, emptyWorkerResult, runRangeWorker } from '../range-worker';
import type { WorkerResult } from '../range-worker';
import { TokenBucket } from '../rate-limit';
import type { PlanMode } from '../row-plan';
import type { PlannedRange, RunSettings } from '../run-records';
import { RunStore } from '../run-store';
import { delegateOf, rangeBoundaries } from '../walker';
import { assertRowKeys, rowKeyOf } from '../row-key';
import type { BulkOptions } from './bulk-run';
import { bulkModels, reportBulk } from './bulk-run';

/** How a bulk run scales out. */
export interface ScaleOptions {
  /** The run to start or join; a fresh id when absent (printed, to resume with). */
  readonly run?: string;
  /** Worker threads in this process; absent: one worker on the main thread. */
  readonly workers?: number;
  /** Lease of a claimed range, renewed every third of it (default 30 s). */
  readonly leaseSeconds: number;
  /** Rows per range when the run is planned (default 50,000). */
  readonly rangeRows: number;
  readonly maxRowsPerSecond?: number;
  readonly maxConcurrency?: number;
  /** Clear the run's ranges and plan again (refused while other processes hold live leases). */
  readonly restart: boolean;
  /** `--force-restart`: restart even under live leases (their workers lose their ranges). */
  readonly forceRestart?: boolean;
  /** How often the run is polled (pause, leases, progress); default 1000 ms. */
  readonly pollMs?: number;
  /** Where worker threads load the configuration from; absent (a preloaded config): workers run on the main thread. */
  readonly launch?: { readonly configPath: string; readonly dotenv?: string; readonly cwd: string };
}

/** What a worker thread is started with (`worker-thread.ts`). */
export interface ThreadData {
  readonly configPath: string;
  readonly dotenv?: string;
  readonly cwd: string;
  readonly mode: PlanMode;
  readonly runId: string;
  readonly owner: string;
  readonly leaseSeconds: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly keyringAttempts?: number;
  readonly fromPfeKey?: readonly string[];
  /** `--rescope` (see `BulkOptions.rescope`). */
  readonly rescope?: boolean;
  /** `--rebind` (see `BulkOptions.rebind`). */
  readonly rebind?: boolean;
  /** `--reindex` (see `BulkOptions.reindex`). */
  readonly reindex?: boolean;
  readonly pollMs?: number;
}

/** Messages of a worker thread to the main thread. */
export type ThreadMessage =
  | { readonly type: 'rows'; readonly rows: number }
  | { readonly type: 'take'; readonly id: number; readonly rows: number }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'result'; readonly result: WorkerResult };

/** Messages of the main thread to a worker thread. */
export type MainMessage = { readonly type: 'grant'; readonly id: number } | { readonly type: 'stop' };

const RUN_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Starts or joins a run and works on it until its ranges are done (or Ctrl-C, or a pause... which waits). */
export async function runScaled(
  ctx: CommandContext,
  mode: PlanMode,
  options: BulkOptions,
  scale: ScaleOptions,
): Promise<ExitCodeValue> {
  if (options.dryRun) throw new InvalidArgumentError(messages.runs.dryRun(), 'dry-run');
  const runId =
    scale.run ?? `${mode}-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`;
  if (!RUN_ID.test(runId)) throw new InvalidArgumentError(messages.runs.badRunId(), 'run');
  const models = bulkModels(ctx, mode, options.model);
  // A run may hold ranges of models another process planned (`--model` picks what this one plans).
  const runModels = bulkModels(ctx, mode);
  // Every model this run may walk has a row key, before any row or range is touched.
  assertRowKeys(runModels);
  const client = await ctx.client();
  const store = new RunStore(client);
  const log = (line: string) => {
    if (!options.quiet) ctx.out.streams.stderr.write(`${line}\n`);
  };
  // The flags that widen what a run takes are part of its mode: every process of a run must be
  // given the same ones, or rows and ranges would be handled differently, unseen. Checked before
  // this process changes anything of the run (its ranges, caps or state).
  // --from-pfe-key is recorded by a digest of its keys' cloak fingerprints (which every cloak
  // value stores already), never the keys: a process given other keys, or none, would fail the
  // rows it claims. A digest, not the list, keeps the mode short (a `String` is VARCHAR(191) on MySQL).
  const pfe = options.fromPfeKey && options.fromPfeKey.length > 0 ? new PfeImporter(options.fromPfeKey) : undefined;
  // So is the schema the process was built with (its models' encrypted fields, modes, blind
  // indexes, scopes and bindings, by a digest): a process of another deploy would encrypt,
  // index or decrypt the ranges it claims differently, or stop on a model it does not know.
  const runMode = [
    mode,
    ...(options.rescope ? ['--rescope'] : []),
    ...(options.rebind ? ['--rebind'] : []),
    ...(options.reindex ? ['--reindex'] : []),
    ...(pfe ? [pfeMode(pfe)] : []),
    schemaMode(runModels),
  ].join(' ');
  const existing = await store.get(runId);
  if (existing) checkMode(runId, existing.mode, runMode);
  // --restart clears the ranges and plans them again in open's transaction (a finished run runs
  // again; a paused one stays paused until `runs resume`), unless workers hold live leases.
  const restart = scale.restart && existing !== null;
  let announced = !restart;
  const settings: RunSettings = {
    ...(scale.maxRowsPerSecond !== undefined ? { maxRowsPerSecond: scale.maxRowsPerSecond } : {}),
    ...(scale.maxConcurrency !== undefined ? { maxConcurrency: scale.maxConcurrency } : {}),
  };
  const { run, created } = await store.open(
    runId,
    runMode,
    settings,
    models.map((model) => model.name),
    async (name) => {
      if (!announced) log(messages.runs.restarted(runId));
      announced = true;
      const planned = await planRanges(
        client,
        models.find((model) => model.name === name) as ModelMeta,
        scale.rangeRows,
      );
      log(
        messages.runs.planned(
          name,
          planned.length,
          planned.reduce((sum, range) => sum + range.rows, 0),
        ),
      );
      return planned;
    },
    { restart, overLiveLeases: scale.forceRestart === true },
  );
  // Another process may have created the run since the check above.
  checkMode(runId, run.mode, runMode);
  const ranges = await store.ranges(runId);
  if (run.state === 'done') {
    // A model this process was asked to run that the finished run never held would be left as it is.
    const missing = models.filter((model) => !ranges.some((range) => range.model === model.name));
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        messages.runs.doneWithout(
          runId,
          missing.map((model) => model.name),
        ),
        'run',
      );
    }
    log(messages.runs.alreadyDone(runId));
    const partial = ranges.filter((range) => range.state === 'partial').length;
    if (partial > 0) log(messages.runs.partialRanges(runId, partial));
    return reportBulk(
      ctx,
      mode,
      false,
      [],
      { run: { id: runId, state: 'done', ranges: { total: ranges.length, open: 0, partial } } },
      [],
      partial > 0,
    );
  }

  const threads = scale.workers !== undefined && scale.launch !== undefined;
  const count = scale.workers ?? 1;
  const prefix = `${hostname()}:${process.pid}:`;
  log(messages.runs.started(runId, created, ranges.length, count));
  // The run's rate cap, if it has one now or gets one later (any process may set it): every
  // worker asks through `throttle`, which waits only while there is a bucket.
  const burst = Math.max(options.batch, 1);
  const cap = run.settings.maxRowsPerSecond;
  let bucket = cap !== undefined ? new TokenBucket(cap, burst) : undefined;
  const throttle = (rows: number, signal?: AbortSignal): Promise<void> =>
    bucket ? bucket.take(rows, signal) : Promise.resolve();
  const progress = new RunProgress(runId, log, { quiet: options.quiet === true });
  const rowsByWorker = new Map<string, number>();
  const owners = Array.from({ length: count }, (_, i) => `${prefix}w${i + 1}`);
  for (const owner of owners) rowsByWorker.set(owner, 0);
  const onRows = (owner: string, rows: number) => rowsByWorker.set(owner, (rowsByWorker.get(owner) ?? 0) + rows);

  // Once a second: the run's caps (any process may change them), this process's share of the
  // rate cap (by live leases), and the progress of the whole run.
  const monitor = setInterval(() => {
    void store
      .poll(runId, prefix)
      .then((poll) => {
        if (!poll) return;
        const runCap = poll.run.settings.maxRowsPerSecond;
        if (runCap !== undefined) {
          const share =
            poll.ownLeases > 0 && poll.liveLeases > 0 ? poll.ownLeases / poll.liveLeases : 1 / (poll.liveLeases + 1);
          if (bucket) bucket.setRate(runCap * share);
          else bucket = new TokenBucket(runCap * share, burst);
        }
        progress.sample(poll.processed, poll.rows, rowsByWorker);
      })
      .catch(() => undefined);
  }, scale.pollMs ?? 1000);

  const startedAt = Date.now();
  let workers: WorkerResult[];
  try {
    workers = threads
      ? await settleAll(owners.map((owner) => startThread(owner, runId, mode, options, scale, throttle, onRows, log)))
      : await runHere(owners, runId, mode, runModels, ctx, options, scale, throttle, onRows, log);
  } finally {
    clearInterval(monitor);
  }
  const elapsedMs = Date.now() - startedAt;
  const final = await store.poll(runId, prefix).catch(() => null);
  // Ranges any process of the run (this one, or one killed before) finished with rows left undone.
  const partial = final
    ? (await store.ranges(runId).catch(() => [])).filter((range) => range.state === 'partial').length
    : 0;
  if (final) progress.sample(final.processed, final.rows, rowsByWorker, true);

  const byModel = new Map<string, MigrateResult>();
  for (const worker of workers) for (const result of worker.models) add(byModel, result);
  const rows = workers.reduce((sum, worker) => sum + worker.rows, 0);
  const rowsPerSecond = elapsedMs > 0 ? Math.round((rows * 1000) / elapsedMs) : 0;
  const results = [...byModel.values()].map((result) => ({ ...result, elapsedMs, rowsPerSecond }));
  // A worker that stopped on an error (not a takeover) stops the summary like a single run's model would.
  const stoppedWorker = workers.find((worker) => worker.stopped);
  if (stoppedWorker?.stopped && !results.some((result) => result.stopped)) {
    const model = results[0]?.model ?? models[0]?.name ?? '';
    if (results.length === 0) results.push({ ...emptyResult(model), stopped: stoppedWorker.stopped });
    else results[0] = { ...results[0], stopped: stoppedWorker.stopped };
  }
  const peakRss = Math.max(...workers.map((worker) => worker.peakRss), process.resourceUsage().maxRSS * 1024);
  const summary = {
    id: runId,
    created,
    state: final?.run.state ?? run.state,
    ranges: { total: ranges.length, open: final?.open ?? null, partial },
    processed: final?.processed ?? null,
    rows,
    elapsedMs,
    rowsPerSecond,
    threads,
    peakRssBytes: peakRss,
    workers: workers.map((worker) => ({
      owner: worker.owner,
      ranges: worker.ranges,
      tookOver: worker.tookOver,
      rows: worker.rows,
      rowsPerSecond: worker.rowsPerSecond,
      ...(worker.stopped ? { stopped: worker.stopped } : {}),
    })),
  };
  const lines = [
    messages.runs.workersSummary(workers.length, rows, rowsPerSecond, elapsedMs),
    ...workers.map((worker) =>
      messages.runs.workerSummary(
        worker.owner,
        worker.ranges,
        worker.rows,
        worker.rowsPerSecond,
        Math.round(peakRss / 2 ** 20),
      ),
    ),
  ];
  if (partial > 0) lines.push(messages.runs.partialRanges(runId, partial));
  return reportBulk(ctx, mode, false, results, { run: summary }, lines, partial > 0);
}

/**
 * How a run records `--from-pfe-key`: the number of keys and the first 16 hex digits of the
 * SHA-256 of their sorted cloak fingerprints, e.g. `--from-pfe-key(2 keys, set 9c41d07e5a2b3f60)`.
 */
export function pfeMode(pfe: PfeImporter): string {
  const set = createHash('sha256').update(pfe.fingerprints.join(',')).digest('hex').slice(0, 16);
  return `--from-pfe-key(${pfe.size} key${pfe.size === 1 ? '' : 's'}, set ${set})`;
}

/**
 * How a run records the schema of its processes: `schema` and the first 16 hex digits of the
 * SHA-256 of the models `mode` acts on (their metadata from the generated schema, by name).
 */
export function schemaMode(models: readonly ModelMeta[]): string {
  const sorted = [...models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `schema ${createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16)}`;
}

const SCHEMA_MODE = / schema [0-9a-f]{16}$/;

/**
 * Refuses to join run `id` of mode `recorded` with mode `given` unless they are the same. A run
 * started by an earlier version records no schema: it is joined on its flags alone.
 * @throws InvalidArgumentError naming what differs
 */
export function checkMode(id: string, recorded: string, given: string): void {
  if (recorded === given) return;
  const flags = given.replace(SCHEMA_MODE, '');
  if (!SCHEMA_MODE.test(recorded) && recorded === flags) return;
  if (recorded.replace(SCHEMA_MODE, '') === flags) {
    throw new InvalidArgumentError(messages.runs.otherSchema(id, recorded, given), 'run');
  }
  // The flags differ: they are what the user can change (the schema, if it differs too, follows).
  throw new InvalidArgumentError(messages.runs.otherMode(id, recorded.replace(SCHEMA_MODE, ''), flags), 'run');
}

/** The model's ranges: `rangeRows` rows each, in primary-key order, the last one open-ended. */
export async function planRanges(client: object, model: ModelMeta, rangeRows: number): Promise<PlannedRange[]> {
  const delegate = delegateOf(client, model.name);
  const total = await delegate.count();
  const boundaries = await rangeBoundaries(delegate, rowKeyOf(model), rangeRows);
  return [...boundaries, null].map((hi, seq) => ({
    model: model.name,
    seq,
    lo: seq === 0 ? null : boundaries[seq - 1],
    hi,
    rows: hi === null ? Math.max(0, total - boundaries.length * rangeRows) : rangeRows,
  }));
}

/** Workers on the main thread (a preloaded config, or no `--workers`): same loop, one event loop. */
async function runHere(
  owners: readonly string[],
  runId: string,
  mode: PlanMode,
  models: readonly ModelMeta[],
  ctx: CommandContext,
  options: BulkOptions,
  scale: ScaleOptions,
  throttle: (rows: number, signal?: AbortSignal) => Promise<void>,
  onRows: (owner: string, rows: number) => void,
  log: (line: string) => void,
): Promise<WorkerResult[]> {
  const client = await ctx.client();
  const crypto = await ctx.crypto();
  const keyStore = await ctx.keyStore();
  const shredGuard = await ctx.shredGuard();
  const pfe = options.fromPfeKey && options.fromPfeKey.length > 0 ? new PfeImporter(options.fromPfeKey) : undefined;
  return runStoppingOthers(
    owners.map(
      (owner) => (signal: AbortSignal) =>
        runRangeWorker({
          client,
          crypto,
          keyStore,
          shredGuard,
          models,
          mode,
          runId,
          owner,
          pfe,
          leaseSeconds: scale.leaseSeconds,
          batchSize: options.batch,
          concurrency: options.concurrency,
          keyringAttempts: options.keyringAttempts,
          rescope: options.rescope,
          rebind: options.rebind,
          reindex: options.reindex,
          pollMs: scale.pollMs,
          signal,
          throttle,
          onRows: (rows) => onRows(owner, rows),
          log,
        }),
    ),
    options.signal,
  );
}

/**
 * Runs `workers` together on this event loop, each with a signal that aborts on `signal` (Ctrl-C)
 * or when another worker throws. A worker that throws stops the others the way Ctrl-C would
 * (after their batches in flight), and the call rejects with its error only once every worker
 * returned: none still queries the client the command closes next. A guard: `runRangeWorker`
 * reports its errors in its result (`stopped`) rather than throwing, and a worker stopped that
 * way leaves the others to their ranges, as a failed process of a scaled run does.
 * @internal exported for its unit test
 * @param workers - each starts one worker, given the signal that stops it
 * @param signal - the user's interrupt, if any
 * @throws the first error a worker threw
 */
export function runStoppingOthers<T>(
  workers: readonly ((signal: AbortSignal) => Promise<T>)[],
  signal?: AbortSignal,
): Promise<T[]> {
  const failed = new AbortController();
  const stop = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
  return settleAll(
    // async: a worker that throws before returning its promise stops the others the same way.
    workers.map(async (start) => {
      try {
        return await start(stop);
      } catch (error) {
        failed.abort();
        throw error;
      }
    }),
  );
}

/**
 * Starts a worker thread on `worker-thread.js` beside the compiled CLI; when the CLI runs from
 * its TypeScript sources (under tsx: tests, development), the thread registers tsx's require
 * hook first, since Node does not hand a parent's loader hooks to worker threads.
 * @throws ConfigError when neither is there (the CLI bundled into one file)
 */
export function startWorker(data: ThreadData): Worker {
  const compiled = join(__dirname, '..', 'worker-thread.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData: data });
  const source = join(__dirname, '..', 'worker-thread.ts');
  if (!existsSync(source)) throw new ConfigError(messages.runs.noWorkerScript(join(__dirname, '..')));
  const hook = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(source)});`, {
    eval: true,
    workerData: data,
  });
}

/** One worker thread: it loads the config itself and reports rows, logs and its result. */
function startThread(
  owner: string,
  runId: string,
  mode: PlanMode,
  options: BulkOptions,
  scale: ScaleOptions,
  throttle: (rows: number, signal?: AbortSignal) => Promise<void>,
  onRows: (owner: string, rows: number) => void,
  log: (line: string) => void,
): Promise<WorkerResult> {
  const launch = scale.launch as NonNullable<ScaleOptions['launch']>;
  const data: ThreadData = {
    ...launch,
    mode,
    runId,
    owner,
    leaseSeconds: scale.leaseSeconds,
    batchSize: options.batch,
    concurrency: options.concurrency,
    keyringAttempts: options.keyringAttempts,
    fromPfeKey: options.fromPfeKey,
    rescope: options.rescope,
    rebind: options.rebind,
    reindex: options.reindex,
    pollMs: scale.pollMs,
  };
  const worker = startWorker(data);
  const stop = () => worker.postMessage({ type: 'stop' } satisfies MainMessage);
  options.signal?.addEventListener('abort', stop, { once: true });
  return new Promise((resolve) => {
    let result: WorkerResult | undefined;
    worker.on('message', (message: ThreadMessage) => {
      if (message.type === 'rows') onRows(owner, message.rows);
      else if (message.type === 'log') log(message.line);
      else if (message.type === 'result') result = message.result;
      else if (message.type === 'take') {
        const grant = () => worker.postMessage({ type: 'grant', id: message.id } satisfies MainMessage);
        void throttle(message.rows, options.signal).then(grant);
      }
    });
    const failed = (error: unknown): WorkerResult => ({ ...emptyWorkerResult(owner), stopped: describeError(error) });
    worker.on('error', (error) => {
      log(messages.runs.workerFailed(owner, describeError(error).message));
      result ??= failed(error);
    });
    worker.on('exit', () => {
      options.signal?.removeEventListener('abort', stop);
      resolve(result ?? failed(new Error(messages.runs.workerExited(owner))));
    });
  });
}
