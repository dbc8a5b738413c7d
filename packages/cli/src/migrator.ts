/**
 * The bulk engine behind `reencrypt` and `decrypt`: for one model, walks primary-key batches,
 * plans each (`row-plan.ts`), writes with compare-and-swap (`cas-writer.ts`), checkpoints
 * after every committed batch (`checkpoint.ts`), and re-reads rows that lost a race on later
 * passes. Up to `concurrency` batches are planned and written at once; the checkpoint only
 * advances past a batch when every batch before it committed, so a killed run never skips.
 * A scaled-out run (`range-worker.ts`) runs one {@link RangeTarget} at a time the same way,
 * its position kept in the range's row instead of the model's checkpoint. Where a run starts
 * is decided in `migrator-resume.ts`, what it asks of the keyring is in `migrator-keys.ts`,
 * and what it did is a {@link MigrateResult} (`migrator-result.ts`).
 */
import { type FieldCrypto, type KeyStore, type KeyVersionRef, settleAll, type StoredKey } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import type { CasWriter, RowWrite } from './cas-writer';
import { CheckpointStore, MAX_PENDING, checkpointId } from './checkpoint';
import type { Checkpoint, CheckpointDetail, CheckpointState, RunFlag } from './checkpoint';
import type { BasePrismaClient } from './config';
import { messages } from './messages';
import { planContext, sleep, withKeyringRetry } from './migrator-keys';
import { emptyResult } from './migrator-result';
import type { MigrateResult } from './migrator-result';
import { rangeStart, runFlags, startingPoint } from './migrator-resume';
import type { RangeTarget, ResumePolicy } from './migrator-resume';
import { describeError, isHushfieldError } from './output';
import type { PfeImporter } from './pfe-import';
import type { Progress } from './progress';
import { planBatch, plannedColumns } from './row-plan';
import type { BatchPlan, PlanContext, PlanMode, PlanTally, RowFailure } from './row-plan';
import { refId } from './shred-guard';
import { decodeKey, delegateOf, encodeKey, fetchByKeys, keyOf, readAhead, walkBatches } from './walker';
import { rowKeyOf } from './row-key';

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
  /** Move values sealed under another scope's key than their row's (`--rescope`; see `PlanContext.rescope`). */
  readonly rescope?: boolean;
  /** Open values sealed before the model's binding was added (`--rebind`; see `PlanContext.rebind`). */
  readonly rebind?: boolean;
  /** Recompute every index value, writing those that differ (`reencrypt --reindex`; see `PlanContext.reindex`). */
  readonly reindex?: boolean;
  readonly resume: ResumePolicy;
  readonly pfe?: PfeImporter;
  readonly progress: Progress;
  /** Passes over rows that lost a race (default 5). */
  readonly maxPasses?: number;
  /**
   * Most rows that lost a race held for re-reading (default {@link MAX_PENDING}, what a
   * checkpoint records). Beyond it the run sets `pendingOverflow` and ends `partial`, so the
   * run's memory does not grow with the rows other writers change.
   */
  readonly maxPending?: number;
  /** Attempts per batch when the keyring is throttled or unreachable (default 5). */
  readonly keyringAttempts?: number;
  /** Base of the exponential backoff between keyring attempts (default 500 ms). */
  readonly backoffMs?: number;
  readonly log: (line: string) => void;
  /** When aborted (Ctrl-C), no new batch starts; in-flight ones commit and the run stops. */
  readonly signal?: AbortSignal;
  /** Run only this primary-key range, its position kept by the range (not the model's checkpoint). */
  readonly range?: RangeTarget;
  /** Waits until `rows` more rows may be read (a rate cap); called before each batch. */
  readonly throttle?: (rows: number) => Promise<void>;
}

const MAX_REPORTED_FAILURES = 100;

/** Runs one model. A run that cannot go on (keyring down) returns with `stopped` set, checkpoint saved. */
export function migrateModel(options: MigrateOptions): Promise<MigrateResult> {
  return new ModelRun(options).run();
}

/** An in-flight batch: settles when its rows are planned and written. */
interface QueuedBatch {
  readonly done: Promise<void>;
  /** Encoded key of its last row: the checkpoint cursor once it commits. */
  readonly last: string;
  readonly size: number;
}

/**
 * One model's run: the options, the tally, the rows that lost a race and the checkpoint
 * position, held together while batches are walked, planned, written and committed in order.
 */
