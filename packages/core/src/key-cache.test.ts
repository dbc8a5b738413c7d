import { inspect } from 'node:util';
import { ConfigError } from './errors';
import { KeyCache, MISS } from './key-cache';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isZero = (buffer: Buffer) => buffer.every((byte) => byte === 0);

function loader() {
  const made: Buffer[] = [];
  let calls = 0;
  return {
    made,
    get calls() {
      return calls;
    },
    load: async () => {
      calls++;
      await sleep(5);
      const key = Buffer.alloc(32, made.length + 1);
      made.push(key);
      return key;
    },
  };
}

describe('KeyCache', () => {
  it.each([
    ['no options', undefined],
    ['no ttlMs', {}],
    ['ttlMs 0', { ttlMs: 0 }],
    ['a negative ttlMs', { ttlMs: -1 }],
    ['an infinite ttlMs', { ttlMs: Infinity }],
  ])('refuses to be configured with %s', (_label, options) => {
    expect(() => new KeyCache(options as never)).toThrow(ConfigError);
    expect(() => new KeyCache(options as never)).toThrow('cache.ttlMs is required');
  });

  it('refuses a ttlMs longer than a timer holds (about 24.8 days)', () => {
    // lru-cache's purge timer then fired after 1 ms and re-armed, every millisecond for each
    // cached key, with a TimeoutOverflowWarning each time.
    for (const ttlMs of [2 ** 31, 30 * 86_400_000, Number.MAX_SAFE_INTEGER]) {
      expect(() => new KeyCache({ ttlMs })).toThrow(ConfigError);
      expect(() => new KeyCache({ ttlMs })).toThrow('cache.ttlMs must be at most 2147483647 ms (about 24 days)');
    }
    expect(() => new KeyCache({ ttlMs: 2 ** 31 - 1 })).not.toThrow();
  });

  it('refuses a bad maxEntries or maxUses', () => {
    expect(() => new KeyCache({ ttlMs: 10, maxEntries: 0 })).toThrow(ConfigError);
    expect(() => new KeyCache({ ttlMs: 10, maxUses: 1.5 })).toThrow(ConfigError);
  });

  it('loads once for N concurrent misses (single-flight)', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    const source = loader();
    const keys = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', source.load)));
    expect(source.calls).toBe(1);
    expect(keys.every((key) => key.equals(Buffer.alloc(32, 1)))).toBe(true);
    expect(cache.counters()).toEqual({ hits: 0, misses: 50, loads: 1, entries: 1 });
    await cache.get('k', source.load);
    expect(cache.counters()).toMatchObject({ hits: 1, misses: 50, loads: 1 });
  });

  it('hands out copies: zeroing one does not touch the cached key', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    const source = loader();
    const first = await cache.get('k', source.load);
    first.fill(0);
    expect(await cache.get('k', source.load)).toEqual(Buffer.alloc(32, 1));
    expect(source.made[0]).not.toBe(first);
  });

  it('does not cache a failed load, and the next lookup retries', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    const failing = jest.fn().mockRejectedValueOnce(new Error('kms down')).mockResolvedValueOnce(Buffer.alloc(32, 9));
    await expect(Promise.all([cache.get('k', failing), cache.get('k', failing)])).rejects.toThrow('kms down');
    expect(failing).toHaveBeenCalledTimes(1);
    expect(await cache.get('k', failing)).toEqual(Buffer.alloc(32, 9));
    expect(cache.counters().loads).toBe(2);
  });

  it('expires keys after the TTL and zeroes the expired buffer', async () => {
    const cache = new KeyCache({ ttlMs: 30 });
    const source = loader();
    await cache.get('k', source.load);
    await sleep(80);
    expect(isZero(source.made[0])).toBe(true);
    expect(cache.counters().entries).toBe(0);
    await cache.get('k', source.load);
    expect(source.calls).toBe(2);
  });

  it('put with a shorter lifetime expires the key then, and with none left caches nothing and zeroes it', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    const short = Buffer.alloc(32, 7);
    cache.put('short', short, undefined, 20);
    expect(cache.use('short', (key) => key[0])).toBe(7);
    await sleep(40);
    expect(cache.use('short', (key) => key[0])).toBe(MISS);
    expect(isZero(short)).toBe(true);
    const none = Buffer.alloc(32, 9);
    cache.put('none', none, undefined, 0);
    expect(cache.use('none', (key) => key[0])).toBe(MISS);
    expect(isZero(none)).toBe(true);
  });

  it('evicts the least recently used key beyond maxEntries and zeroes it', async () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 2 });
    const source = loader();
    await cache.get('a', source.load);
    await cache.get('b', source.load);
    await cache.get('a', source.load);
    await cache.get('c', source.load);
    expect(isZero(source.made[1])).toBe(true); // 'b' was least recently used
    expect(isZero(source.made[0])).toBe(false);
    expect(cache.counters().entries).toBe(2);
  });

  it('drops a key after maxUses hits and zeroes it', async () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxUses: 2 });
    const source = loader();
    await cache.get('k', source.load);
    await cache.get('k', source.load);
    expect(isZero(source.made[0])).toBe(false);
    await cache.get('k', source.load);
    expect(isZero(source.made[0])).toBe(true);
    await cache.get('k', source.load);
    expect(source.calls).toBe(2);
  });

  it('zeroes on delete, deleteWhere and clear', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    const source = loader();
    for (const id of ['a', 'b', 'c']) await cache.get(id, source.load);
    cache.delete('a');
    expect(cache.deleteWhere((id) => id === 'b')).toBe(1);
    expect(source.made.slice(0, 2).every(isZero)).toBe(true);
    cache.clear();
    expect(source.made.every(isZero)).toBe(true);
  });

  it('does not cache a load that a delete raced, and zeroes its buffer once served', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    const source = loader();
    const pending = cache.get('k', source.load);
    cache.delete('k');
    expect(await pending).toEqual(Buffer.alloc(32, 1));
    expect(cache.counters().entries).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(isZero(source.made[0])).toBe(true);
  });

  it('prints counters, never keys', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    await cache.get('k', async () => Buffer.alloc(32, 0xab));
    const printed = `${inspect(cache, { showHidden: true, depth: 9 })}${JSON.stringify(cache)}`;
    expect(printed).not.toMatch(/ab ?ab|171|q6ur/i);
  });

  it('use() lends the cached key in place, counts a hit, and retires it after maxUses once the call is over', async () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxUses: 2 });
    expect(cache.use('k', () => 'ran')).toBe(MISS);
    expect(cache.counters()).toMatchObject({ hits: 0, misses: 0 });
    const key = Buffer.alloc(32, 9);
    cache.put('k', key);
    expect(cache.use('k', (lent) => lent === key)).toBe(true);
    // The second use reaches maxUses: the key is intact during the call and zeroed after it.
    expect(cache.use('k', (lent) => lent.equals(Buffer.alloc(32, 9)))).toBe(true);
    expect(key.equals(Buffer.alloc(32))).toBe(true);
    expect(cache.use('k', () => 'ran')).toBe(MISS);
    expect(cache.counters()).toMatchObject({ hits: 2, entries: 0 });
  });

  it('serves a key only to the owner it was loaded for; another owner loads on its own and caches nothing', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    await cache.get('k', async () => Buffer.alloc(32, 1), 'scope\u0000a');
    expect(cache.use('k', (key) => key[0], 'scope\u0000a')).toBe(1);
    expect(cache.use('k', (key) => key[0], 'scope\u0000b')).toBe(MISS);
    expect(cache.peek('k', 'scope\u0000b')).toBeUndefined();
    await expect(
      cache.get(
        'k',
        async () => {
          throw new Error('unwrap refused');
        },
        'scope\u0000b',
      ),
    ).rejects.toThrow('unwrap refused');
    // The owner's entry is untouched, and an owner-less lookup (by key id, for decryption) still finds it.
    expect(cache.use('k', (key) => key[0], 'scope\u0000a')).toBe(1);
    expect(cache.use('k', (key) => key[0])).toBe(1);
  });

  it('a load may name its owner with its key (the owner is known only once loaded)', async () => {
    const cache = new KeyCache({ ttlMs: 60_000 });
    await cache.get('k', async () => ({ key: Buffer.alloc(32, 2), owner: 'scope\u0000a' }));
    expect(cache.use('k', (key) => key[0], 'scope\u0000a')).toBe(2);
    expect(cache.use('k', (key) => key[0], 'scope\u0000b')).toBe(MISS);
  });
});
