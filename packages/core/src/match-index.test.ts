import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { InvalidArgumentError } from './errors';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import {
  checkMatchSpec,
  deriveMatchKey,
  matchesQuery,
  matchFingerprint,
  matchPositions,
  matchPositionVersion,
  queryGrams,
  valueGrams,
  type MatchIndexSpec,
  type MatchKind,
} from './match-index';
import { MemoryKeyStore } from './memory-key-store';

const spec: MatchIndexSpec = {
  model: 'contacts',
  field: 'name',
  name: 'nameMatch',
  tokens: 3,
  bits: 1024,
  hashes: 3,
  fold: 'case',
  maxLength: 200,
};
const KINDS: readonly MatchKind[] = ['contains', 'startsWith', 'endsWith'];

function crypto(rootKey: Buffer = randomBytes(32)): FieldCrypto {
  return new FieldCrypto({
    keyring: new LocalKeyring(rootKey),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 60_000 },
  });
}

const isSubset = (small: readonly number[], big: readonly number[]) => {
  const set = new Set(big);
  return small.every((p) => set.has(p));
};

describe('match index', () => {
  it('is a keyed Bloom filter: positions come from HMAC under a derived key, carry the root version, and are sorted', async () => {
    const c = crypto();
    const [fingerprint, ...positions] = await c.matchIndex(spec, 'Ada Lovelace');
    expect(fingerprint).toBe(matchFingerprint(spec));
    expect(fingerprint).toBe(-3_100_301); // trigrams, 2^10 bits, 3 hashes, case folded
    expect(positions.length).toBeGreaterThan(0);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
    for (const p of positions) {
      expect(matchPositionVersion(p)).toBe(1);
      expect(p % 65_536).toBeLessThan(spec.bits);
    }
    // Same key, same value: same positions; another root key: other positions.
    expect(await c.matchIndex(spec, 'Ada Lovelace')).toEqual([fingerprint, ...positions]);
    expect((await crypto().matchIndex(spec, 'Ada Lovelace')).slice(1)).not.toEqual(positions);
    // Every parameter is bound into the key.
    const root = randomBytes(32);
    const grams = valueGrams(spec, 'Ada Lovelace');
    const base = matchPositions(deriveMatchKey(root, spec, 1), spec, 1, grams);
    for (const other of [{ tokens: 2 }, { bits: 2048 }, { hashes: 2 }, { fold: 'none' as const }, { name: 'other' }]) {
      const changed = { ...spec, ...other };
      expect(
        matchPositions(deriveMatchKey(root, changed, 1), changed, 1, valueGrams(changed, 'Ada Lovelace')),
      ).not.toEqual(base);
    }
  });

  it('never misses a match: every query position is in the value of a row that matches (property)', async () => {
    const c = crypto();
    const alphabet = fc.constantFrom(
      'a',
      'b',
      'A',
      'B',
      ' ',
      'é',
      'É',
      'Σ',
      'σ',
      'ς',
      'İ',
      'ß',
      '😀',
      '\u0002',
      '\u0003',
    );
    const text = fc.array(alphabet, { minLength: 0, maxLength: 24 }).map((chars) => chars.join(''));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...KINDS),
        fc.boolean(),
        async (value, a, b, kind, insensitive) => {
          const points = Array.from(value);
          const from = points.length === 0 ? 0 : a % points.length;
          const query =
            kind === 'startsWith'
              ? points.slice(0, (b % (points.length + 1)) + 0).join('')
              : kind === 'endsWith'
                ? points.slice(from).join('')
                : points.slice(from, from + (b % 6)).join('');
          const asked = insensitive ? query.toUpperCase() : query;
          if (!matchesQuery(spec, kind, value, asked, insensitive)) return;
          const wanted = await c.matchQueryAll(spec, kind, asked);
          if (wanted === null) return; // too short: refused by the caller, never answered wrong
          expect(isSubset(wanted[0], await c.matchIndex(spec, value))).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('indexes the code points of the folded text, so an insensitive query cut inside the fold of İ finds its row', async () => {
    const c = crypto();
    // İ (U+0130) lower-cases to i + U+0307: a query may hold either half, or the pair written out.
    const cases: [string, MatchKind, string][] = [
      ['İstanbul', 'contains', 'i\u0307st'],
      ['İstanbul', 'startsWith', 'i\u0307s'],
      ['axİy', 'contains', 'axi'],
      ['xİyz', 'contains', '\u0307yz'],
      ['ai\u0307b', 'contains', 'aİb'],
      ['abİ', 'endsWith', 'i\u0307'],
    ];
    for (const [value, kind, query] of cases) {
      expect(matchesQuery(spec, kind, value, query, true)).toBe(true);
      const wanted = await c.matchQueryAll(spec, kind, query);
      if (wanted === null) continue;
      expect(isSubset(wanted[0], await c.matchIndex(spec, value))).toBe(true);
    }
  });

  it('answers random queries against random values with the same result as plain filtering, after the exact check', async () => {
    const c = crypto();
    const alphabet = fc.constantFrom('a', 'b', 'c', 'A', 'é', 'É');
    const text = fc.array(alphabet, { minLength: 0, maxLength: 12 }).map((chars) => chars.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { minLength: 1, maxLength: 20 }),
        fc.array(alphabet, { minLength: 3, maxLength: 5 }).map((chars) => chars.join('')),
        fc.constantFrom(...KINDS),
        fc.boolean(),
        async (values, query, kind, insensitive) => {
          const [wanted] = (await c.matchQueryAll(spec, kind, query)) as number[][];
          const indexed = await Promise.all(values.map((value) => c.matchIndex(spec, value)));
          const candidates = values.filter((_, i) => isSubset(wanted, indexed[i]));
          const answered = candidates.filter((value) => matchesQuery(spec, kind, value, query, insensitive));
          const plain = values.filter((value) =>
            insensitive
              ? kind === 'contains'
                ? value.toLowerCase().includes(query.toLowerCase())
                : kind === 'startsWith'
                  ? value.toLowerCase().startsWith(query.toLowerCase())
                  : value.toLowerCase().endsWith(query.toLowerCase())
              : kind === 'contains'
                ? value.includes(query)
                : kind === 'startsWith'
                  ? value.startsWith(query)
                  : value.endsWith(query),
          );
          expect(answered).toEqual(plain);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses queries too short for one n-gram, counting the start or end mark for prefixes and suffixes', () => {
    expect(queryGrams(spec, 'contains', 'ab')).toBeNull();
    expect(queryGrams(spec, 'contains', 'abc')?.size).toBe(1);
    expect(queryGrams(spec, 'startsWith', 'ab')?.size).toBe(1);
    expect(queryGrams(spec, 'endsWith', 'a')).toBeNull();
    expect(queryGrams(spec, 'contains', '😀😀😀')?.size).toBe(1); // code points, not UTF-16 units
  });

  it('refuses values over maxLength and lone surrogates without echoing them, and bad specs by name', async () => {
    const c = crypto();
    const secret = 'secret-value-'.repeat(20);
    const error = await c.matchIndex(spec, secret).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain('maxLength');
    expect((error as Error).message).not.toContain('secret-value');
    await expect(c.matchIndex(spec, 'a\ud800b')).rejects.toThrow(InvalidArgumentError);
    await expect(c.matchQueryAll(spec, 'contains', 'x\udc00yz')).rejects.toThrow(InvalidArgumentError);
    expect(() => checkMatchSpec({ ...spec, bits: 1000 })).toThrow('spec.bits');
    expect(() => checkMatchSpec({ ...spec, tokens: 1 })).toThrow('spec.tokens');
    expect(() => checkMatchSpec({ ...spec, hashes: 9 })).toThrow('spec.hashes');
    expect(() => checkMatchSpec({ ...spec, fold: 'nfkc' as never })).toThrow('spec.fold');
  });

  it('answers a query under every live index root version during a rotation, current first', async () => {
    const c = crypto();
    const before = await c.matchIndex(spec, 'Grace Hopper');
    await c.keys.rotateIndexKey();
    const after = await c.matchIndex(spec, 'Grace Hopper');
    expect(after.slice(1).every((p) => matchPositionVersion(p) === 2)).toBe(true);
    const wanted = (await c.matchQueryAll(spec, 'contains', 'hopp')) as number[][];
    expect(wanted).toHaveLength(2);
    expect(isSubset(wanted[0], after)).toBe(true);
    expect(isSubset(wanted[1], before)).toBe(true);
    expect(isSubset(wanted[0], before)).toBe(false);
  });

  it('computes synchronously once the index key is cached, and the same positions', async () => {
    const c = crypto();
    expect(c.cachedMatchIndex(spec, 'Ada')).toBeUndefined();
    const cold = await c.matchIndex(spec, 'Ada');
    expect(c.cachedMatchIndex(spec, 'Ada')).toEqual(cold);
  });
});
