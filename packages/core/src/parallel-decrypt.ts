/**
 * Large reads split across a second thread. A `FieldCrypto.decryptMany` call of many values
 * (a `findMany` of thousands of rows) keeps the calling thread busy for hundreds of
 * milliseconds; with this, one process-wide decrypt thread opens about half of the text values
 * (`thread-open.ts`) while the calling thread opens the rest, so the read and the time the
 * event loop is held both take about 0.7 of what they took (the calling thread also prepares
 * the job and takes its result). The work is the same plus the hand-over, only spread: it pays
 * where a core is free (bench/FINDINGS.md, "Large reads on two threads").
 *
 * What crosses to the thread: the values' envelopes and contexts, copies of the scope keys they
 * name (in one buffer handed over, not copied, and zeroed by the thread when the job ends); what
 * comes back: the texts it opened and the DEKs it unwrapped (handed over the same way, zeroed by
 * the caller once the DEK cache has its copies). Both threads are one process: a memory dump
 * finds the same kinds of secret it would without the thread.
 */
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isMainThread, Worker } from 'node:worker_threads';
import { KEY_BYTES } from './aead';
import type { ResolvedKey } from './decrypt-keys';
import { needs } from './preconditions';
import type { FieldContext } from './row-encryptor';
import type { OpenJob, OpenResult } from './thread-open';

/**
 * Option of `FieldCrypto`: `{ minValues }`, the smallest `decryptMany` call (in values) split
 * with the decrypt thread. Default `{ minValues: 4096 }` on the main thread of a machine with
 * more than one CPU, else `false` (every value decrypted on the calling thread).
 */
export type ParallelDecryptOption = { minValues?: number } | false;

/** The default smallest call split with the thread: below it the hand-over costs more than it saves. */
const DEFAULT_MIN_VALUES = 4096;

/** How long the thread may take to start before it is given up (it then counts as failed). */
const START_TIMEOUT_MS = 10_000;

/** Share of a split call's text values the thread opens (the caller also prepares and merges the job). */
const THREAD_SHARE = 0.5;

/** The `minValues` in effect for `option`, or `undefined` when calls are never split. @throws InvalidArgumentError */
export function parallelMinValues(option: ParallelDecryptOption | undefined): number | undefined {
  if (option === false) return undefined;
  if (option === undefined) return isMainThread && availableParallelism() > 1 ? DEFAULT_MIN_VALUES : undefined;
  needs(option !== null && typeof option === 'object', 'options.parallelDecrypt', 'must be an object or false');
  const min = option.minValues ?? DEFAULT_MIN_VALUES;
  needs(Number.isSafeInteger(min) && min >= 2, 'options.parallelDecrypt.minValues', 'must be an integer of at least 2');
  return min;
}

/** One split call: the job for the thread, which item each of its values is, and the items left here. */
export interface Split {
  readonly job: OpenJob;
  readonly threadIndexes: number[];
  readonly ownIndexes: number[];
}

/**
 * Whether the thread may take `item`: a text value (`String` or `Json`) whose context says
 * nothing the job cannot carry as it is. Anything else (a `Bytes` value, a list element, a row
 * id or scope given as something other than a string, a stray `index` or `count`) stays with
 * the calling thread, whose checks report it: the job writes an absent property as `null`, so
 * a `null` sent to the thread would read as absent there and pass a check it must fail.
 */
function threadable(
  item: { value: unknown; ctx: FieldContext } | undefined,
): item is { value: string; ctx: FieldContext } {
  const ctx = item?.ctx;
  if (typeof item?.value !== 'string' || typeof ctx !== 'object' || ctx === null) return false;
  const { kind, rowId, scope, index, count } = ctx;
  return (
    (kind === undefined || kind === 'json') &&
    (rowId === undefined || typeof rowId === 'string') &&
    (scope === undefined || typeof scope === 'string') &&
    index === undefined &&
    count === undefined
  );
}

/**
 * Splits `items`: the thread takes text values (`String` and `Json`) from about the middle on,
 * the calling thread keeps the rest (and every list element and `Bytes` value). `keys` must hold
 * every scope key the values name (copies; the job gets copies of these, each `KEY_BYTES`).
 * `undefined` when the thread would get fewer than two values.
 */
export function splitForThread(
  items: readonly { value: unknown; ctx: FieldContext }[],
  keys: ReadonlyMap<string, ResolvedKey>,
): Split | undefined {
  const from = Math.floor(items.length * (1 - THREAD_SHARE));
  const ownIndexes: number[] = [];
  for (let i = 0; i < from; i++) ownIndexes.push(i);
  const threadIndexes: number[] = [];
  const values: string[] = [];
  const models: string[] = [];
  const fields: string[] = [];
  const rowIds: (string | null)[] = [];
  const scopes: (string | null)[] = [];
  const kinds: ('json' | null)[] = [];
  for (let i = from; i < items.length; i++) {
    const item = items[i];
    if (!threadable(item)) {
      ownIndexes.push(i);
      continue;
    }
    const { ctx } = item;
    threadIndexes.push(i);
    values.push(item.value);
    models.push(ctx.model);
    fields.push(ctx.field);
    rowIds.push(ctx.rowId ?? null);
    scopes.push(ctx.scope ?? null);
    kinds.push(ctx.kind === 'json' ? 'json' : null);
  }
  if (threadIndexes.length < 2) return undefined;
  const keyIds: string[] = [];
  const keyScopes: (string | null)[] = [];
  const held: Buffer[] = [];
  for (const [id, entry] of keys) {
    if (entry.key?.length !== KEY_BYTES) continue;
    keyIds.push(id);
    keyScopes.push(entry.scope ?? null);
    held.push(entry.key);
  }
  const keyBytes = new ArrayBuffer(held.length * KEY_BYTES);
  const view = new Uint8Array(keyBytes);
  for (let k = 0; k < held.length; k++) view.set(held[k], k * KEY_BYTES);
  return {
    job: { values, models, fields, rowIds, scopes, kinds, keyIds, keyScopes, keyBytes },
    threadIndexes,
    ownIndexes,
  };
}

