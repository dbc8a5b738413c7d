/**
 * The cache of unwrapped keys (lru-cache). It refuses to exist without a TTL, holds a bounded
 * number of entries, optionally retires an entry after a number of uses, loads each missing
 * key once however many callers ask at the same time (single-flight), and zeroes every key
 * buffer it drops: on eviction, expiry, deletion and `clear()`.
 *
 * Callers get a copy of the cached key and own it (zero it when done): a key a caller is still
 * using is never zeroed under it by an expiry or a destroy elsewhere.
 */
import { Buffer } from 'node:buffer';
import { LRUCache } from 'lru-cache';
import { inspect } from 'node:util';
import { ConfigError } from './errors';
import { messages } from './messages';

/** Configuration of the key cache. `ttlMs` is required. */
export interface KeyCacheOptions {
  /** How long an unwrapped key stays cached, in milliseconds: required, at most 2³¹−1 (about 24.8 days). */
  ttlMs: number;
  /** Most keys held at once (least recently used dropped first). Default 1000. */
  maxEntries?: number;
  /** Drop a key after it served this many cache hits. Default: unlimited. */
  maxUses?: number;
  /**
   * How long the list of live blind-index root versions is trusted before it is read from the
   * key store again, in milliseconds (one key-store query per interval, no keyring call): how
   * soon this process matches and writes a version another process added with
   * `keys rotate --index`. A scope's list of live key versions, which its per-scope blind-index
   * lookups match, is trusted as long (after `keys rotate --scope` elsewhere). Default 30,000;
   * never longer than `ttlMs`.
   */
  indexVersionsTtlMs?: number;
}

/** Counters readable by the caller. */
export interface KeyCacheCounters {
  /** Lookups served from the cache. */
  hits: number;
  /** Lookups that had to wait for a load (their own or one already in flight). */
  misses: number;
  /** Loads started (each is one keyring call). */
  loads: number;
  /** Keys currently held. */
  entries: number;
}

/**
 * lru-cache options every TTL cache here shares. lru-cache otherwise memoizes its clock for
 * 1 ms and arms a `setTimeout` to forget it on the next lookup after that: with lookups spread
 * between database round trips (one row write about every millisecond) that was a timer
 * scheduled per lookup, several µs each. Reading `performance.now()` every time costs well
 * under 1 µs and makes expiry exact.
 */
export const EXACT_TTL_CLOCK = { ttlResolution: 0 } as const;

/** What {@link KeyCache.use} returns when the key is not cached. */
export const MISS: unique symbol = Symbol('hushfield.keyCache.miss');

interface Entry {
  readonly key: Buffer;
  uses: number;
  /** What the key was loaded for (e.g. its kind and scope), when the caller said. */
  readonly owner?: string;
}

/** A loaded key and what it was loaded for (see {@link KeyCache.get}'s `owner`). */
export interface Owned {
  readonly key: Buffer;
  readonly owner?: string;
  /**
   * From a load only: cache the key no longer than this (the key was unwrapped from a stored
   * row read this long before the cache's TTL ran out); nothing is cached when not positive.
   */
  readonly ttlMs?: number;
}

/** Default of {@link KeyCacheOptions.indexVersionsTtlMs}. */
export const DEFAULT_INDEX_VERSIONS_TTL_MS = 30_000;

/** The longest `ttlMs`: what a Node timer holds (2³¹−1 ms, about 24.8 days). */
const MAX_TTL_MS = 2 ** 31 - 1;

/** Validates cache options. @throws ConfigError without a positive `ttlMs` or with bad bounds. */
export function checkCacheOptions(
  options: KeyCacheOptions | undefined,
): Required<Omit<KeyCacheOptions, 'maxUses'>> & { maxUses?: number } {
  // `null` is no setting: a bound left out takes its default, one given as null is refused.
  if (options === undefined) throw new ConfigError(messages.cacheTtlRequired());
  if (options === null || typeof options !== 'object') throw new ConfigError(messages.cacheNotObject());
  const ttlMs = options.ttlMs;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new ConfigError(messages.cacheTtlRequired());
  // lru-cache purges expired keys with a timer, which holds at most this: past it, Node fires
  // the timer after 1 ms, and lru-cache re-arms it, every millisecond, for every cached key.
  if (ttlMs > MAX_TTL_MS) throw new ConfigError(messages.cacheTtlTooLong(MAX_TTL_MS));
  const maxEntries = options.maxEntries === undefined ? 1000 : options.maxEntries;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
    throw new ConfigError(messages.cacheBound('cache.maxEntries'));
  const maxUses = options.maxUses;
  if (maxUses !== undefined && (!Number.isSafeInteger(maxUses) || maxUses < 1)) {
    throw new ConfigError(messages.cacheBound('cache.maxUses'));
  }
  const indexVersionsTtlMs =
    options.indexVersionsTtlMs === undefined ? DEFAULT_INDEX_VERSIONS_TTL_MS : options.indexVersionsTtlMs;
  if (!Number.isSafeInteger(indexVersionsTtlMs) || indexVersionsTtlMs < 1) {
    throw new ConfigError(messages.cacheBound('cache.indexVersionsTtlMs'));
  }
  return { ttlMs, maxEntries, maxUses, indexVersionsTtlMs: Math.min(indexVersionsTtlMs, ttlMs) };
}

