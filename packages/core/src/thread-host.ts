/**
 * The process's decrypt thread, as the calling threads see it (see `parallel-decrypt.ts` for
 * what a split call gives it): started on first use, one job at a time, given a deadline, and
 * never holding the process open while idle or stuck.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { messages } from './messages';
import type { OpenJob, OpenResult } from './thread-open';

/** How long the thread may take to start before it is given up (it then counts as failed). */
const START_TIMEOUT_MS = 10_000;

/**
 * How long the calling thread waits for the thread's answer once its own pass is done: this, or
 * {@link DEADLINE_OWN_PASSES} times that pass's duration when longer. Past it the job is
 * abandoned and the caller decrypts the thread's share itself: a thread that hangs does not hang
 * the read.
 */
const MIN_DEADLINE_MS = 2000;

/**
 * See {@link MIN_DEADLINE_MS}: the thread's share is about as large as the caller's, so it is
 * that late only when stalled (every core taken, or hung), and a large read on a slow machine is
 * not cut short.
 */
const DEADLINE_OWN_PASSES = 10;

/**
 * The process-wide decrypt thread: started on first use, holding the process open while it
 * starts and during a job, never while idle or stuck, taking one job at a time. A call that finds
 * it starting, busy or failed runs wholly on the calling thread instead of waiting; a thread that
 * fails is not started again. A job it does not answer in time is abandoned: it stays busy (and
 * takes no job) until it answers, and that late answer is dropped. Exported for tests only (the
 * package's index does not export it): a test gives it a worker of its own and a short deadline.
 */
export class DecryptThread {
  readonly #startWorker: () => Worker;
  readonly #minDeadlineMs: number;
  #worker: Worker | undefined;
  #state: 'stopped' | 'starting' | 'ready' | 'busy' | 'failed' = 'stopped';
  #ready: Promise<boolean> | undefined;
  /** The job the thread is running (waited for, or abandoned), what `run` gave for it, and its caller's resolve. */
  #job: OpenJob | undefined;
  #running: Promise<OpenResult | undefined> | undefined;
  #pending: ((result: OpenResult | undefined) => void) | undefined;

  /**
   * @param startWorker - starts the thread's `Worker` (which says `'ready'`, then answers each job)
   * @param minDeadlineMs - the least a caller waits for an answer after its own pass ({@link MIN_DEADLINE_MS})
   */
  constructor(startWorker: () => Worker = startThread, minDeadlineMs = MIN_DEADLINE_MS) {
    this.#startWorker = startWorker;
    this.#minDeadlineMs = minDeadlineMs;
  }

