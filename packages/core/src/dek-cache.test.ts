import { DekCache, dekCacheId } from './dek-cache';
import { parseEnvelope } from './envelope';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WRAPPED = 'AQEBAQEBAQEBAQEB12JHlswgzsF8_c2ztMr8d3vfPWglNqBrS2K9VyG0QI4N1MbwIG1MZ5s_Akxe4ij9';
const envelope = (keyId: string, body = 'AwMDAwMDAwMDAwMDSSUIPUtqEUYNZRXoLaRBaA') =>
  `hfe$1$${keyId}$3$${WRAPPED}$${body}`;

describe('DekCache', () => {
  it('keys DEKs by key id, version and wrapped DEK, not by the value', () => {
    const a = dekCacheId(parseEnvelope(envelope('k1')));
    expect(a).toBe(`k1$3$${WRAPPED}`);
    expect(
      dekCacheId(parseEnvelope(envelope('k1', 'AgICAgICAgICAgIC6igDzDsCJTfiiFCmdDGEUkY_pMhjjpTb7IdNvhJ3aA'))),
    ).toBe(a);
    expect(dekCacheId(parseEnvelope(envelope('k2')))).not.toBe(a);
  });

  it('counts hits and misses, and zeroes a DEK evicted beyond maxEntries', () => {
    const cache = new DekCache(2, 60_000);
    const deks = [1, 2, 3].map((n) => Buffer.alloc(32, n));
    cache.set('a', deks[0]);
    cache.set('b', deks[1]);
    expect(cache.get('a')).toBe(deks[0]);
    expect(cache.get('zz')).toBeUndefined();
    cache.set('c', deks[2]);
    expect(deks[1].every((byte) => byte === 0)).toBe(true);
    expect(deks[0].every((byte) => byte === 1)).toBe(true);
    expect({ hits: cache.hits, misses: cache.misses, size: cache.size }).toEqual({ hits: 1, misses: 1, size: 2 });
  });

  it('evicts the oldest DEK not used since eviction last passed over it, zeroing only that one', () => {
    const cache = new DekCache(3, 60_000);
    const deks = [1, 2, 3, 4, 5].map((n) => Buffer.alloc(32, n));
    const zeroed = () => deks.map((dek) => dek.every((byte) => byte === 0));
    ['a', 'b', 'c'].forEach((id, i) => cache.set(id, deks[i]));
    cache.get('a');
    cache.get('b');
    cache.set('d', deks[3]);
    expect(zeroed()).toEqual([false, false, true, false, false]);
    // Every entry used: one round clears the marks, then one of them goes, never the new one.
    cache.get('a');
    cache.get('b');
    cache.get('d');
    cache.set('e', deks[4]);
    expect(cache.peek('e')).toBe(deks[4]);
    expect(cache.size).toBe(3);
    const held = ['a', 'b', 'd'].map((id) => cache.peek(id) !== undefined);
    expect(held.filter(Boolean)).toHaveLength(2);
    expect(zeroed().filter(Boolean)).toHaveLength(2);
  });

  it('zeroes the DEK a set replaces, but not the one set again', () => {
    const cache = new DekCache(3, 60_000);
    const first = Buffer.alloc(32, 1);
    const second = Buffer.alloc(32, 2);
    cache.set('a', first);
    cache.set('a', first);
    expect(first.every((byte) => byte === 1)).toBe(true);
    cache.set('a', second);
    expect(first.every((byte) => byte === 0)).toBe(true);
    expect(cache.get('a')).toBe(second);
    expect(cache.size).toBe(1);
  });

  it('zeroes every DEK on clear, and refuses a set begun before it', () => {
    const cache = new DekCache(3, 60_000);
    const dek = Buffer.alloc(32, 1);
    const generation = cache.generation;
    cache.set('a', dek);
    cache.clear();
    expect(dek.every((byte) => byte === 0)).toBe(true);
    expect(cache.size).toBe(0);
    expect(cache.set('b', Buffer.alloc(32, 2), generation)).toBe(false);
  });

  it('expires DEKs after the TTL, zeroing them on the next sweep', async () => {
    const cache = new DekCache(10, 20);
    const dek = Buffer.alloc(32, 7);
    cache.set('a', dek);
    await sleep(50);
    cache.sweep();
    expect(dek.every((byte) => byte === 0)).toBe(true);
    expect(cache.get('a')).toBeUndefined();
  });

  it("caches a DEK no longer than the TTL it is given (its scope key's), and not at all for 0", async () => {
    const cache = new DekCache(10, 60_000);
    expect(cache.set('a', Buffer.alloc(32, 1), cache.generation, 20)).toBe(true);
    expect(cache.set('b', Buffer.alloc(32, 2), cache.generation, 0)).toBe(false);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    await sleep(50);
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops and zeroes the DEKs of destroyed key ids only', () => {
    const cache = new DekCache(10, 60_000);
    const doomed = Buffer.alloc(32, 1);
    const kept = Buffer.alloc(32, 2);
    cache.set(`k1$1$${WRAPPED}`, doomed);
    cache.set(`k10$1$${WRAPPED}`, kept);
    cache.dropKeys(['k1']);
    expect(doomed.every((byte) => byte === 0)).toBe(true);
    expect(kept.every((byte) => byte === 2)).toBe(true);
  });

  it('evicts as a clock that scans from the oldest entry on every eviction would, over thousands of operations', () => {
    // The reference: the same clock, with a fresh iterator (from the oldest entry) per eviction.
    // It zeroes nothing: every DEK it holds must be untouched, every other one zeroed by the cache.
    const reference = new Map<string, { dek: Buffer; used: boolean }>();
    const referenceSet = (id: string, dek: Buffer) => {
      const previous = reference.delete(id);
      for (const [oldest, entry] of !previous && reference.size >= 8 ? reference : []) {
        reference.delete(oldest);
        if (!entry.used) break;
        entry.used = false;
        reference.set(oldest, entry);
      }
      reference.set(id, { dek, used: false });
    };
    const cache = new DekCache(8, 60_000);
    const deks: Buffer[] = [];
    const zeroed = (dek: Buffer) => dek.every((byte) => byte === 0);
    // Park-Miller: its products stay below 2 ** 53, so every step is exact (and every operation drawn).
    let seed = 11;
    const random = (n: number) => (seed = (seed * 48_271) % 2_147_483_647) % n;
    const ran = { set: 0, get: 0, dropKeys: 0, clear: 0, evictions: 0 };
    for (let step = 0; step < 5_000; step++) {
      const keyId = `k${random(4)}`;
      const id = `${keyId}$1$${random(10)}`;
      const op = random(20);
      if (op < 9) {
        ran.set++;
        if (!reference.has(id) && reference.size >= 8) ran.evictions++;
        const dek = Buffer.alloc(32, 1);
        deks.push(dek);
        cache.set(id, dek);
        referenceSet(id, dek);
      } else if (op < 18) {
        const entry = reference.get(id);
        ran.get++;
        if (entry !== undefined) entry.used = true;
        // The same Buffer, not an equal one: every DEK here holds the same bytes.
        expect([step, cache.get(id) === entry?.dek]).toEqual([step, true]);
      } else if (op === 18) {
        ran.dropKeys++;
        cache.dropKeys([keyId]);
        for (const held of reference.keys()) if (held.startsWith(`${keyId}$`)) reference.delete(held);
      } else if (random(10) === 0) {
        ran.clear++;
        cache.clear();
        reference.clear();
      }
      const dropped = [...reference.values()].filter((entry) => zeroed(entry.dek));
      expect([step, cache.size, dropped.length]).toEqual([step, reference.size, 0]);
    }
    const held = new Set([...reference.values()].map((entry) => entry.dek));
    expect(deks.filter((dek) => !held.has(dek) && !zeroed(dek))).toEqual([]);
    expect(Object.entries(ran).filter(([, count]) => count === 0)).toEqual([]);
  });
});
