import { InvalidArgumentError } from './errors';
import { POOL_BYTES, RandomPool, randomSecret } from './random-pool';

describe('RandomPool', () => {
  it('hands out fresh bytes and wipes each slice from the pool as it is drawn', () => {
    const pool = Buffer.alloc(64);
    let fills = 0;
    const drawn = new RandomPool(pool, (buffer) => {
      fills++;
      for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 7 + fills * 31 + 1) & 0xff || 1;
    });
    const first = drawn.draw(32);
    expect(fills).toBe(1);
    expect(pool.subarray(0, 32).every((byte) => byte === 0)).toBe(true);
    expect(pool.subarray(32).some((byte) => byte !== 0)).toBe(true);
    expect(first.every((byte) => byte !== 0)).toBe(true);

    const second = drawn.draw(12);
    expect(second.equals(first.subarray(0, 12))).toBe(false);
    expect(pool.subarray(0, 44).every((byte) => byte === 0)).toBe(true);

    // 20 bytes left: a 32-byte draw refills instead of mixing old and new bytes.
    drawn.draw(32);
    expect(fills).toBe(2);
    expect(pool.subarray(0, 32).every((byte) => byte === 0)).toBe(true);
  });

  it('never returns the pool itself or a view of it', () => {
    const pool = Buffer.alloc(64);
    const out = new RandomPool(pool, (buffer) => buffer.fill(0xab)).draw(16);
    expect(out.equals(Buffer.alloc(16, 0xab))).toBe(true);
    out.fill(1);
    expect(pool.subarray(16).every((byte) => byte === 0xab)).toBe(true);
    expect(
      out.buffer === pool.buffer && out.byteOffset >= pool.byteOffset && out.byteOffset < pool.byteOffset + pool.length,
    ).toBe(false);
  });

  it('draws distinct secrets from the CSPRNG, across many refills', () => {
    const seen = new Set<string>();
    const draws = Math.ceil((POOL_BYTES / 32) * 3);
    for (let i = 0; i < draws; i++) seen.add(randomSecret(32).toString('hex'));
    expect(seen.size).toBe(draws);
  });

  it.each([[0], [1.5], [POOL_BYTES + 1]])('refuses to draw %p bytes, naming the argument', (size) => {
    expect(() => randomSecret(size)).toThrow(InvalidArgumentError);
    expect(() => randomSecret(size)).toThrow('size must be');
  });
});
