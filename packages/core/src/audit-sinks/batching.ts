/**
 * An audit sink that queues events and writes them in batches through an async `write` (a
 * database, a log service). `emit` never waits and never throws, so auditing never blocks or
 * fails a read: the queue is bounded, and events that do not fit, or that failed to write (a
 * failed batch is written again one event at a time, so one refused event loses only itself),
 * are dropped and counted (`dropped`, metric `hushfield.audit.dropped`). `close()` waits a bounded
 * time and says, with a typed error, how many events it could not see written.
 */
import type { AuditEvent, AuditSink } from '../audit';
import { AuditUnwrittenError } from '../errors';
import { messages } from '../messages';
import { checkOptionsObject, needs, needsName } from '../preconditions';
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
  /**
   * Name in warnings, in {@link AuditUnwrittenError} and in the drop metric's
   * `hushfield.audit.sink` attribute: a string of 1 to {@link MAX_SINK_NAME_BYTES} UTF-8 bytes;
   * default `batching`.
   */
  readonly name?: string;
  /**
   * Longest wait of {@link BatchingAuditSink.close} for the queue to be written, in ms; default
   * 10,000. Past it (a write that never returns), `close()` rejects with an
   * {@link AuditUnwrittenError} naming how many events are not written, so a shutdown does not
   * hang on its audit sink, nor lose events without saying so.
   */
  readonly closeTimeoutMs?: number;
}

/** Longest `name` of a sink, in UTF-8 bytes (it goes into warnings and a metric attribute). */
export const MAX_SINK_NAME_BYTES = 64;

/** The longest wait a Node timer holds (2³¹−1 ms, about 24.8 days): a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  needs(Number.isSafeInteger(value) && value > 0, name, 'must be a positive integer');
  return value;
}

/** A wait in ms a timer will hold: a longer `closeTimeoutMs` made `close()` give up after 1 ms. */
function timerMs(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  needs(
    Number.isSafeInteger(value) && value > 0 && value <= MAX_TIMER_MS,
    name,
    `must be a positive integer of at most ${MAX_TIMER_MS}`,
  );
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
  readonly #closeTimeoutMs: number;
  #queue: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Events of the batch being written, counted as unwritten should `close()` give up on them. */
  #inFlight = 0;
  #dropped = 0;
  #written = 0;
  #warned = false;

  /**
   * @throws InvalidArgumentError when `write` is not a function, `options` is not an object,
   *   `name` is not a string of 1 to {@link MAX_SINK_NAME_BYTES} bytes, or a bound is not a
   *   positive integer (`flushIntervalMs` and `closeTimeoutMs` at most 2³¹−1, what a timer holds)
   */
  constructor(write: (events: AuditEvent[]) => Promise<void>, options: BatchingAuditSinkOptions = {}) {
    needs(typeof write === 'function', 'write', 'must be a function');
    checkOptionsObject(options, new.target.name);
    this.#write = write;
    this.#maxQueue = positive(options.maxQueue, 10_000, 'options.maxQueue');
    this.#batchSize = positive(options.batchSize, 100, 'options.batchSize');
    this.#intervalMs = timerMs(options.flushIntervalMs, 1_000, 'options.flushIntervalMs');
    if (options.name !== undefined) needsName(options.name, MAX_SINK_NAME_BYTES, 'options.name');
    this.#name = options.name ?? 'batching';
    this.#closeTimeoutMs = timerMs(options.closeTimeoutMs, 10_000, 'options.closeTimeoutMs');
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

  /**
   * Flushes; call at shutdown. Waits at most `closeTimeoutMs` for the queue to be written.
   * @throws AuditUnwrittenError past `closeTimeoutMs` (a write that did not return), naming how
   *   many events are not written: the batch in flight and those queued behind it. Nothing is
   *   dropped: the sink keeps them, and writes them should the write return (a later `close()`
   *   waits for them again); a process that exits now loses them.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: a hung write may hold nothing open, and the process must not exit in silence.
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#closeTimeoutMs);
    });
    const gaveUp = await Promise.race([this.flush().then(() => false), timedOut]);
    clearTimeout(timer);
    if (!gaveUp) return;
    const unwritten = this.#queue.length + this.#inFlight;
    if (unwritten === 0) return;
    throw new AuditUnwrittenError(messages.auditUnwritten(this.#name, unwritten, this.#closeTimeoutMs), {
      sink: this.#name,
      unwritten,
      timeoutMs: this.#closeTimeoutMs,
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#inFlight = batch.length;
      try {
        await this.#write(batch);
        this.#written += batch.length;
      } catch (error) {
        if (batch.length === 1) this.#drop(1, reasonOf(error));
        else await this.#writeOneByOne(batch);
      } finally {
        this.#inFlight = 0;
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
      this.#inFlight = batch.length - i;
      try {
        await this.#write([batch[i]]);
        this.#written++;
        anyWritten = true;
      } catch (error) {
        const rest = batch.length - i - 1;
        // Only before any went through: after that, a failure is one event's, not the writer's.
        if (!anyWritten && i + 1 >= OUTAGE_FAILURES && rest > 0) return this.#drop(1 + rest, reasonOf(error));
        this.#drop(1, reasonOf(error));
      }
    }
  }

  /** @param why - what the warning says (default: the queue is full) */
  #drop(count: number, why = 'its queue is full'): void {
    this.#dropped += count;
    countAuditDropped(this.#name, count);
    if (this.#warned) return;
    // One warning per sink: a database outage would otherwise warn per batch.
    this.#warned = true;
    process.emitWarning(`hushfield audit sink '${this.#name}' is dropping events: ${why}`, 'HushfieldAuditWarning');
  }
}

/** A failed write, as a warning says it: the error's class name, never its message. */
function reasonOf(error: unknown): string {
  return `a write failed (${error instanceof Error ? error.name : 'error'})`;
}
