/**
 * The bulk engine behind `reencrypt` and `decrypt`: for one model, walks primary-key batches,
 * plans each (`row-plan.ts`), writes with compare-and-swap (`cas-writer.ts`), checkpoints
 * after every committed batch (`checkpoint.ts`), and re-reads rows that lost a race on later
 * passes. Up to `concurrency` batches are planned and written at once; the checkpoint only
 * advances past a batch when every batch before it committed, so a killed run never skips.
 */
import { KeyDestroyedError } from '@hushfield/core';
import type { FieldCrypto, KeyStore } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import type { CasWriter } from './cas-writer';
import { CheckpointStore, checkpointId } from './checkpoint';
import type { Checkpoint, CheckpointDetail } from './checkpoint';
import type { BasePrismaClient } from './config';
import { describeError, isHushfieldError } from './output';
import type { PfeImporter } from './pfe-import';
import type { Progress } from './progress';
import { emptyTally, planBatch, plannedColumns } from './row-plan';
import { currentIndexVersions } from './value-context';
import type { PlanContext, PlanMode, PlanTally, RowFailure } from './row-plan';
import { decodeKey, delegateOf, encodeKey, fetchByKeys, keyOf, readAhead, walkBatches } from './walker';

/** How to treat an existing checkpoint: resume an unfinished one unless keys rotated since (`auto`). */
export type ResumePolicy = 'auto' | 'resume' | 'restart';

/** Options of one model's run. */
export interface MigrateOptions {
  readonly client: BasePrismaClient;
  readonly crypto: FieldCrypto;
  readonly keyStore: KeyStore;
  readonly model: ModelMeta;
  readonly mode: PlanMode;
  readonly writer: CasWriter;
  readonly checkpoints?: CheckpointStore;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly resume: ResumePolicy;
  readonly pfe?: PfeImporter;
  readonly progress: Progress;
  /** Passes over rows that lost a race (default 5). */
  readonly maxPasses?: number;
  /** Attempts per batch when the keyring is throttled or unreachable (default 5). */
  readonly keyringAttempts?: number;
  /** Base of the exponential backoff between keyring attempts (default 500 ms). */
  readonly backoffMs?: number;
  readonly log: (line: string) => void;
  /** When aborted (Ctrl-C), no new batch starts; in-flight ones commit and the run stops. */
  readonly signal?: AbortSignal;
}

/** What one model's run did. */
export interface MigrateResult extends PlanTally {
  readonly model: string;
  /** Rows read in this run. */
  scanned: number;
  /** Rows written (or, in a dry run, that would be). */
  written: number;
  /** Rows skipped because their checkpoint said they were done. */
  resumedFrom: string | null;
  /** CAS misses (each re-read later). */
  lostRaces: number;
  /** Rows still not done after the last pass because of lost races. */
  pending: number;
  /** Rows left undone by errors, including those of the unfinished run this one resumed. */
  failed: number;
  readonly failures: RowFailure[];
  /**
   * Set when the resumed run lost more races than its checkpoint could record: rows before
   * the cursor may still be stale, so a full pass (`--restart`) is needed.
   */
  pendingOverflow?: boolean;
  elapsedMs: number;
  rowsPerSecond: number;
  /** Set when the run stopped early (keyring down after all attempts, database gone). */
  stopped?: { code: string; name: string; message: string };
}

const MAX_REPORTED_FAILURES = 100;

