/**
 * Cache of unwrapped per-row DEKs, keyed by the envelope text that names them (key id, key
 * version and wrapped DEK), so warm repeated reads skip the unwrap. Bounded, each DEK cached
 * no longer than the scope key it was unwrapped under (a scope destroyed by another process
 * stops decrypting here within the key cache's TTL), and
 * every DEK zeroed when dropped. Expired entries are swept on use rather than by a timer per
 * entry, which would cost more than the unwrap it saves.
 *
 * A `Map` in insertion order with a used bit per entry (the "clock" approximation of least
 * recently used): a hit only sets the bit, and eviction skips, once, an entry used since it
 * was last passed over. Not lru-cache, which preallocates its arrays for `maxEntries` when
 * constructed: 18 M instructions for the default 10,000, paid by every new `FieldCrypto`.
 */
import type { ParsedEnvelope } from './envelope';

/** The DEK cache id of a parsed envelope: `<keyId>$<version>$<wrappedDek>`. */
export function dekCacheId(envelope: ParsedEnvelope): string {
  return envelope.dekId;
}

interface Entry {
  readonly dek: Buffer;
  /** `performance.now()` at which it expires. */
  readonly expires: number;
  /** Used since eviction last passed over it. */
  used: boolean;
}

/** Unwrapped DEKs by {@link dekCacheId}. */
export class DekCache {
  /** Oldest insertion first (an entry given a second chance is moved to the end). */
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  /**
   * The clock's hand: an iterator over the entries, kept from one eviction to the next. Every
   * entry it has passed was dropped or moved to the end, so the next one it yields is the oldest.
   * A new iterator per eviction would first step over every slot the `Map` still keeps for a
   * deleted entry (V8 frees them only when it rehashes), thousands per eviction once the cache is
   * full and each insert evicts. Dropped by the calls that scan every entry anyway (sweep,
   * dropKeys, clear): a hand left behind a rehash keeps the old table's dropped entries reachable.
   */
  #hand: Iterator<[string, Entry]> | undefined;
  #lastSweep = Date.now();
  #generation = 0;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number, ttlMs: number) {
    this.#maxEntries = maxEntries;
    this.#ttlMs = ttlMs;
  }

  /** The cached DEK (owned by the cache: use it synchronously, never keep it), counting hit or miss. */
  get(id: string): Buffer | undefined {
    const dek = this.#live(id);
    if (dek === undefined) this.misses++;
    else this.hits++;
    return dek;
  }

  /**
   * Whether an entry is held under `id`, perhaps expired (not counted, not marked used): a
   * {@link DekCache.peek} may still miss it.
   */
  readonly holds = (id: string): boolean => this.#entries.has(id);

  /** Like {@link DekCache.get} without counting (a second look within one lookup). */
  peek(id: string): Buffer | undefined {
    return this.#live(id);
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
    const previous = this.#entries.get(id);
    if (previous !== undefined) {
      this.#entries.delete(id);
      if (previous.dek !== dek) previous.dek.fill(0);
    }
    // Room first, so that the DEK being cached is never the one evicted.
    if (previous === undefined && this.#entries.size >= this.#maxEntries) this.#evictOne();
    const expires = performance.now() + Math.max(1, Math.floor(Math.min(ttlMs, this.#ttlMs)));
    this.#entries.set(id, { dek, expires, used: false });
    return true;
  }

  /** Drops (zeroes) expired DEKs, at most once per TTL. */
  sweep(): void {
    const now = Date.now();
    if (now - this.#lastSweep < this.#ttlMs) return;
    this.#lastSweep = now;
    this.#hand = undefined;
    const clock = performance.now();
    for (const [id, entry] of this.#entries) if (entry.expires <= clock) this.#drop(id, entry);
  }

  /** Drops (zeroes) every DEK under one of `keyIds`. */
  dropKeys(keyIds: readonly string[]): void {
    this.#generation++;
    this.#hand = undefined;
    const prefixes = keyIds.map((keyId) => `${keyId}$`);
    for (const [id, entry] of this.#entries) {
      if (prefixes.some((prefix) => id.startsWith(prefix))) this.#drop(id, entry);
    }
  }

  /** DEKs held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops and zeroes everything. */
  clear(): void {
    this.#generation++;
    for (const entry of this.#entries.values()) entry.dek.fill(0);
    this.#entries.clear();
    this.#hand = undefined;
  }

  /** The DEK of `id` unless absent or expired (then dropped), marked used. */
  #live(id: string): Buffer | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expires <= performance.now()) {
      this.#drop(id, entry);
      return undefined;
    }
    entry.used = true;
    return entry.dek;
  }

  /** Drops (zeroes) the first entry, in insertion order, that is expired or not used since eviction last passed it. */
  #evictOne(): void {
    const now = performance.now();
    // Only called on a full cache (maxEntries >= 1, as FieldCrypto requires): the hand always has
    // an entry ahead of it.
    this.#hand ??= this.#entries.entries();
    for (let next = this.#hand.next(); next.done !== true; next = this.#hand.next()) {
      const [id, entry] = next.value;
      this.#entries.delete(id);
      if (entry.used && entry.expires > now) {
        // A second chance: to the end, unmarked. After one round every entry is unmarked.
        entry.used = false;
        this.#entries.set(id, entry);
        continue;
      }
      entry.dek.fill(0);
      return;
    }
  }

  #drop(id: string, entry: Entry): void {
    this.#entries.delete(id);
    entry.dek.fill(0);
  }
}