/**
 * Puts the thread's texts into `out` (calling `opened` for each) and offers each DEK it
 * unwrapped to `cache` (which copies what it keeps), then zeroes the DEKs' buffer.
 * @returns the items the thread did not open, for the calling thread to decrypt
 */
export function takeThreadResult(
  result: OpenResult,
  split: Split,
  out: unknown[],
  opened: (index: number) => void,
  cache: (dekId: string, dek: Buffer) => void,
): number[] {
  const retry: number[] = [];
  const { threadIndexes } = split;
  for (let j = 0; j < threadIndexes.length; j++) {
    const text = result.plain[j];
    const i = threadIndexes[j];
    if (typeof text === 'string') {
      out[i] = text;
      opened(i);
    } else retry.push(i);
  }
  const deks = Buffer.from(result.deks);
  try {
    for (let d = 0; d < result.dekIds.length; d++)
      cache(result.dekIds[d], deks.subarray(d * KEY_BYTES, (d + 1) * KEY_BYTES));
  } finally {
    deks.fill(0);
  }
  return retry;
}

/**
 * The process-wide decrypt thread: started on first use, holding the process open while it
 * starts and during a job, never while idle, taking one job at a time. A call that finds it
 * starting, busy or failed runs wholly on the calling thread instead of waiting; a thread that
 * fails is not started again.
 */
class DecryptThread {
  #worker: Worker | undefined;
  #state: 'stopped' | 'starting' | 'ready' | 'busy' | 'failed' = 'stopped';
  #ready: Promise<boolean> | undefined;
  #pending: ((result: OpenResult | undefined) => void) | undefined;

  /** Starts the thread if it is not started; resolves whether it is ready for jobs. */
  start(): Promise<boolean> {
    if (this.#ready !== undefined) return this.#ready;
    this.#state = 'starting';
    this.#ready = new Promise<boolean>((resolve) => {
      let worker: Worker;
      try {
        worker = startThread();
      } catch {
        this.#state = 'failed';
        resolve(false);
        return;
      }
      this.#worker = worker;
      // A thread that loads but never says it is ready is stopped (and counts as failed).
      const starting = setTimeout(() => void worker.terminate(), START_TIMEOUT_MS);
      starting.unref();
      worker.on('message', (message: OpenResult | 'ready') => {
        if (message === 'ready') {
          clearTimeout(starting);
          this.#state = 'ready';
          // Held open while starting (a caller may await it), never while idle.
          worker.unref();
          resolve(true);
        } else this.#finish(message);
      });
      const fail = () => {
        clearTimeout(starting);
        this.#state = 'failed';
        this.#ready = Promise.resolve(false);
        this.#finish(undefined);
        resolve(false);
      };
      worker.on('error', fail);
      worker.on('exit', fail);
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
   * Runs `job` when the thread is ready and idle, and takes its key buffer either way: handed
   * to the thread, or zeroed here when the job is not taken (`undefined`: the thread is
   * starting, busy or failed; it is started if it was not). The promise gives `undefined` when
   * the thread failed during the job.
   */
  run(job: OpenJob): Promise<OpenResult | undefined> | undefined {
    if (!this.available()) {
      zero(job.keyBytes);
      return undefined;
    }
    const worker = this.#worker!;
    this.#state = 'busy';
    worker.ref();
    const done = new Promise<OpenResult | undefined>((resolve) => (this.#pending = resolve));
    try {
      worker.postMessage(job, [job.keyBytes]);
    } catch {
      // Not sent: the keys are still this thread's to zero, and the call decrypts everything itself.
      zero(job.keyBytes);
      this.#finish(undefined);
      return undefined;
    }
    return done;
  }

  #finish(result: OpenResult | undefined): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (this.#state === 'busy') this.#state = 'ready';
    if (this.#state !== 'failed') this.#worker?.unref();
    pending?.(result);
  }
}

/** Zeroes a job's key buffer unless it was handed to the thread (then it is detached, and empty here). */
function zero(keyBytes: ArrayBuffer): void {
  if (keyBytes.byteLength > 0) new Uint8Array(keyBytes).fill(0);
}

/**
 * Starts `decrypt-thread.js` beside the compiled package; from the TypeScript sources (tests,
 * development) through tsx's require hook, since a worker thread does not inherit its parent's
 * loader. @throws when neither can be found
 */
function startThread(): Worker {
  const compiled = join(__dirname, 'decrypt-thread.js');
  if (existsSync(compiled)) return new Worker(compiled);
  const source = join(__dirname, 'decrypt-thread.ts');
  const hook = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(source)});`, { eval: true });
}

/** The process's decrypt thread. */
export const decryptThread = new DecryptThread();