  /** Starts the thread if it is not started; resolves whether it is ready for jobs. */
  start(): Promise<boolean> {
    if (this.#ready !== undefined) return this.#ready;
    this.#state = 'starting';
    this.#ready = new Promise<boolean>((resolve) => {
      let worker: Worker;
      try {
        worker = this.#startWorker();
      } catch (e) {
        this.#state = 'failed';
        warnNotStarted(e);
        resolve(false);
        return;
      }
      this.#worker = worker;
      // A thread that loads but never says it is ready is stopped (and counts as failed). A
      // calling thread that kept the event loop from turning (a synchronous driver's queries
      // settle in microtasks) may have a 'ready' waiting behind this timer: it is read first.
      const starting = setTimeout(
        () =>
          void turnOfEventLoop().then(async () => {
            if (this.#state === 'starting') await worker.terminate();
          }),
        START_TIMEOUT_MS,
      );
      starting.unref();
      worker.on('message', (message: OpenResult | 'ready') => {
        if (message === 'ready') {
          // Said once, on starting: never taken for an answer, nor to make a busy thread ready.
          if (this.#state !== 'starting') return;
          clearTimeout(starting);
          this.#state = 'ready';
          // Held open while starting (a caller may await it), never while idle.
          worker.unref();
          resolve(true);
        } else this.#finish(message);
      });
      const fail = (e?: unknown) => {
        if (this.#state === 'starting') warnNotStarted(e);
        clearTimeout(starting);
        this.#state = 'failed';
        this.#ready = Promise.resolve(false);
        this.#finish(undefined);
        resolve(false);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
      // A result that cannot be read here: the job gets nothing, and the thread is not used again.
      worker.on('messageerror', () => {
        fail();
        void worker.terminate();
      });
    });
    return this.#ready;
  }

  /** Whether a job would be taken now (ready and idle); starts the thread if it is not started. */
  available(): boolean {
    if (this.#state === 'stopped') void this.start();
    return this.#state === 'ready';
  }

  /**
   * {@link DecryptThread.available}, after one turn of the event loop when the thread is
   * starting: its 'ready' is a message, read only when the loop turns, and a calling thread whose
   * work settles in microtasks alone (a synchronous driver such as better-sqlite3, queries in a
   * loop) would otherwise never see it. The turn costs tens of microseconds; the calls worth
   * sharing take milliseconds.
   */
  async availableAfterTurn(): Promise<boolean> {
    if (this.available()) return true;
    if (this.#state !== 'starting') return false;
    await turnOfEventLoop();
    return this.available();
  }

  /**
   * Runs `job` (its buffers shared with the thread, nothing transferred) when the thread is ready
   * and idle, else zeroes its buffers (`undefined`: the thread is starting, busy or failed; it is
   * started if it was not). The promise gives `undefined` when the thread failed during the job,
   * or the job was abandoned (see {@link DecryptThread.answer}). Whatever it gives, the caller
   * ends the job with {@link DecryptThread.end}.
   */
  run(job: OpenJob): Promise<OpenResult | undefined> | undefined {
    if (!this.available()) {
      zero(job);
      return undefined;
    }
    const worker = this.#worker!;
    this.#state = 'busy';
    worker.ref();
    const running = new Promise<OpenResult | undefined>((resolve) => (this.#pending = resolve));
    this.#job = job;
    this.#running = running;
    try {
      worker.postMessage(job);
    } catch {
      // Not sent: the call decrypts everything itself.
      this.#finish(undefined);
      zero(job);
      return undefined;
    }
    return running;
  }

  /**
   * The answer to `running` (from {@link DecryptThread.run}), waited for at most the larger of
   * the minimum deadline and {@link DEADLINE_OWN_PASSES} times `ownMs`, the time the calling
   * thread's own pass took. Past it the job is abandoned (`undefined`: the caller decrypts the
   * thread's share itself) and the thread no longer holds the process open.
   */
  async answer(running: Promise<OpenResult | undefined>, ownMs: number): Promise<OpenResult | undefined> {
    const deadline = setTimeout(
      () => this.#abandon(running),
      Math.max(this.#minDeadlineMs, DEADLINE_OWN_PASSES * ownMs),
    );
    try {
      return await running;
    } finally {
      clearTimeout(deadline);
    }
  }

  /**
   * Ends `job` (run as `running`) for its caller, whatever happened (answered, failed, abandoned,
   * or the caller's own pass threw): its buffers are zeroed, and a job still running is
   * abandoned, its late answer dropped and its buffers zeroed again then.
   */
  end(running: Promise<OpenResult | undefined>, job: OpenJob): void {
    this.#abandon(running);
    zero(job);
  }

  /** Stops waiting for `running` if it is still the thread's job: its caller gets `undefined` now. */
  #abandon(running: Promise<OpenResult | undefined>): void {
    const pending = this.#pending;
    if (running !== this.#running || pending === undefined) return;
    this.#pending = undefined;
    this.#worker?.unref();
    pending(undefined);
  }

  /** The thread answered (`result`) or failed (`undefined`): an abandoned job's buffers are zeroed again. */
  #finish(result: OpenResult | undefined): void {
    const pending = this.#pending;
    const job = this.#job;
    this.#pending = undefined;
    this.#job = undefined;
    this.#running = undefined;
    // The thread may have written DEKs after the caller zeroed them.
    if (pending === undefined && job !== undefined) zero(job);
    if (this.#state === 'busy') this.#state = 'ready';
    if (this.#state !== 'failed') this.#worker?.unref();
    pending?.(result);
  }
}

/**
 * Says once per process that the decrypt thread did not start, and what to do: large reads then
 * run on the calling thread, which is correct but slower. The usual cause is a bundler (esbuild,
 * webpack, Next.js) that folded `@hushfield/core` into one file, leaving its thread script behind.
 */
function warnNotStarted(cause: unknown): void {
  if (warned) return;
  warned = true;
  const why = cause instanceof Error ? cause.message : String(cause);
  process.emitWarning(messages.decryptThreadNotStarted(why.replace(/\s+/g, ' ')), { code: 'HUSHFIELD_DECRYPT_THREAD' });
}
let warned = false;

/**
 * Resolves after the event loop has gone through its poll phase at least once, where messages
 * from the thread are read: two `setImmediate` hops, since the first may run in the check phase
 * that follows the poll phase the caller is in.
 */
function turnOfEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Zeroes a job's shared buffers. */
function zero(job: OpenJob): void {
  new Uint8Array(job.keyBytes).fill(0);
  new Uint8Array(job.dekBytes).fill(0);
}

/**
 * Starts `decrypt-thread.js` beside the compiled package; from the TypeScript sources (tests,
 * development) through tsx's require hook, since a worker thread does not inherit its parent's
 * loader. @throws when neither is there (a bundle that folded the package in)
 */
function startThread(): Worker {
  const compiled = join(__dirname, 'decrypt-thread.js');
  if (existsSync(compiled)) return new Worker(compiled);
  const source = join(__dirname, 'decrypt-thread.ts');
  if (!existsSync(source)) throw new Error(`its script decrypt-thread.js is not in ${__dirname}`);
  const hook = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(source)});`, { eval: true });
}

/** The process's decrypt thread. */
export const decryptThread = new DecryptThread();