/** A TTL-bounded, size-bounded, single-flight cache of 32-byte keys by string id. */
export class KeyCache {
  readonly #lru: LRUCache<string, Entry>;
  readonly #pending = new Map<string, { readonly key: Promise<Owned>; readonly owner: string | undefined }>();
  readonly #maxUses: number | undefined;
  #hits = 0;
  #misses = 0;
  #loads = 0;

  /** @throws ConfigError when `ttlMs` is missing or not positive */
  constructor(options: KeyCacheOptions) {
    const { ttlMs, maxEntries, maxUses } = checkCacheOptions(options);
    this.#maxUses = maxUses;
    this.#lru = new LRUCache<string, Entry>({
      max: maxEntries,
      ttl: ttlMs,
      ...EXACT_TTL_CLOCK,
      ttlAutopurge: true,
      dispose: (entry) => entry.key.fill(0),
    });
  }

  /**
   * The key for `id`, loading it with `load` on a miss. Concurrent misses for one id share a
   * single `load`. The cache takes ownership of the buffer `load` returns.
   * @param owner - what the key is for (e.g. its kind and scope): an entry or a load in flight
   *   for another owner is not used; `load` then runs on its own and its key is not cached
   *   (the cached entry stays), so a relabelled key-store row cannot reach a cached key
   * @returns a copy the caller owns and should zero
   */
  async get(id: string, load: () => Promise<Buffer | Owned>, owner?: string): Promise<Buffer> {
    return (await this.getOwned(id, load, owner)).key;
  }

  /**
   * Like {@link KeyCache.get}, with what the key was loaded for, as the entry or the load that
   * gave the key said it (not read from the cache again: other loads may have evicted it since).
   */
  async getOwned(id: string, load: () => Promise<Buffer | Owned>, owner?: string): Promise<Owned> {
    const cached = this.#peekOwned(id, owner);
    if (cached !== undefined) return cached;
    this.#misses++;
    if (owner !== undefined && (this.#lru.peek(id)?.owner ?? owner) !== owner) return this.#loadAlone(load, owner);
    const pending = this.#pending.get(id);
    if (pending !== undefined && owner !== undefined && pending.owner !== undefined && pending.owner !== owner) {
      return this.#loadAlone(load, owner);
    }
    const loaded = await (pending?.key ?? this.#startLoad(id, load, owner));
    // A load that did not say its owner beforehand says it with its key.
    if (owner !== undefined && loaded.owner !== owner) return this.#loadAlone(load, owner);
    return { key: Buffer.from(loaded.key), owner: loaded.owner };
  }

  /**
   * The cached key for `id` (a copy the caller owns), or `undefined`; counts a hit when found.
   * @param owner - when given, an entry loaded for another owner is not returned
   */
  peek(id: string, owner?: string): Buffer | undefined {
    return this.#peekOwned(id, owner)?.key;
  }

  #peekOwned(id: string, owner: string | undefined): Owned | undefined {
    const entry = this.#lru.get(id);
    if (entry === undefined || (owner !== undefined && entry.owner !== owner)) return undefined;
    this.#hits++;
    const copy = Buffer.from(entry.key);
    entry.uses++;
    if (this.#maxUses !== undefined && entry.uses >= this.#maxUses) this.#lru.delete(id);
    return { key: copy, owner: entry.owner };
  }

  /**
   * Runs `use` with the cached key for `id` itself (no copy), synchronously, counting a hit;
   * nothing runs and nothing is counted when the key is not cached. Nothing asynchronous can
   * run during the call, so no expiry or destroy zeroes the key under `use`; `use` must not
   * keep the buffer, modify it or hand it out.
   * @param owner - when given, an entry loaded for another owner is a {@link MISS}
   * @returns what `use` returned (it is also given the entry's owner), or {@link MISS}
   */
  use<T>(id: string, use: (key: Buffer, owner: string | undefined) => T, owner?: string): T | typeof MISS {
    const entry = this.#lru.get(id);
    if (entry === undefined || (owner !== undefined && entry.owner !== owner)) return MISS;
    this.#hits++;
    entry.uses++;
    try {
      return use(entry.key, entry.owner);
    } finally {
      if (this.#maxUses !== undefined && entry.uses >= this.#maxUses) this.#lru.delete(id);
    }
  }

  /**
   * What the cached key for `id` was loaded for (see {@link KeyCache.get}'s `owner`), or
   * `undefined` when it is not cached or its load said nothing. Neither a hit nor a use.
   */
  ownerOf(id: string): string | undefined {
    return this.#lru.peek(id)?.owner;
  }

  /**
   * Caches a key the caller just created (so its first use needs no keyring call). The cache
   * takes ownership of `key`.
   * @param ttlMs - a shorter lifetime than the cache's (a key derived from another cached key
   *   must not outlive it); a non-positive one caches nothing (and zeroes `key`)
   */
  put(id: string, key: Buffer, owner?: string, ttlMs?: number): void {
    this.#pending.delete(id);
    if (ttlMs !== undefined && !(ttlMs > 0)) {
      this.#lru.delete(id);
      key.fill(0);
      return;
    }
    this.#lru.set(id, { key, uses: 0, owner }, ttlMs === undefined ? undefined : { ttl: ttlMs });
  }

  /** Milliseconds until the cached key for `id` expires; 0 when it is not cached. No hit counted. */
  remainingTtl(id: string): number {
    return this.#lru.has(id) ? this.#lru.getRemainingTTL(id) : 0;
  }

  /** Drops (and zeroes) `id`, and makes any load in flight for it skip the cache. */
  delete(id: string): void {
    this.#pending.delete(id);
    this.#lru.delete(id);
  }

  /** Drops (and zeroes) every entry whose id satisfies `predicate`. @returns how many. */
  deleteWhere(predicate: (id: string) => boolean): number {
    let count = 0;
    for (const id of [...this.#pending.keys()]) if (predicate(id)) this.#pending.delete(id);
    for (const id of [...this.#lru.keys()]) {
      if (predicate(id)) {
        this.#lru.delete(id);
        count++;
      }
    }
    return count;
  }

  /** Drops and zeroes everything. */
  clear(): void {
    this.#pending.clear();
    this.#lru.clear();
  }

  /** Hit, miss and load counters, and the number of keys held. */
  counters(): KeyCacheCounters {
    return { hits: this.#hits, misses: this.#misses, loads: this.#loads, entries: this.#lru.size };
  }

  /** Prints counters only. */
  toJSON(): KeyCacheCounters {
    return this.counters();
  }

  /** Prints counters only. */
  [inspect.custom](): string {
    return `KeyCache ${inspect(this.counters())}`;
  }

  /** Runs `load` for one caller, caching nothing. @returns the key (the caller's to zero) */
  async #loadAlone(load: () => Promise<Buffer | Owned>, owner: string | undefined): Promise<Owned> {
    this.#loads++;
    const loaded = await load();
    return Buffer.isBuffer(loaded) ? { key: loaded, owner } : loaded;
  }

  #startLoad(id: string, load: () => Promise<Buffer | Owned>, owner: string | undefined): Promise<Owned> {
    this.#loads++;
    const pending = (async (): Promise<Owned> => {
      const loaded = await load();
      return Buffer.isBuffer(loaded) ? { key: loaded, owner } : loaded;
    })();
    const flight = { key: pending, owner };
    this.#pending.set(id, flight);
    // Registered before any waiter's continuation, so the entry is cached before they resume.
    pending.then(
      ({ key, owner: loadedFor, ttlMs }) => {
        if (this.#pending.get(id) === flight && (ttlMs === undefined || ttlMs > 0)) {
          this.#pending.delete(id);
          this.#lru.set(id, { key, uses: 0, owner: loadedFor }, ttlMs === undefined ? undefined : { ttl: ttlMs });
        } else {
          if (this.#pending.get(id) === flight) this.#pending.delete(id);
          // delete() raced this load, or its stored row is as old as the TTL: serve the waiters,
          // cache nothing, zero once they copied.
          setImmediate(() => key.fill(0));
        }
      },
      () => {
        if (this.#pending.get(id) === flight) this.#pending.delete(id);
      },
    );
    return pending;
  }
}
