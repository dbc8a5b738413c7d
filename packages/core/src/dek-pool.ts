/**
 * Fresh per-row DEKs prepared ahead of use, with their wraps: a small pool per scope, refilled
 * off the request path (once a write leaves a scope below its low-water mark, after the current
 * task, which for a database write is while it waits for the round trip), in batches so that
 * the first wrap warms the cipher for the rest. A one-by-one create then pays for its row's
 * value seals and blind indexes only, not for drawing and wrapping a DEK.
 *
 * Off by default (`FieldCrypto`'s `dekPool` option): on the 2-core machine of `bench/`, a
 * prepared DEK did not make creates measurably faster (the work moves, it does not shrink, and
 * a refill between round trips runs with caches as cold as the write did), see
 * bench/RESULTS.md.
 *
 * What it changes, and what it does not:
 * - **Never reused.** {@link DekPool.take} removes the entry it returns: a prepared DEK is
 *   handed out at most once, and the pool keeps no copy of it (the row encryptor owns it and
 *   zeroes it when disposed).
 * - **Bounded.** At most `perScope` entries for each of the `maxScopes` scopes written most
 *   recently (least recently written scope dropped first), each for at most `maxAgeMs` and never
 *   longer than its scope key stays cached.
 * - **Zeroed** when dropped: on expiry, on eviction of its scope, when its scope key version is
 *   no longer the active one (rotation), when the scope is destroyed, and on `flush`.
 * - **Memory-dump attacker**: the pool holds up to `perScope × maxScopes` DEKs that have sealed
 *   nothing yet. Whoever reads them from memory could later decrypt the rows that will be
 *   written with them (one row each); but the same memory holds the cached scope keys these
 *   DEKs are wrapped under (and can be unwrapped with), which open every row of those scopes,
 *   past and future. While the pool lives no longer than its scope key stays cached, it adds no
 *   key a dump would not already yield; it lengthens by at most `maxAgeMs` (and the key
 *   cache's TTL) how long DEKs of rows not yet written sit in memory.
 */
import { LRUCache } from 'lru-cache';
import { EXACT_TTL_CLOCK } from './key-cache';
import { needs } from './preconditions';

/** A DEK with its wrap under one scope key version, ready for a row encryptor to take. */
export interface PreparedDek {
  readonly keyId: string;
  readonly version: number;
  /** The fresh DEK; whoever takes the entry owns it and zeroes it. */
  readonly dek: Buffer;
  /** `nonce ‖ AES-256-GCM(scope key, DEK) ‖ tag` under the DEK's associated data. */
  readonly wrapped: Buffer;
  /** {@link PreparedDek.wrapped} in base64url, as envelopes carry it. */
  readonly wrappedText: string;
  /** `performance.now()` after which the entry is dropped instead of taken. */
  readonly expiresAt: number;
}

/** Bounds of the pool. */
export interface DekPoolOptions {
  /** Entries a scope is refilled to once it falls below a quarter of them. Default 8. */
  readonly perScope?: number;
  /** Scopes with entries ready (least recently written dropped first). Default 64. */
  readonly maxScopes?: number;
  /** Longest an entry waits to be used, in milliseconds. Default 10,000. */
  readonly maxAgeMs?: number;
}

/** Validates pool bounds. @throws InvalidArgumentError naming a bad bound */
export function checkDekPoolOptions(options: DekPoolOptions): Required<DekPoolOptions> {
  needs(options !== null && typeof options === 'object', 'options.dekPool', 'must be an object or false');
  const { perScope = 8, maxScopes = 64, maxAgeMs = 10_000 } = options;
  needs(
    Number.isSafeInteger(perScope) && perScope >= 1 && perScope <= 64,
    'options.dekPool.perScope',
    'must be an integer from 1 to 64',
  );
  needs(Number.isSafeInteger(maxScopes) && maxScopes >= 1, 'options.dekPool.maxScopes', 'must be a positive integer');
  // The sweep timer holds at most 2³¹−1 ms: past it, it would fire and re-arm every millisecond.
  needs(
    Number.isFinite(maxAgeMs) && maxAgeMs > 0 && maxAgeMs <= 2 ** 31 - 1,
    'options.dekPool.maxAgeMs',
    `must be a positive number of at most ${2 ** 31 - 1}`,
  );
  return { perScope, maxScopes, maxAgeMs };
}

/** Zeroes a prepared DEK that will never be handed out. */
function drop(entry: PreparedDek): void {
  entry.dek.fill(0);
}

/** Prepared DEKs by scope. Knows nothing of keys: {@link FieldCrypto} prepares and takes. */
export class DekPool {
  readonly #perScope: number;
  readonly #maxAgeMs: number;
  readonly #scopes: LRUCache<string, PreparedDek[]>;
  /** Scopes written since the last refill, to refill once the current task is done. */
  readonly #pending = new Set<string>();
  #refillScheduled = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  /** Bumped by every flush: a refill that raced one adds nothing. */
  #generation = 0;
  /** Entries handed out, and entries dropped unused (expired, flushed, evicted, stale). */
  taken = 0;
  dropped = 0;