class ModelRun {
  private readonly model: ModelMeta;
  private readonly id: string;
  private readonly startedAt = new Date();
  private readonly result: MigrateResult;
  private readonly delegate: ReturnType<typeof delegateOf>;
  private readonly columns: string[];
  /** The fields rows are walked, checkpointed and written by (see `row-key.ts`). */
  private readonly key: readonly string[];
  /** Rows that lost a race, by encoded key: re-read on the next pass (at most `maxPending`). */
  private readonly pending = new Map<string, unknown[]>();
  private readonly maxPending: number;
  private readonly queue: QueuedBatch[] = [];
  /** Checkpoint saves run one after another in the background (see {@link commitHead}). */
  private saving: Promise<void> = Promise.resolve();
  private cursor: string | null = null;
  private processed = 0;
  private detailStartedAt: string;
  /** The flags of the run the checkpoint belongs to (see `CheckpointDetail.flags`). */
  private flags: readonly RunFlag[];

  constructor(private readonly options: MigrateOptions) {
    this.model = options.model;
    this.id = checkpointId(options.mode, options.model.name);
    this.result = emptyResult(this.model.name);
    this.delegate = delegateOf(options.client, this.model.name);
    this.key = rowKeyOf(this.model);
    this.columns = plannedColumns(this.model);
    this.detailStartedAt = this.startedAt.toISOString();
    this.flags = runFlags(options);
    this.maxPending = options.maxPending ?? MAX_PENDING;
  }

