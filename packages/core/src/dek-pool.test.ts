import { DekPool, type PreparedDek } from './dek-pool';
import { InvalidArgumentError } from './errors';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nextTask = () => new Promise((resolve) => setImmediate(resolve));
const zeroed = (buffer: Buffer) => buffer.every((byte) => byte === 0);

let serial = 0;
function entry(pool: DekPool, keyId = 'k1', version = 1, ttlMs = 60_000): PreparedDek {
  serial++;
  return {
    keyId,
    version,
    expiresAt: pool.expiry(ttlMs),
    dek: Buffer.alloc(32, serial % 255 || 1),
    wrapped: Buffer.alloc(60, 9),
    wrappedText: `w${serial}`,
  };
}

describe('DekPool', () => {
  it('hands each entry out once, then nothing', () => {
    const pool = new DekPool({ perScope: 2 });
    const a = entry(pool);
    const b = entry(pool);
    expect(pool.put('t1', a, pool.generation)).toBe(true);
    expect(pool.put('t1', b, pool.generation)).toBe(true);
    const first = pool.take('t1', 'k1', 1);
    const second = pool.take('t1', 'k1', 1);
    expect(first).toBe(a);
    expect(second).toBe(b);
    expect(pool.take('t1', 'k1', 1)).toBeUndefined();
    expect(pool.taken).toBe(2);
    // The pool keeps no copy: what it handed out is the caller's alone, not zeroed under it.
    expect(zeroed(a.dek) || zeroed(b.dek)).toBe(false);
    expect(pool.size).toBe(0);
  });

  it('holds at most perScope entries per scope and zeroes what it refuses', () => {
    const pool = new DekPool({ perScope: 2 });
    const entries = [entry(pool), entry(pool), entry(pool)];
    expect(entries.map((e) => pool.put('t1', e, pool.generation))).toEqual([true, true, false]);
    expect(zeroed(entries[2].dek)).toBe(true);
    expect(pool.size).toBe(2);
  });

  it('holds at most maxScopes scopes, zeroing the entries of the least recently used one', () => {
    const pool = new DekPool({ perScope: 1, maxScopes: 2 });
    const [a, b, c] = [entry(pool), entry(pool), entry(pool)];
    pool.put('a', a, pool.generation);
    pool.put('b', b, pool.generation);
    pool.put('c', c, pool.generation);
    expect(zeroed(a.dek)).toBe(true);
    expect(pool.size).toBe(2);
    expect(pool.take('a', 'k1', 1)).toBeUndefined();
    expect(pool.take('c', 'k1', 1)).toBe(c);
  });

  it('zeroes instead of handing out an entry under another key version (a rotated scope)', () => {
    const pool = new DekPool();
    const old = entry(pool, 'k1', 1);
    pool.put('t1', old, pool.generation);
    expect(pool.take('t1', 'k1', 2)).toBeUndefined();
    expect(zeroed(old.dek)).toBe(true);
    expect(pool.take('t1', 'k1', 1)).toBeUndefined();
  });

  it('zeroes an entry past its age instead of handing it out, and sweeps idle ones by itself', async () => {
    const pool = new DekPool({ maxAgeMs: 20 });
    const stale = entry(pool);
    pool.put('t1', stale, pool.generation);
    await sleep(40);
    expect(pool.take('t1', 'k1', 1)).toBeUndefined();
    expect(zeroed(stale.dek)).toBe(true);
    const idle = entry(pool);
    pool.put('t2', idle, pool.generation);
    await sleep(80); // never taken: the sweep drops it
    expect(zeroed(idle.dek)).toBe(true);
    expect(pool.size).toBe(0);
  });

  it('lives no longer than its scope key stays cached', async () => {
    const pool = new DekPool({ maxAgeMs: 60_000 });
    const short = entry(pool, 'k1', 1, 10);
    pool.put('t1', short, pool.generation);
    await sleep(30);
    expect(pool.take('t1', 'k1', 1)).toBeUndefined();
    expect(zeroed(short.dek)).toBe(true);
  });

  it('flush zeroes everything, and refuses entries prepared before it', () => {
    const pool = new DekPool();
    const held = entry(pool);
    pool.put('t1', held, pool.generation);
    const generation = pool.generation;
    pool.flush();
    expect(zeroed(held.dek)).toBe(true);
    const late = entry(pool);
    expect(pool.put('t1', late, generation)).toBe(false);
    expect(zeroed(late.dek)).toBe(true);
    expect(pool.size).toBe(0);
  });

  it('flushKeys zeroes the entries of a destroyed key and keeps the others', () => {
    const pool = new DekPool();
    const gone = entry(pool, 'gone');
    const kept = entry(pool, 'kept');
    pool.put('a', gone, pool.generation);
    pool.put('b', kept, pool.generation);
    pool.flushKeys(['gone']);
    expect(zeroed(gone.dek)).toBe(true);
    expect(zeroed(kept.dek)).toBe(false);
    expect(pool.take('b', 'kept', 1)).toBe(kept);
  });

  it('refills once per task, for every scope asked meanwhile', async () => {
    const pool = new DekPool();
    const calls: string[][] = [];
    pool.requestRefill('a', (scopes) => calls.push([...scopes]));
    pool.requestRefill('b', (scopes) => calls.push([...scopes]));
    pool.requestRefill('a', (scopes) => calls.push([...scopes]));
    expect(calls).toEqual([]); // not on the caller's path
    await nextTask();
    expect(calls).toEqual([['a', 'b']]);
  });

  it('refuses bad bounds', () => {
    expect(() => new DekPool({ perScope: 0 })).toThrow(InvalidArgumentError);
    expect(() => new DekPool({ maxScopes: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new DekPool({ maxAgeMs: -1 })).toThrow(InvalidArgumentError);
    // past what a timer holds, the sweep timer fired and re-armed every millisecond
    expect(() => new DekPool({ maxAgeMs: 2 ** 31 })).toThrow(
      'options.dekPool.maxAgeMs must be a positive number of at most',
    );
  });
});
