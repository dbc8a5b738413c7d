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
 * it starting (its ready flag not yet set), busy or failed runs wholly on the calling thread
 * instead of waiting; a thread that fails is not started again. A job it does not answer in time
 * is abandoned: it stays busy (and takes no job) until it answers, and that late answer is
 * dropped. Exported for tests only (the package's index does not export it): a test gives it a
 * worker of its own and a short deadline.
 */
export class DecryptThread {
  readonly #startWorker: (ready: ReadyFlag) => Worker;
  readonly #minDeadlineMs: number;
  #worker: Worker | undefined;
  #state: 'stopped' | 'starting' | 'ready' | 'busy' | 'failed' = 'stopped';
  #ready: Promise<boolean> | undefined;
  /**
   * Set to 1 by the thread once it listens for jobs (see {@link ReadyFlag}), and what
   * {@link DecryptThread.available} does with it while the thread is starting.
   */
  #readyFlag: ReadyFlag | undefined;
  #becameReady: (() => void) | undefined;
  /** The job the thread is running (waited for, or abandoned), what `run` gave for it, and its caller's resolve. */
  #job: OpenJob | undefined;
  #running: Promise<OpenResult | undefined> | undefined;
  #pending: ((result: OpenResult | undefined) => void) | undefined;

  /**
   * @param startWorker - starts the thread's `Worker`, which says `'ready'` (and sets the
   *   {@link ReadyFlag} it is given, when it uses it), then answers each job
   * @param minDeadlineMs - the least a caller waits for an answer after its own pass ({@link MIN_DEADLINE_MS})
   */
  constructor(startWorker: (ready: ReadyFlag) => Worker = startThread, minDeadlineMs = MIN_DEADLINE_MS) {
    this.#startWorker = startWorker;
    this.#minDeadlineMs = minDeadlineMs;
  }

  /** Starts the thread if it is not started; resolves whether it is ready for jobs. */
  start(): Promise<boolean> {
    if (this.#ready !== undefined) return this.#ready;
    this.#state = 'starting';
    this.#ready = new Promise<boolean>((resolve) => {
      let worker: Worker;
      let flag: ReadyFlag;
      try {
        flag = new Int32Array(new SharedArrayBuffer(4));
        worker = this.#startWorker(flag);
      } catch (e) {
        this.#state = 'failed';
        warnNotStarted(e);
        resolve(false);
        return;
      }
      this.#worker = worker;
      // A thread that loads but never says it is ready is stopped (and counts as failed), unless
      // its flag says it is: its 'ready' may still wait unread behind this timer.
      const starting = setTimeout(() => {
        if (!this.available() && this.#state === 'starting') void worker.terminate();
      }, START_TIMEOUT_MS);
      starting.unref();
      // Said once, on starting (by message or flag, whichever is read first): never taken for
      // an answer, nor to make a busy thread ready.
      const becameReady = () => {
        if (this.#state !== 'starting') return;
        clearTimeout(starting);
        this.#state = 'ready';
        this.#readyFlag = undefined;
        this.#becameReady = undefined;
        // Held open while starting (a caller may await it), never while idle.
        worker.unref();
        resolve(true);
      };
      this.#readyFlag = flag;
      this.#becameReady = becameReady;
      worker.on('message', (message: OpenResult | 'ready') => {
        if (message === 'ready') becameReady();
        else this.#finish(message);
      });
      const fail = (e?: unknown) => {
        if (this.#state === 'starting') warnNotStarted(e);
        clearTimeout(starting);
        this.#readyFlag = undefined;
        this.#becameReady = undefined;
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

  /**
   * Whether a job would be taken now (ready and idle); starts the thread if it is not started.
   * A starting thread counts as ready once its flag says so: its 'ready' is a message, read only
   * when the event loop turns, and a caller whose work settles in microtasks alone (a
   * synchronous driver such as better-sqlite3, one query after another) would never read it.
   */
  available(): boolean {
    if (this.#state === 'stopped') void this.start();
    else if (this.#state === 'starting' && this.#readyFlag !== undefined && Atomics.load(this.#readyFlag, 0) === 1)
      this.#becameReady?.();
    return this.#state === 'ready';
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

/** Zeroes a job's shared buffers. */
function zero(job: OpenJob): void {
  new Uint8Array(job.keyBytes).fill(0);
  new Uint8Array(job.dekBytes).fill(0);
}

/**
 * One `Int32Array` over 4 shared bytes: 0 while the thread starts, 1 once it listens for jobs
 * (set by `decrypt-thread.ts` right before it posts 'ready'), so that the calling thread can see
 * it is ready without reading that message.
 */
export type ReadyFlag = Int32Array;

/**
 * Starts `decrypt-thread.js` beside the compiled package; from the TypeScript sources (tests,
 * development) through tsx's require hook, since a worker thread does not inherit its parent's
 * loader. Its `workerData` carries `ready`, the {@link ReadyFlag}. Exported for tests only, like
 * {@link DecryptThread}. @throws when neither is there (a bundle that folded the package in)
 */
export function startThread(ready: ReadyFlag): Worker {
  const workerData = { ready };
  const compiled = join(__dirname, 'decrypt-thread.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData });
  const source = join(__dirname, 'decrypt-thread.ts');
  if (!existsSync(source)) throw new Error(`its script decrypt-thread.js is not in ${__dirname}`);
  const hook = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(source)});`, {
    eval: true,
    workerData,
  });
}

/** The process's decrypt thread. */
export const decryptThread = new DecryptThread();
