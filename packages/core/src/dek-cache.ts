/**
 * Cache of unwrapped per-row DEKs, keyed by the envelope text that names them (key id, key
 * version and wrapped DEK), so warm repeated reads skip the unwrap. Bounded, each DEK cached
 * no longer than the scope key it was unwrapped under (a scope destroyed by another process
 * stops decrypting here within the key cache's TTL), and
 * every DEK zeroed when dropped. Expired entries are swept on use rather than by a timer per
 * entry, which would cost more than the unwrap it saves.
 */
import { LRUCache } from 'lru-cache';
import type { ParsedEnvelope } from './envelope';
import { EXACT_TTL_CLOCK } from './key-cache';

/** The DEK cache id of a parsed envelope: `<keyId>$<version>$<wrappedDek>`. */
export function dekCacheId(envelope: ParsedEnvelope): string {
  return envelope.dekId;
}

/** Unwrapped DEKs by {@link dekCacheId}. */
export class DekCache {
  readonly #lru: LRUCache<string, Buffer>;
  readonly #ttlMs: number;
  #lastSweep = Date.now();
  #generation = 0;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number, ttlMs: number) {
    this.#ttlMs = ttlMs;
    this.#lru = new LRUCache<string, Buffer>({
      max: maxEntries,
      ttl: ttlMs,
      ...EXACT_TTL_CLOCK,
      dispose: (dek) => dek.fill(0),
    });
  }

  /** The cached DEK (owned by the cache: use it synchronously, never keep it), counting hit or miss. */
  get(id: string): Buffer | undefined {
    const dek = this.#lru.get(id);
    if (dek === undefined) this.misses++;
    else this.hits++;
    return dek;
  }

  /** Like {@link DekCache.get} without counting (a second look within one lookup). */
  peek(id: string): Buffer | undefined {
    return this.#lru.get(id);
  }

  /**
   * Bumped whenever DEKs are dropped for destroyed keys, or all of them. An operation reads it
   * before it fetches key material (which may await): a DEK it unwraps under that material
   * after a destroy must not be cached, or the destroyed scope would decrypt again from here.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Caches `dek`, taking ownership of it, unless DEKs were dropped since `generation` was read.
   * @param ttlMs - how long its scope key stays cached: the DEK is cached no longer (not at all
   *   when 0), so a shred elsewhere stops decryption here within the key cache's TTL, not twice it
   * @returns whether the cache took it; if not, the caller still owns (and must zero) it
   */
  set(id: string, dek: Buffer, generation: number = this.#generation, ttlMs: number = this.#ttlMs): boolean {
    if (generation !== this.#generation || !(ttlMs > 0)) return false;
    if (ttlMs < this.#ttlMs) this.#lru.set(id, dek, { ttl: Math.max(1, Math.floor(ttlMs)) });
    else this.#lru.set(id, dek);
    return true;
  }

  /** Drops (zeroes) expired DEKs, at most once per TTL. */
  sweep(): void {
    const now = Date.now();
    if (now - this.#lastSweep < this.#ttlMs) return;
    this.#lastSweep = now;
    this.#lru.purgeStale();
  }

  /** Drops (zeroes) every DEK under one of `keyIds`. */
  dropKeys(keyIds: readonly string[]): void {
    this.#generation++;
    const prefixes = keyIds.map((keyId) => `${keyId}$`);
    for (const id of [...this.#lru.keys()]) {
      if (prefixes.some((prefix) => id.startsWith(prefix))) this.#lru.delete(id);
    }
  }

  /** DEKs held. */
  get size(): number {
    return this.#lru.size;
  }

  /** Drops and zeroes everything. */
  clear(): void {
    this.#generation++;
    this.#lru.clear();
  }
}
