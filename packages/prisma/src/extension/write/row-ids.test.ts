import { generateRowId } from './row-ids';

describe('generateRowId', () => {
  it('generates ids in the format of each client-side default', () => {
    expect(generateRowId('uuid')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(generateRowId('cuid')).toMatch(/^c[0-9a-z]{24}$/);
    expect(generateRowId('cuid2')).toMatch(/^[a-z][0-9a-z]{23}$/);
    expect(generateRowId('ulid')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(generateRowId('nanoid')).toMatch(/^[A-Za-z0-9_-]{21}$/);
  });

  it('makes the version and size the default names: uuid(7), nanoid(n)', () => {
    // RFC 9562: version nibble 7, variant bits 10.
    expect(generateRowId('uuid7')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(generateRowId('nanoid(12)')).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(generateRowId('nanoid(64)')).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it('puts the time of creation in the first 48 bits of a uuid(7)', () => {
    const before = Date.now();
    const id = generateRowId('uuid7') as string;
    const after = Date.now();
    const time = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it('sorts uuid(7)s in the order they were made, within a millisecond and when the clock steps back', () => {
    // Later than any id made so far in this process, whose last time the generator keeps.
    const base = Date.now() + 60_000;
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(base);
      const sameMs = Array.from({ length: 1000 }, () => generateRowId('uuid7') as string);
      now.mockReturnValue(base - 1_000);
      const stepBack = generateRowId('uuid7') as string;
      now.mockReturnValue(base + 1);
      const next = generateRowId('uuid7') as string;
      const all = [...sameMs, stepBack, next];
      for (let i = 1; i < all.length; i++) expect(all[i] > all[i - 1]).toBe(true);
      // The time field holds the millisecond the clock gave (kept, not stepped back).
      const time = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(new Set(sameMs.map(time))).toEqual(new Set([base]));
      expect(time(stepBack)).toBe(base);
      expect(time(next)).toBe(base + 1);
      for (const id of all) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // The 32-bit counter, read back from the bits around version and variant, counts by one.
      const counter = (id: string) => {
        const b = Buffer.from(id.replace(/-/g, ''), 'hex');
        return (((b[6] & 0x0f) << 28) | (b[7] << 20) | ((b[8] & 0x3f) << 14) | (b[9] << 6) | (b[10] >> 2)) >>> 0;
      };
      const counts = [...sameMs, stepBack].map(counter);
      expect(counts[0]).toBeLessThan(2 ** 31);
      for (let i = 1; i < counts.length; i++) expect(counts[i] - counts[i - 1]).toBe(1);
    } finally {
      now.mockRestore();
    }
  });

  it('returns undefined where only the database can make the id', () => {
    expect(generateRowId('autoincrement')).toBeUndefined();
    expect(generateRowId('database')).toBeUndefined();
    expect(generateRowId('none')).toBeUndefined();
  });

  it('never repeats an id across many draws', () => {
    for (const kind of ['uuid', 'uuid7', 'cuid', 'cuid2', 'ulid', 'nanoid', 'nanoid(12)'] as const) {
      const ids = new Set(Array.from({ length: 2000 }, () => generateRowId(kind)));
      expect(ids.size).toBe(2000);
    }
  });

  it('orders ULIDs by creation time', () => {
    const first = generateRowId('ulid') as string;
    const later = Date.now() + 5;
    while (Date.now() < later) {
      // wait for the clock to move
    }
    expect((generateRowId('ulid') as string).slice(0, 10) > first.slice(0, 10)).toBe(true);
  });
});
