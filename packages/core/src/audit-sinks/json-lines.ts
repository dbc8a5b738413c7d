/**
 * An audit sink that appends one JSON object per line to a file or a stream (for a log
 * shipper). Writes are buffered by the stream; when more than `maxBufferedBytes` wait to be
 * written (a stalled disk or pipe) new events are dropped and counted, never queued without bound;
 * lines lost when the stream fails (those still buffered then too) are counted as well.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { AuditEvent, AuditSink } from '../audit';
import { checkOptionsObject, needs } from '../preconditions';
import { countAuditDropped } from '../telemetry';

/** Options of {@link JsonLinesAuditSink}. */
export interface JsonLinesAuditSinkOptions {
  /** Bytes buffered at most before new events are dropped; default 16 MiB. */
  readonly maxBufferedBytes?: number;
}

/** One audit event as a JSON line (time as ISO 8601). */
export function auditEventLine(event: AuditEvent): string {
  return `${JSON.stringify({ ...event, time: event.time.toISOString() })}\n`;
}

/**
 * Appends audit events as JSON lines.
 * @example
 * const audit = new JsonLinesAuditSink('/var/log/hushfield/audit.jsonl');
 * const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 }, audit });
 */
export class JsonLinesAuditSink implements AuditSink {
  readonly #stream: Writable;
  readonly #owned: boolean;
  readonly #maxBuffered: number;
  #dropped = 0;
  #failed = false;
  /** Lines handed to the stream whose write has not called back yet. */
  #pending = 0;
  /** `close()` calls waiting for `#pending` to reach 0. */
  #idle: (() => void)[] = [];

  /**
   * @param target a file path (opened for append, created if missing) or a writable stream
   * @throws InvalidArgumentError on a bad target, options that are not an object, or a bad bound
   */
  constructor(target: string | Writable, options: JsonLinesAuditSinkOptions = {}) {
    needs(
      typeof target === 'string'
        ? target.length > 0
        : target !== null && typeof (target as Partial<Writable> | undefined)?.write === 'function',
      'target',
      'must be a file path or a writable stream',
    );
    checkOptionsObject(options, 'JsonLinesAuditSink');
    const max = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    needs(Number.isSafeInteger(max) && max > 0, 'options.maxBufferedBytes', 'must be a positive integer');
    this.#maxBuffered = max;
    this.#owned = typeof target === 'string';
    this.#stream = typeof target === 'string' ? createWriteStream(target, { flags: 'a', mode: 0o600 }) : target;
    // A write error must not crash the process: events after it are dropped and counted.
    this.#stream.on('error', () => {
      this.#failed = true;
    });
  }

  /** Events dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends `event`; never waits, never throws. */
  emit(event: AuditEvent): void {
    if (this.#failed || this.#stream.writableLength > this.#maxBuffered) {
      this.#drop();
      return;
    }
    this.#pending++;
    // A line still buffered when the stream fails is lost: its callback says so, and it is counted.
    this.#stream.write(auditEventLine(event), (error) => {
      if (error) this.#drop();
      if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  /**
   * Waits until every line emitted so far is written (or known lost, and counted); closes the
   * file if this sink opened it.
   */
  close(): Promise<void> {
    return new Promise((resolve) => {
      // Not 'drain': a stream emits it only after a write that passed its high-water mark.
      if (this.#owned) this.#stream.end(() => resolve());
      else if (this.#pending === 0) resolve();
      else this.#idle.push(resolve);
    });
  }

  #drop(): void {
    this.#dropped++;
    countAuditDropped('json-lines');
  }
}
