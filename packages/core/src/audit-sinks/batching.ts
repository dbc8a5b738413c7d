/**
 * An audit sink that queues events and writes them in batches through an async `write` (a
 * database, a log service). `emit` never waits and never throws, so auditing never blocks or
 * fails a read: the queue is bounded, and events that do not fit, or that failed to write (a
 * failed batch is written again one event at a time, so one refused event loses only itself),
 * are dropped and counted (`dropped`, metric `hushfield.audit.dropped`).
 */
import type { AuditEvent, AuditSink } from '../audit';
import { needs } from '../preconditions';
import { countAuditDropped } from '../telemetry';

/**
 * Events of a failed batch that fail again alone, first in a row, after which the writer is
 * taken to be failing every write (an outage) and the rest of the batch is dropped unwritten.
 */
const OUTAGE_FAILURES = 3;

/** Options of {@link BatchingAuditSink}. */
export interface BatchingAuditSinkOptions {
  /** Events held at most while waiting to be written; default 10,000. Beyond it, new events are dropped. */
  readonly maxQueue?: number;
  /** Events per `write` call; default 100. */
  readonly batchSize?: number;
  /** Longest wait before a partial batch is written, in ms; default 1,000. */
  readonly flushIntervalMs?: number;
  /** Name in warnings and in the drop metric's `hushfield.audit.sink` attribute; default `batching`. */
  readonly name?: string;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  needs(Number.isSafeInteger(value) && value > 0, name, 'must be a positive integer');
  return value;
}

/**
 * Queues audit events and writes them in batches.
 * @example
 * const sink = new BatchingAuditSink((events) => db.insertMany(events), { batchSize: 200 });
 * // at shutdown
 * await sink.close();
 */
export class BatchingAuditSink implements AuditSink {
  readonly #write: (events: AuditEvent[]) => Promise<void>;
  readonly #maxQueue: number;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #name: string;
  #queue: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #dropped = 0;
  #written = 0;
  #warned = false;

  /** @throws InvalidArgumentError when `write` is not a function or a bound is not a positive integer */
  constructor(write: (events: AuditEvent[]) => Promise<void>, options: BatchingAuditSinkOptions = {}) {
    needs(typeof write === 'function', 'write', 'must be a function');
    this.#write = write;
    this.#maxQueue = positive(options.maxQueue, 10_000, 'options.maxQueue');
    this.#batchSize = positive(options.batchSize, 100, 'options.batchSize');
    this.#intervalMs = positive(options.flushIntervalMs, 1_000, 'options.flushIntervalMs');
    this.#name = options.name ?? 'batching';
  }

  /** Events dropped so far (queue full, or failed to write, alone as well as in their batch). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Events written so far. */
  get written(): number {
    return this.#written;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues `event`; never waits, never throws. */
  emit(event: AuditEvent): void {
    if (this.#queue.length >= this.#maxQueue) {
      this.#drop(1);
      return;
    }
    this.#queue.push(event);
    // One drain at a time takes every queued batch; the timer catches events queued as it ends.
    if (this.#queue.length >= this.#batchSize && this.#flushing === undefined) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs).unref();
  }

  /** Writes every queued event (one batch in flight at a time); resolves when the queue is empty. Never rejects. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#queue.length === 0) return;
    this.#flushing = this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  /** Flushes; call at shutdown. */
  close(): Promise<void> {
    return this.flush();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      try {
        await this.#write(batch);
        this.#written += batch.length;
      } catch (error) {
        if (batch.length === 1) this.#drop(1, error);
        else await this.#writeOneByOne(batch);
      }
    }
  }

  /**
   * A failed batch, written again one event at a time: an event the writer refuses (a value
   * longer than its column, say) is dropped alone, not with every other event of its batch.
   * When the first {@link OUTAGE_FAILURES} of them all fail too, the writer is failing whatever it
   * is given (the database is down): the rest of the batch is dropped without a write each,
   * which would cost the failing database a batch's worth of writes and `close()` as many
   * timeouts.
   */
  async #writeOneByOne(batch: AuditEvent[]): Promise<void> {
    let anyWritten = false;
    for (let i = 0; i < batch.length; i++) {
      try {
        await this.#write([batch[i]]);
        this.#written++;
        anyWritten = true;
      } catch (error) {
        const rest = batch.length - i - 1;
        // Only before any went through: after that, a failure is one event's, not the writer's.
        if (!anyWritten && i + 1 >= OUTAGE_FAILURES && rest > 0) return this.#drop(1 + rest, error);
        this.#drop(1, error);
      }
    }
  }

  #drop(count: number, error?: unknown): void {
    this.#dropped += count;
    countAuditDropped(this.#name, count);
    if (this.#warned) return;
    // One warning per sink: a database outage would otherwise warn per batch.
    this.#warned = true;
    const reason = error instanceof Error ? error.name : 'error';
    const why = error === undefined ? 'its queue is full' : `a write failed (${reason})`;
    process.emitWarning(`hushfield audit sink '${this.#name}' is dropping events: ${why}`, 'HushfieldAuditWarning');
  }
}
