/**
 * Fault injection and call counting for the KMS emulator, driven by the test: added latency,
 * AWS errors (throttling, internal errors) for the next N calls, connection resets for the
 * next N calls, and a full outage (the port refuses connections until restored).
 */
import type { KmsOperation } from './operations';

/** Restricts a fault to some operations; all operations when omitted. */
export interface FaultFilter {
  readonly operations?: readonly KmsOperation[];
}

/** What the server does with one request instead of answering it. */
export type FaultAction =
  | { readonly kind: 'error'; readonly type: string; readonly status: number; readonly message: string }
  | { readonly kind: 'reset' };

interface PendingFault {
  remaining: number;
  readonly action: FaultAction;
  readonly operations?: readonly KmsOperation[];
}

/** Hooks into the server for outages. */
export interface OutageControl {
  down(): Promise<void>;
  up(): Promise<void>;
}

/** Test-controlled faults. Faults queue up; each request consumes the first that matches it. */
export class KmsFaults {
  /** Milliseconds added before every answer (faulted or not). */
  latencyMs = 0;
  private pending: PendingFault[] = [];
  private isDown = false;

  constructor(private readonly outageControl: OutageControl) {}

  /** The next `count` matching calls answer `ThrottlingException` (HTTP 400, "Rate exceeded"). */
  throttle(count: number, filter: FaultFilter = {}): void {
    this.fail(count, { type: 'ThrottlingException', status: 400, message: 'Rate exceeded' }, filter);
  }

  /** The next `count` matching calls answer the given AWS error (e.g. `KMSInternalException`, 500). */
  fail(count: number, error: { type: string; status?: number; message?: string }, filter: FaultFilter = {}): void {
    this.enqueue(
      count,
      { kind: 'error', type: error.type, status: error.status ?? 400, message: error.message ?? '' },
      filter,
    );
  }

  /** The next `count` matching calls have their TCP connection destroyed without an answer. */
  resetConnections(count: number, filter: FaultFilter = {}): void {
    this.enqueue(count, { kind: 'reset' }, filter);
  }

  /** Full outage: open connections are destroyed and the port refuses new ones. */
  async outage(): Promise<void> {
    if (this.isDown) return;
    this.isDown = true;
    await this.outageControl.down();
  }

  /** Ends an outage: the same endpoint accepts connections again. */
  async restore(): Promise<void> {
    if (!this.isDown) return;
    await this.outageControl.up();
    this.isDown = false;
  }

  /** Whether an outage is in progress. */
  get down(): boolean {
    return this.isDown;
  }

  /** Removes every fault: no latency, nothing queued, outage ended. */
  async clear(): Promise<void> {
    this.latencyMs = 0;
    this.pending = [];
    await this.restore();
  }

  /** Consumes and returns the fault for one call of `operation`, if any (server side). */
  take(operation: string): FaultAction | undefined {
    const index = this.pending.findIndex(
      (fault) => fault.operations === undefined || (fault.operations as readonly string[]).includes(operation),
    );
    if (index < 0) return undefined;
    const fault = this.pending[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.pending.splice(index, 1);
    return fault.action;
  }

  private enqueue(count: number, action: FaultAction, filter: FaultFilter): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
    this.pending.push({ remaining: count, action, operations: filter.operations });
  }
}

/** Requests received per operation (faulted ones included: they reached the server). */
export class KmsCallCounter {
  private counts = new Map<string, number>();

  /** Calls of `operation` since start or the last {@link KmsCallCounter.reset}. */
  get(operation: KmsOperation | string): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Calls of every operation. */
  get total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  /** A copy of the counters, e.g. `{ Decrypt: 1, Encrypt: 2 }`. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Sets every counter to zero. */
  reset(): void {
    this.counts = new Map();
  }

  /** Counts one call (server side). */
  record(operation: string): void {
    this.counts.set(operation, this.get(operation) + 1);
  }
}
