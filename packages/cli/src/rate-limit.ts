/**
 * The `--max-rows-per-second` cap of a bulk run: one token bucket per process, shared by its
 * workers (worker threads ask the main thread for tokens, see `scaled-run.ts`). Across the
 * processes of one run the cap is split by leases: each process refills at
 * `cap × its live leases / all live leases` (see `RunMonitor`), so the run as a whole stays
 * under the cap however many processes join or die.
 */

/** Clock and sleep of a {@link TokenBucket} (fake ones in tests). */
export interface BucketClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const realClock: BucketClock = { now: () => performance.now(), sleep: abortableSleep };

/**
 * A token bucket refilled at `rate` tokens per second, holding at most `burst`; it starts
 * empty, so the first rows wait too and a run's average never exceeds the rate. A take larger
 * than what is there goes into debt, which later takes wait off. Takes are served in order.
 */
export class TokenBucket {
  private tokens = 0;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private rate: number,
    private readonly burst: number,
    private readonly clock: BucketClock = realClock,
  ) {
    this.last = clock.now();
  }

  /** Rows per second now allowed. */
  get perSecond(): number {
    return this.rate;
  }

  /** Changes the refill rate (a share of the run's cap); tokens already earned are kept. */
  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
  }

  /** Resolves once `count` tokens were taken (at once when an abort comes first). */
  take(count: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      this.tokens -= count;
      while (this.tokens < 0 && !signal?.aborted) {
        await this.clock.sleep(Math.ceil((-this.tokens * 1000) / Math.max(this.rate, 1e-6)), signal);
        this.refill();
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }
}