  constructor(options: DekPoolOptions = {}) {
    const { perScope, maxScopes, maxAgeMs } = checkDekPoolOptions(options);
    this.#perScope = perScope;
    this.#maxAgeMs = maxAgeMs;
    this.#scopes = new LRUCache<string, PreparedDek[]>({
      max: maxScopes,
      ...EXACT_TTL_CLOCK,
      dispose: (entries) => {
        for (const entry of entries) this.#drop(entry);
        entries.length = 0;
      },
    });
  }

  /** How many entries each scope is refilled to. */
  get perScope(): number {
    return this.#perScope;
  }

  /**
   * Whether `scope` has fallen below its low-water mark (a quarter of `perScope`, at least one
   * entry): refills then come in batches, so a refill's first wrap warms the cipher for the rest.
   */
  low(scope: string): boolean {
    return (this.#scopes.get(scope)?.length ?? 0) < Math.max(1, this.#perScope >> 2);
  }

  /** Read before preparing entries; {@link DekPool.put} refuses them if a flush came in between. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Removes and returns a prepared DEK of `scope` under exactly `keyId` version `version`, or
   * `undefined`. Entries under another version (the scope was rotated) or past their life are
   * zeroed on the way.
   */
  take(scope: string, keyId: string, version: number): PreparedDek | undefined {
    const entries = this.#scopes.get(scope);
    if (entries === undefined) return undefined;
    const now = performance.now();
    while (entries.length > 0) {
      const entry = entries.shift() as PreparedDek;
      if (entry.keyId === keyId && entry.version === version && entry.expiresAt > now) {
        this.taken++;
        return entry;
      }
      this.#drop(entry);
    }
    return undefined;
  }

  /** Entries of `scope` still usable under `keyId` version `version` (others are zeroed). */
  ready(scope: string, keyId: string, version: number): number {
    const entries = this.#scopes.get(scope);
    if (entries === undefined) return 0;
    const now = performance.now();
    const kept = entries.filter((entry) => {
      const ok = entry.keyId === keyId && entry.version === version && entry.expiresAt > now;
      if (!ok) this.#drop(entry);
      return ok;
    });
    entries.splice(0, entries.length, ...kept);
    return kept.length;
  }

  /**
   * Adds a prepared entry for `scope`, taking ownership of its DEK, unless the pool was flushed
   * since `generation` was read or the scope is full; then the DEK is zeroed.
   * @returns whether the pool took it
   */
  put(scope: string, entry: PreparedDek, generation: number): boolean {
    let entries = this.#scopes.get(scope);
    if (generation !== this.#generation || (entries !== undefined && entries.length >= this.#perScope)) {
      this.#drop(entry);
      return false;
    }
    if (entries === undefined) {
      entries = [];
      this.#scopes.set(scope, entries);
    }
    entries.push(entry);
    this.#armSweep();
    return true;
  }

  /** When an entry prepared now must be used by: `maxAgeMs`, or sooner when its key expires sooner. */
  expiry(keyTtlMs: number): number {
    return performance.now() + Math.min(this.#maxAgeMs, keyTtlMs);
  }

  /**
   * Asks for `scope` to be refilled by `refill` once the current task is done (`setImmediate`:
   * after the microtasks, so after the write that took an entry has sent its query). One
   * callback serves every scope written meanwhile.
   */
  requestRefill(scope: string, refill: (scopes: readonly string[]) => void): void {
    this.#pending.add(scope);
    if (this.#refillScheduled) return;
    this.#refillScheduled = true;
    setImmediate(() => {
      this.#refillScheduled = false;
      const scopes = [...this.#pending];
      this.#pending.clear();
      refill(scopes);
    });
  }

  /** Zeroes and forgets every entry of `scopes`, or of every scope. Refills in flight add nothing. */
  flush(scopes?: readonly string[]): void {
    this.#generation++;
    if (scopes === undefined) {
      this.#pending.clear();
      this.#scopes.clear();
      // Nothing left to sweep: the timer would only keep the pool reachable until it fired.
      clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
    } else {
      for (const scope of scopes) {
        this.#pending.delete(scope);
        this.#scopes.delete(scope);
      }
    }
  }

  /** Zeroes and forgets every entry under one of `keyIds` (a destroyed scope's key). */
  flushKeys(keyIds: readonly string[]): void {
    this.#generation++;
    for (const [scope, entries] of [...this.#scopes.entries()]) {
      if (entries.some((entry) => keyIds.includes(entry.keyId))) this.#scopes.delete(scope);
    }
  }

  /** Entries held, over every scope. */
  get size(): number {
    let size = 0;
    for (const entries of this.#scopes.values()) size += entries.length;
    return size;
  }

  #drop(entry: PreparedDek): void {
    drop(entry);
    this.dropped++;
  }

  /** One unreferenced timer while entries are held, so none outlives its age in an idle process. */
  #armSweep(): void {
    if (this.#sweepTimer !== undefined) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      const now = performance.now();
      for (const [scope, entries] of [...this.#scopes.entries()]) {
        const kept = entries.filter((entry) => {
          if (entry.expiresAt > now) return true;
          this.#drop(entry);
          return false;
        });
        entries.splice(0, entries.length, ...kept);
        if (kept.length === 0) this.#scopes.delete(scope);
      }
      if (this.#scopes.size > 0) this.#armSweep();
    }, this.#maxAgeMs);
    this.#sweepTimer.unref();
  }
}
