/**
 * `DecryptSplit`: the calling thread's side of a `decryptMany` call shared with the decrypt
 * thread (`parallel-decrypt.ts` splits the call, `thread-host.ts` runs the thread): whether a
 * call names only cached scope keys, so is shared at once, and the shared call itself, this
 * thread's pass beside the thread's share, then what the thread opened taken in.
 */
import { Buffer } from 'node:buffer';
import type { DekCache } from './dek-cache';
import { noteKeys, type ResolvedKey, type Waiting } from './decrypt-keys';
import type { DecryptPass } from './decrypt-pass';
import type { DecryptItem } from './decryptor';
import { scopeKeyOf } from './envelope';
import type { HushfieldError } from './errors';
import { MISS } from './key-cache';
import type { KeyHierarchy } from './key-hierarchy';
import { splitForThread, takeThreadResult } from './parallel-decrypt';
import { decryptThread } from './thread-host';
import { countDecrypted } from './telemetry';

/** A key `allKeysCached` found in the key cache: noted, not copied. */
const PRESENT: ResolvedKey = Object.freeze({});

/**
 * Shares `decryptMany` calls of one `Decryptor` with the decrypt thread, over its key hierarchy,
 * DEK cache and passes.
 */
export class DecryptSplit {
  readonly #keys: KeyHierarchy;
  readonly #deks: DekCache | undefined;
  readonly #pass: DecryptPass;

  constructor(keys: KeyHierarchy, deks: DekCache | undefined, pass: DecryptPass) {
    this.#keys = keys;
    this.#deks = deks;
    this.#pass = pass;
  }

  /** Whether every scope key `items` name is in the key cache (asked without using one: no hit, no use counted). */
  allKeysCached(items: readonly DecryptItem[]): boolean {
    const probe: Waiting = { indexes: [], keys: new Set() };
    // Into a map of its own, thrown away: a cached key is noted as present, with no copy taken.
    const present = (keyId: string, version: number) =>
      this.#keys.scopeKeyRemainingTtl(keyId, version) > 0 ? PRESENT : MISS;
    noteKeys(items, 0, probe, new Map(), present);
    return probe.keys.size === 0;
  }

  /**
   * The values at `indexes` shared with the decrypt thread (`keys` holds every scope key they
   * name, copied or resolved): the thread opens its share while this thread runs its own pass,
   * and what the thread did not open (all of its share when it fails or misses its deadline) is
   * decrypted here, so errors, counters and the DEK cache follow this thread's rules alone.
   * `false` (nothing decrypted) when the thread is not ready or idle, or the values have too few
   * text values to share.
   */
  async run(
    items: readonly DecryptItem[],
    indexes: readonly number[],
    out: (string | Buffer | HushfieldError)[],
    keys: Map<string, ResolvedKey>,
    generation: number | undefined,
  ): Promise<boolean> {
    const split = splitForThread(items, indexes, keys);
    if (split === undefined) return false;
    // Taken by the thread, or its buffers zeroed by `run` when the thread became busy meanwhile.
    const running = decryptThread.run(split.job);
    if (running === undefined) return false;
    try {
      const started = performance.now();
      this.#pass.run(items, split.ownIndexes, out, keys, generation);
      const result = await decryptThread.answer(running, performance.now() - started);
      if (result === undefined) {
        this.#pass.run(items, split.threadIndexes, out, keys, generation);
        return true;
      }
      const deks = this.#deks;
      const retry = takeThreadResult(
        result,
        split,
        out,
        (i) => countDecrypted(items[i].ctx.model, items[i].ctx.field),
        (id, dek) => {
          if (deks === undefined) return;
          // Counted as the calling thread counts a row: a hit when the cache held its DEK already.
          if (deks.peek(id) !== undefined) {
            deks.hits++;
            return;
          }
          deks.misses++;
          const copy = Buffer.from(dek);
          const { keyId, version } = scopeKeyOf(id.slice(0, id.lastIndexOf('$')));
          if (!deks.set(id, copy, generation, this.#keys.scopeKeyRemainingTtl(keyId, version))) copy.fill(0);
        },
      );
      if (retry.length > 0) this.#pass.run(items, retry, out, keys, generation);
      return true;
    } finally {
      // Zeroes the job's keys and DEKs whatever became of it (a job still running is abandoned).
      decryptThread.end(running, split.job);
    }
  }
}