/** Runs one model. A run that cannot go on (keyring down) returns with `stopped` set, checkpoint saved. */
export async function migrateModel(options: MigrateOptions): Promise<MigrateResult> {
  const { model, mode, checkpoints, dryRun } = options;
  const id = checkpointId(mode, model.name);
  const startedAt = new Date();
  const result: MigrateResult = {
    model: model.name, ...emptyTally(), scanned: 0, written: 0, resumedFrom: null, lostRaces: 0, pending: 0, failed: 0, failures: [], elapsedMs: 0, rowsPerSecond: 0,
  };
  const delegate = delegateOf(options.client, model.name);
  const columns = plannedColumns(model);
  const start = await startingPoint(options, id);
  let processed = start?.processed ?? 0;
  const pending = new Map<string, unknown[]>((start?.detail.pending ?? []).map((key) => [key, decodeKey(key)]));
  let cursor = start?.cursor ?? null;
  let detailStartedAt = start?.detail.startedAt ?? startedAt.toISOString();
  result.resumedFrom = cursor;
  // Rows the resumed run left undone lie before the cursor: this run cannot end as done.
  result.failed = start?.detail.failed ?? 0;
  if (start?.detail.pendingOverflow) result.pendingOverflow = true;
  if (!dryRun && checkpoints && !start) detailStartedAt = (await checkpoints.start(id, startedAt)).detail.startedAt;

  const detail = (): CheckpointDetail => ({
    startedAt: detailStartedAt, pending: [...pending.keys()], failed: result.failed, ...(result.pendingOverflow ? { pendingOverflow: true } : {}),
  });
  const save = async (state: 'running' | 'done' | 'partial') => {
    if (!dryRun && checkpoints) await checkpoints.save(id, cursor, processed, detail(), state);
  };

  const total = await delegate.count();
  options.progress.start(model.name, total, Math.min(processed, total));
  const queue: { done: Promise<void>; last: string; size: number }[] = [];
  // Checkpoint saves run one after another in the background: each starts once its batch
  // committed and the previous save finished, so the stored cursor only moves forward, and
  // the next batch is planned meanwhile. A failed save stops the run at the next commit.
  let saving: Promise<void> = Promise.resolve();
  const commitHead = async () => {
    // Leave a failed head in the queue: the stop path must see it and not advance past it.
    const head = queue[0];
    await head.done;
    queue.shift();
    cursor = head.last;
    processed += head.size;
    options.progress.advance(head.size);
    await saving;
    saving = save('running');
    saving.catch(() => undefined); // awaited by the next commit or at the end
  };
  try {
    const context = await planContext(options);
    const runBatch = (rows: Record<string, unknown>[]) => withKeyringRetry(options, () => processBatch(rows, context, options, result, pending));
    // Rows a killed run left pending come first, then the walk from the cursor.
    await retryPending(options, context, result, pending, columns, delegate, 1);
    const batches = walkBatches(delegate, { idFields: model.idFields, select: columns, batchSize: options.batchSize, after: cursor ? decodeKey(cursor) : undefined });
    for await (const rows of readAhead(batches)) {
      // Let timers run between batches (cache expiry, progress, signals): an in-process
      // database such as PGlite can otherwise resolve every query without leaving the microtask queue.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) throw new InterruptedError();
      const done = runBatch(rows);
      done.catch(() => undefined); // awaited in order by commitHead
      queue.push({ done, last: encodeKey(keyOf(rows[rows.length - 1], model.idFields)), size: rows.length });
      while (queue.length >= Math.max(1, options.concurrency)) await commitHead();
    }
    while (queue.length > 0) await commitHead();
    await saving;
    for (let pass = 2; pending.size > 0 && pass <= (options.maxPasses ?? 5); pass++) {
      await sleep(100 * pass);
      await retryPending(options, context, result, pending, columns, delegate, pass);
    }
  } catch (error) {
    // Stop cleanly: let in-flight batches settle and advance the checkpoint over those that
    // committed, in order, up to the first that did not.
    const settled = await Promise.allSettled(queue.map((entry) => entry.done));
    await saving.catch(() => undefined);
    for (const [i, outcome] of settled.entries()) {
      if (outcome.status === 'rejected') break;
      cursor = queue[i].last;
      processed += queue[i].size;
      options.progress.advance(queue[i].size);
    }
    await save('running').catch(() => undefined);
    options.progress.stop();
    result.stopped = describeError(error);
    return finish(result, startedAt, pending.size);
  }

  await save(pending.size === 0 && result.failed === 0 && !result.pendingOverflow ? 'done' : 'partial');
  options.progress.stop();
  return finish(result, startedAt, pending.size);
}

function finish(result: MigrateResult, startedAt: Date, pending: number): MigrateResult {
  result.pending = pending;
  result.elapsedMs = Date.now() - startedAt.getTime();
  result.rowsPerSecond = result.elapsedMs > 0 ? Math.round((result.scanned * 1000) / result.elapsedMs) : 0;
  return result;
}

/** The checkpoint to resume from, or null to start from the first row. */
async function startingPoint(options: MigrateOptions, id: string): Promise<Checkpoint | null> {
  const { checkpoints, resume, dryRun, log } = options;
  if (!checkpoints) return null;
  if (resume === 'restart') {
    if (!dryRun && (await checkpoints.clear(id))) log(`${options.model.name}: checkpoint cleared (--restart)`);
    return null;
  }
  const existing = await checkpoints.get(id);
  if (!existing || existing.state !== 'running') {
    if (resume === 'resume') log(`${options.model.name}: no unfinished run to resume; starting from the first row`);
    return null;
  }
  if (resume === 'auto' && options.mode === 'reencrypt' && (await keysRotatedSince(options.keyStore, new Date(existing.detail.startedAt)))) {
    log(`${options.model.name}: a key was rotated since the unfinished run started (${existing.detail.startedAt}); starting over (--resume forces resuming)`);
    return null;
  }
  if (existing.detail.pendingOverflow) {
    log(`${options.model.name}: the unfinished run lost more races than its checkpoint could record; run again with --restart afterwards for a full pass`);
  }
  log(`${options.model.name}: resuming after ${existing.cursor ?? 'the start'} (${existing.processed} rows done, checkpoint of ${existing.updatedAt.toISOString()}; --restart ignores it)`);
  return existing;
}

/** Whether a key version above 1 was created after `since` (rows before the cursor may be stale). */
async function keysRotatedSince(keyStore: KeyStore, since: Date): Promise<boolean> {
  const keys = await keyStore.list();
  return keys.some((key) => key.version > 1 && key.createdAt.getTime() > since.getTime());
}