  async run(): Promise<MigrateResult> {
    const { options, result } = this;
    const { range } = options;
    await this.resumeFrom(range ? rangeStart(range) : await startingPoint(options, this.id));
    if (range) result.resumedFrom = range.cursor;
    // A range knows its size: counting a large table once per range would cost a scan each.
    const total = range ? range.rows : await this.delegate.count();
    options.progress.start(this.model.name, total, Math.min(this.processed, total));
    try {
      const context = await planContext(options);
      // Rows a killed run left pending come first, then the walk from the cursor.
      await this.retryPending(context, 1);
      const batches = walkBatches(this.delegate, {
        keyFields: this.key,
        select: this.columns,
        batchSize: options.batchSize,
        after: this.cursor ? decodeKey(this.cursor) : undefined,
        upTo: range?.hi ? decodeKey(range.hi) : undefined,
      });
      for await (const rows of readAhead(batches)) {
        // Let timers run between batches (cache expiry, progress, signals): an in-process
        // database such as PGlite can otherwise resolve every query without leaving the microtask queue.
        await new Promise((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) throw new InterruptedError();
        if (options.throttle) {
          await options.throttle(rows.length);
          if (options.signal?.aborted) throw new InterruptedError();
        }
        const done = withKeyringRetry(options, () => this.processBatch(rows, context));
        done.catch(() => undefined); // awaited in order by commitHead
        this.queue.push({
          done,
          last: encodeKey(keyOf(rows[rows.length - 1], this.key)),
          size: rows.length,
        });
        while (this.queue.length >= Math.max(1, options.concurrency)) await this.commitHead();
      }
      while (this.queue.length > 0) await this.commitHead();
      await this.saving;
      for (let pass = 2; this.pending.size > 0 && pass <= (options.maxPasses ?? 5); pass++) {
        await sleep(100 * pass);
        await this.retryPending(context, pass);
      }
    } catch (error) {
      await this.stopAfterCommitted();
      result.stopped = describeError(error);
      return this.finish();
    }
    // Plaintext left in a strict field is unreadable through the extension: the model is not done.
    const complete =
      this.pending.size === 0 && result.failed === 0 && result.strictPlaintext === 0 && !result.pendingOverflow;
    await this.save(complete ? 'done' : 'partial');
    options.progress.stop();
    return this.finish();
  }

  /** Takes over an unfinished run's position, or opens a new checkpoint. */
  private async resumeFrom(start: Checkpoint | null): Promise<void> {
    const { options, result } = this;
    this.processed = start?.processed ?? 0;
    for (const key of start?.detail.pending ?? []) this.holdPending(key, decodeKey(key));
    this.cursor = start?.cursor ?? null;
    result.resumedFrom = this.cursor;
    // Rows the resumed run left undone lie before the cursor: this run cannot end as done.
    result.failed = start?.detail.failed ?? 0;
    // So are the plaintext values it found in strict fields (left alone, still unreadable).
    result.strictPlaintext = start?.detail.strictPlaintext ?? 0;
    if (start?.detail.pendingOverflow) result.pendingOverflow = true;
    if (start) {
      this.detailStartedAt = start.detail.startedAt;
      // What every row before the cursor was handled with: the flags both runs were given.
      this.flags = (start.detail.flags ?? []).filter((flag) => this.flags.includes(flag));
    } else if (!options.dryRun && options.checkpoints) {
      this.detailStartedAt = (
        await options.checkpoints.start(this.id, this.startedAt, runFlags(options), this.key)
      ).detail.startedAt;
    }
  }

  private detail(): CheckpointDetail {
    return {
      startedAt: this.detailStartedAt,
      pending: [...this.pending.keys()],
      failed: this.result.failed,
      ...(this.result.strictPlaintext > 0 ? { strictPlaintext: this.result.strictPlaintext } : {}),
      ...(this.result.pendingOverflow ? { pendingOverflow: true } : {}),
      ...(this.flags.length > 0 ? { flags: this.flags } : {}),
      keyFields: this.key,
    };
  }

  private async save(state: CheckpointState): Promise<void> {
    const { checkpoints, dryRun, range } = this.options;
    if (dryRun) return;
    if (range) await range.save(this.cursor, this.processed, this.detail(), state);
    else if (checkpoints) await checkpoints.save(this.id, this.cursor, this.processed, this.detail(), state);
  }

  /**
   * Waits for the oldest in-flight batch and moves the checkpoint past it. Saves start once
   * their batch committed and the previous save finished, so the stored cursor only moves
   * forward while the next batch is planned; a failed save stops the run at the next commit.
   */
  private async commitHead(): Promise<void> {
    // Leave a failed head in the queue: the stop path must see it and not advance past it.
    const head = this.queue[0];
    await head.done;
    this.queue.shift();
    this.advance(head);
    await this.saving;
    this.saving = this.save('running');
    this.saving.catch(() => undefined); // awaited by the next commit or at the end
  }

  private advance(batch: QueuedBatch): void {
    this.cursor = batch.last;
    this.processed += batch.size;
    this.options.progress.advance(batch.size);
  }

  /**
   * Stops cleanly: lets in-flight batches settle and advances the checkpoint over those that
   * committed, in order, up to the first that did not.
   */
  private async stopAfterCommitted(): Promise<void> {
    const settled = await Promise.allSettled(this.queue.map((entry) => entry.done));
    await this.saving.catch(() => undefined);
    for (const [i, outcome] of settled.entries()) {
      if (outcome.status === 'rejected') break;
      this.advance(this.queue[i]);
    }
    await this.save('running').catch(() => undefined);
    this.options.progress.stop();
  }

  private finish(): MigrateResult {
    const { result } = this;
    result.pending = this.pending.size;
    result.elapsedMs = Date.now() - this.startedAt.getTime();
    result.rowsPerSecond = result.elapsedMs > 0 ? Math.round((result.scanned * 1000) / result.elapsedMs) : 0;
    return result;
  }

  /** Plans and writes one batch, and records what happened to each row. */
  private async processBatch(rows: Record<string, unknown>[], context: PlanContext): Promise<void> {
    const { options, result, pending } = this;
    const plan = await planBatch(rows, context);
    // A writer that guards its writes checks the keys in the write's own transaction instead.
    if (!options.dryRun && !options.writer.guardsShreds) await this.dropShredded(plan);
    const outcomes = options.dryRun ? [] : await options.writer.write(plan.writes);
    result.scanned += rows.length;
    for (const key of Object.keys(plan.tally) as (keyof PlanTally)[]) result[key] += plan.tally[key];
    if (pending.size > 0) for (const row of rows) pending.delete(encodeKey(keyOf(row, this.key)));
    plan.failures.forEach((failure) => this.fail(failure));
    if (options.dryRun) {
      result.written += plan.wouldWrite;
      return;
    }
    outcomes.forEach((outcome, i) => {
      const key = plan.writes[i].key;
      if (outcome.status === 'applied') {
        result.written++;
        return;
      }
      // Not written: what it would have counted for is taken out of the tally (a row that lost
      // a race counts when a later pass writes it).
      const counted = plan.tallies[i];
      if (counted) for (const name of Object.keys(counted) as (keyof PlanTally)[]) result[name] -= counted[name];
      if (outcome.status === 'lost') {
        result.lostRaces++;
        this.holdPending(encodeKey(key), [...key]);
      } else if (outcome.status === 'shredded') {
        this.fail(shreddedFailure(key, outcome.scope));
      } else {
        const code = isHushfieldError(outcome.error)
          ? outcome.error.code
          : String((outcome.error as { code?: unknown })?.code ?? 'DATABASE');
        this.fail({ key: encodeKey(key), code, message: messages.migrate.updateFailed() });
      }
    });
  }

  /**
   * Takes out of `plan` (as failed rows) the writes whose values were read under a scope key
   * destroyed since: the run's key cache may still hold a key another process shredded (for up
   * to its TTL), and a row planned from it must not carry that scope's data on (as plaintext
   * written back by `decrypt`, under another scope by `--rescope`, or into a rebuilt index).
   * One key-store lookup per batch, just before its write: for a writer without a
   * `ShredGuard` (a key store the configuration supplies), so a shred landing between
   * this lookup and the write is not seen.
   */
  private async dropShredded(plan: BatchPlan): Promise<void> {
    const refs = new Map<string, KeyVersionRef>();
    for (const write of plan.writes) for (const ref of write.keys ?? []) refs.set(refId(ref), ref);
    if (refs.size === 0) return;
    const { keyStore } = this.options;
    const stored = keyStore.getVersions
      ? await keyStore.getVersions([...refs.values()])
      : (await settleAll([...refs.values()].map((ref) => keyStore.getVersion(ref.keyId, ref.version)))).filter(
          (key): key is StoredKey => key !== null,
        );
    const destroyed = new Map<string, string>();
    for (const key of stored)
      if (key.state === 'destroyed' && refs.has(refId(key))) destroyed.set(refId(key), key.scope);
    if (destroyed.size === 0) return;
    const kept: RowWrite[] = [];
    const keptTallies: PlanTally[] = [];
    plan.writes.forEach((write, i) => {
      const hit = write.keys?.find((ref) => destroyed.has(refId(ref)));
      if (hit === undefined) {
        kept.push(write);
        if (plan.tallies[i]) keptTallies.push(plan.tallies[i]);
        return;
      }
      // Not written: what it would have counted for is taken out of the batch's tally.
      const counted = plan.tallies[i];
      if (counted) for (const key of Object.keys(counted) as (keyof PlanTally)[]) plan.tally[key] -= counted[key];
      plan.failures.push(shreddedFailure(write.key, destroyed.get(refId(hit)) as string));
    });
    plan.writes.splice(0, plan.writes.length, ...kept);
    plan.tallies.splice(0, plan.tallies.length, ...keptTallies);
  }

  /** Holds a row for re-reading; past `maxPending` rows, notes that a full pass is needed instead. */
  private holdPending(encoded: string, key: unknown[]): void {
    if (this.pending.has(encoded) || this.pending.size < this.maxPending) this.pending.set(encoded, key);
    else this.result.pendingOverflow = true;
  }

  private fail(failure: RowFailure): void {
    this.result.failed++;
    if (this.result.failures.length < MAX_REPORTED_FAILURES) this.result.failures.push(failure);
  }

  /** Re-reads the rows that lost a race (or that a killed run left pending) and plans them again. */
  private async retryPending(context: PlanContext, pass: number): Promise<void> {
    const { options, result, pending, model } = this;
    if (pending.size === 0) return;
    options.log(messages.migrate.rereading(model.name, pass, pending.size));
    const keys = [...pending.values()];
    for (let i = 0; i < keys.length; i += options.batchSize) {
      const chunk = keys.slice(i, i + options.batchSize);
      const rows = await fetchByKeys(this.delegate, this.key, chunk, this.columns);
      const found = new Set(rows.map((row) => encodeKey(keyOf(row, this.key))));
      for (const key of chunk) if (!found.has(encodeKey(key))) pending.delete(encodeKey(key)); // deleted meanwhile
      const scannedBefore = result.scanned;
      await withKeyringRetry(options, () => this.processBatch(rows, context));
      result.scanned = scannedBefore; // re-reads are not new rows
    }
  }
}

/** A row not written because a key its values were read under was shredded (in `scope`) meanwhile. */
function shreddedFailure(key: readonly unknown[], scope: string): RowFailure {
  return { key: encodeKey(key), code: 'HUSHFIELD_KEY_DESTROYED', message: messages.migrate.shreddedMeanwhile(scope) };
}

/** The run was interrupted (SIGINT/SIGTERM) between batches; its checkpoint is saved. */
class InterruptedError extends Error {
  readonly code = 'INTERRUPTED';

  constructor() {
    super(messages.migrate.interrupted());
    this.name = 'InterruptedError';
  }
}
