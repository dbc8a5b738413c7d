/**
 * Large reads split across a second thread. A `FieldCrypto.decryptMany` call of many values
 * (a `findMany` of thousands of rows) keeps the calling thread busy for hundreds of
 * milliseconds; with this, one process-wide decrypt thread opens about half of the text values
 * (`thread-open.ts`) while the calling thread opens the rest, so the read and the time the
 * event loop is held both take about 0.7 of what they took (the calling thread also prepares
 * the job and takes its result). The work is the same plus the hand-over, only spread: it pays
 * where a core is free (bench/FINDINGS.md, "Large reads on two threads").
 *
 * What crosses to the thread: the values' envelopes and contexts, and copies of the scope keys
 * they name in a buffer shared with it; the thread writes the DEKs it unwraps into a second
 * shared buffer, and answers with the texts it opened. The calling thread keeps both buffers and
 * zeroes them when the job is over for it, whatever happened: the thread answered, failed, died
 * (its memory gone, the buffers still the caller's), or missed its deadline (the job is then
 * abandoned, and its buffers zeroed again when the late answer comes, as the thread may have
 * written DEKs meanwhile). Both threads are one process: a memory dump finds the same kinds of
 * secret it would without the thread.
 */
import { Buffer } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
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

/** Share of a split call's text values the thread opens (the caller also prepares and merges the job). */
const THREAD_SHARE = 0.5;

/** The `minValues` in effect for `option`, or `undefined` when calls are never split. @throws InvalidArgumentError */
export function parallelMinValues(option: ParallelDecryptOption | undefined): number | undefined {
  if (option === false) return undefined;
  if (option === undefined) return isMainThread && availableParallelism() > 1 ? DEFAULT_MIN_VALUES : undefined;
  needs(option !== null && typeof option === 'object', 'options.parallelDecrypt', 'must be an object or false');
  const min = option.minValues === undefined ? DEFAULT_MIN_VALUES : option.minValues;
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
 * Splits the values of `items` at `indexes`: the thread takes text values (`String` and `Json`)
 * from about the middle on, the calling thread keeps the rest (and every list element and
 * `Bytes` value). `keys` must hold every scope key those values name (copies; the job gets
 * copies of these, each `KEY_BYTES`). `undefined` when the thread would get fewer than two values.
 */
export function splitForThread(
  items: readonly { value: unknown; ctx: FieldContext }[],
  indexes: readonly number[],
  keys: ReadonlyMap<string, ResolvedKey>,
): Split | undefined {
  const from = Math.floor(indexes.length * (1 - THREAD_SHARE));
  const ownIndexes = indexes.slice(0, from);
  const threadIndexes: number[] = [];
  const values: string[] = [];
  const models: string[] = [];
  const fields: string[] = [];
  const rowIds: (string | null)[] = [];
  const scopes: (string | null)[] = [];
  const kinds: ('json' | null)[] = [];
  for (let n = from; n < indexes.length; n++) {
    const i = indexes[n];
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
  const keyBytes = new SharedArrayBuffer(held.length * KEY_BYTES);
  const view = new Uint8Array(keyBytes);
  for (let k = 0; k < held.length; k++) view.set(held[k], k * KEY_BYTES);
  const dekBytes = new SharedArrayBuffer(values.length * KEY_BYTES);
  return {
    job: { values, models, fields, rowIds, scopes, kinds, keyIds, keyScopes, keyBytes, dekBytes },
    threadIndexes,
    ownIndexes,
  };
}

/**
 * Puts the thread's texts into `out` (calling `opened` for each) and offers each DEK it
 * unwrapped (read from the job's `dekBytes`, which the caller zeroes with `DecryptThread.end`, thread-host.ts)
 * to `cache`, which copies what it keeps.
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
  const deks = Buffer.from(split.job.dekBytes);
  // No more ids than the buffer has slots: an answer that names more is not believed past them.
  const count = Math.min(result.dekIds.length, Math.floor(deks.length / KEY_BYTES));
  for (let d = 0; d < count; d++) cache(result.dekIds[d], deks.subarray(d * KEY_BYTES, (d + 1) * KEY_BYTES));
  return retry;
}