async function planContext(options: MigrateOptions): Promise<PlanContext> {
  const { crypto, keyStore, model, mode, dryRun, pfe } = options;
  const indexVersions = new Map<string, number | null>();
  if (mode === 'reencrypt') {
    const indexKey = dryRun ? await keyStore.getActive('index', 'default') : null;
    for (const index of Object.values(model.blindIndexes)) {
      if (dryRun && !indexKey) indexVersions.set(index.name, null);
      else if (dryRun) indexVersions.set(index.name, indexKey?.version ?? null);
    }
    if (!dryRun) {
      for (const [name, version] of await withKeyringRetry(options, () => currentIndexVersions(model, crypto))) indexVersions.set(name, version);
    }
  }
  const activeKey = async (scope: string) => {
    if (dryRun) {
      // Read-only: look the key up instead of letting the hierarchy create it.
      const key = await keyStore.getActive('scope', scope);
      if (key) return { keyId: key.keyId, version: key.version };
      const destroyed = (await keyStore.list({ kind: 'scope', scope, state: 'destroyed' }))[0];
      if (destroyed) throw new KeyDestroyedError(`scope ${JSON.stringify(scope)} was destroyed (crypto-shredded)`, destroyed);
      return null;
    }
    return crypto.keys.activeScopeKey(scope);
  };
  return { model, crypto, mode, pfe, dryRun, activeKey, indexVersions };
}

async function processBatch(
  rows: Record<string, unknown>[],
  context: PlanContext,
  options: MigrateOptions,
  result: MigrateResult,
  pending: Map<string, unknown[]>,
): Promise<void> {
  const plan = await planBatch(rows, context);
  const outcomes = options.dryRun ? [] : await options.writer.write(plan.writes);
  result.scanned += rows.length;
  for (const key of Object.keys(plan.tally) as (keyof PlanTally)[]) result[key] += plan.tally[key];
  if (pending.size > 0) for (const row of rows) pending.delete(encodeKey(keyOf(row, options.model.idFields)));
  const fail = (failure: RowFailure) => {
    result.failed++;
    if (result.failures.length < MAX_REPORTED_FAILURES) result.failures.push(failure);
  };
  plan.failures.forEach(fail);
  if (options.dryRun) {
    result.written += plan.wouldWrite;
    return;
  }
  outcomes.forEach((outcome, i) => {
    const key = plan.writes[i].key;
    if (outcome.status === 'applied') result.written++;
    else if (outcome.status === 'lost') {
      result.lostRaces++;
      pending.set(encodeKey(key), [...key]);
    } else {
      const code = isHushfieldError(outcome.error) ? outcome.error.code : String((outcome.error as { code?: unknown })?.code ?? 'DATABASE');
      fail({ key: JSON.stringify(key), code, message: 'update failed (e.g. a unique blind index collides with another row)' });
    }
  });
}

async function retryPending(
  options: MigrateOptions,
  context: PlanContext,
  result: MigrateResult,
  pending: Map<string, unknown[]>,
  columns: string[],
  delegate: ReturnType<typeof delegateOf>,
  pass: number,
): Promise<void> {
  if (pending.size === 0) return;
  options.log(`${options.model.name}: pass ${pass}: re-reading ${pending.size} row(s) changed by another writer meanwhile`);
  const keys = [...pending.values()];
  for (let i = 0; i < keys.length; i += options.batchSize) {
    const chunk = keys.slice(i, i + options.batchSize);
    const rows = await fetchByKeys(delegate, options.model.idFields, chunk, columns);
    const found = new Set(rows.map((row) => encodeKey(keyOf(row, options.model.idFields))));
    for (const key of chunk) if (!found.has(encodeKey(key))) pending.delete(encodeKey(key)); // deleted meanwhile
    const scannedBefore = result.scanned;
    await withKeyringRetry(options, () => processBatch(rows, context, options, result, pending));
    result.scanned = scannedBefore; // re-reads are not new rows
  }
}

/** Retries `work` while the keyring reports a retryable failure, with exponential backoff. */
async function withKeyringRetry<T>(options: MigrateOptions, work: () => Promise<T>): Promise<T> {
  const attempts = options.keyringAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const retryable = isHushfieldError(error) && error.code === 'HUSHFIELD_KEYRING' && (error as { retryable?: boolean }).retryable === true;
      if (!retryable || attempt >= attempts) throw error;
      const delay = (options.backoffMs ?? 500) * 2 ** (attempt - 1);
      options.log(`${options.model.name}: keyring unavailable (${error.message}); retrying in ${delay} ms (attempt ${attempt + 1}/${attempts})`);
      await sleep(delay);
    }
  }
}

/** The run was interrupted (SIGINT/SIGTERM) between batches; its checkpoint is saved. */
class InterruptedError extends Error {
  readonly code = 'INTERRUPTED';

  constructor() {
    super('interrupted: stopped after the last committed batch');
    this.name = 'InterruptedError';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
