/**
 * Match indexes end to end: contains / startsWith / endsWith on encrypted fields answered
 * through the Int[] Bloom-filter column (a superset query), then exact after decryption;
 * refusals before any SQL; nothing of the plaintext or its n-grams in the database or the log.
 */
import fc from 'fast-check';
import { UnsupportedQueryError, matchFingerprint, matchPositionVersion } from '@hushfield/core';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness } from './support';
import { describeOn } from '../support/provider';

const NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Barbara Liskov',
  'Edsger Dijkstra',
  'Margaret Hamilton',
  'Donald Knuth',
  'Frances Allen',
  'Katherine Johnson',
  'Ken Thompson',
  'Dennis Ritchie',
  'Radia Perlman',
  'Élodie Lovelace',
  'ADA SMITH',
  'ada jones',
];
const CITIES = ['London', 'Paris', 'Lyon', null, 'Londonderry', 'Oslo'];

type Kind = 'contains' | 'startsWith' | 'endsWith';

function plainMatch(value: string | null, kind: Kind, query: string, insensitive: boolean): boolean {
  if (value === null) return false;
  const v = insensitive ? value.toLowerCase() : value;
  const q = insensitive ? query.toLowerCase() : query;
  return kind === 'contains' ? v.includes(q) : kind === 'startsWith' ? v.startsWith(q) : v.endsWith(q);
}

describeOn(['postgresql'], 'match indexes are PostgreSQL integer arrays with a GIN index')(
  'fieldEncryption: match indexes (contains / startsWith / endsWith)',
  () => {
    let h: Harness;
    const rows: { id: string; tenantId: string; name: string; city: string | null }[] = [];

    beforeAll(async () => {
      h = await createHarness();
      for (const [i, name] of NAMES.entries()) {
        const tenantId = i % 3 === 0 ? 'acme' : 'globex';
        const city = CITIES[i % CITIES.length];
        const created = await h.prisma.person.create({ data: { tenantId, name, city } });
        rows.push({ id: created.id, tenantId, name, city });
      }
    });
    afterAll(async () => {
      await h.close();
    });

    const names = (found: { name: string }[]) => found.map((r) => r.name).sort();
    const expected = (kind: Kind, query: string, insensitive = false, field: 'name' | 'city' = 'name') =>
      rows
        .filter((r) => plainMatch(r[field], kind, query, insensitive))
        .map((r) => r.name)
        .sort();

    it('stores an Int[] of positions carrying the index root version, and no plaintext anywhere in the table', async () => {
      const stored = await h.db.query<{ name_match: number[]; city_match: number[]; city: string | null }>(
        'SELECT name_match, city_match, city FROM people',
      );
      for (const row of stored) {
        const [fingerprint, ...positions] = row.name_match;
        expect(fingerprint).toBe(matchFingerprint({ tokens: 3, bits: 1024, hashes: 3, fold: 'case' }));
        expect(positions.length).toBeGreaterThan(0);
        expect(positions.every((p) => matchPositionVersion(p) === 1)).toBe(true);
        if (row.city === null) expect(row.city_match).toEqual([]);
      }
      await expectNoPlaintextIn(h.db, 'people', [...NAMES, 'London', 'Paris', 'Lyon', 'Oslo']);
    });

    it('contains, startsWith and endsWith return exactly what plain filtering returns', async () => {
      const cases: [Kind, string][] = [
        ['contains', 'ace'],
        ['contains', 'Love'],
        ['contains', 'love'],
        ['contains', 'son'],
        ['startsWith', 'Ad'],
        ['startsWith', 'Ken'],
        ['endsWith', 'on'],
        ['endsWith', 'lace'],
        ['contains', 'zzz'],
        ['contains', 'Élo'],
      ];
      for (const [kind, query] of cases) {
        h.queries.length = 0;
        const found = await h.prisma.person.findMany({ where: { name: { [kind]: query } } });
        expect(names(found)).toEqual(expected(kind, query));
        expect(await h.prisma.person.count({ where: { name: { [kind]: query } } })).toBe(expected(kind, query).length);
        // Neither the query text nor any of its n-grams reaches the database.
        // Values travel as parameters; the SQL text is Prisma's own (table and column names).
        // Row ids (random UUIDs, which may hold "ace" by chance) are left out of the search.
        const params = h.queries
          .map((q) => q.params)
          .join('\n')
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>');
        for (const gram of [query, query.slice(0, 3), query.slice(-3)]) {
          if (params.includes(gram)) throw new Error(`the logged parameters hold "${gram}" of the query "${query}"`);
        }
      }
    });

    it("mode: 'insensitive' goes through the index that folds case", async () => {
      for (const query of ['ada', 'ADA', 'lovelace', 'HOP']) {
        const found = await h.prisma.person.findMany({ where: { name: { contains: query, mode: 'insensitive' } } });
        expect(names(found)).toEqual(expected('contains', query, true));
      }
      const starts = await h.prisma.person.findMany({ where: { name: { startsWith: 'ad', mode: 'insensitive' } } });
      expect(names(starts)).toEqual(expected('startsWith', 'ad', true));
    });

    it('is exact against plain filtering on random queries (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...NAMES),
          fc.nat(),
          fc.integer({ min: 3, max: 6 }),
          fc.constantFrom<Kind>('contains', 'startsWith', 'endsWith'),
          fc.boolean(),
          async (name, start, length, kind, insensitive) => {
            const from = start % Math.max(1, name.length - 2);
            const query =
              kind === 'startsWith'
                ? name.slice(0, length)
                : kind === 'endsWith'
                  ? name.slice(-length)
                  : name.slice(from, from + length);
            const asked = insensitive ? query.toUpperCase() : query;
            if (Array.from(asked).length < 3) return;
            const where = { name: { [kind]: asked, ...(insensitive ? { mode: 'insensitive' as const } : {}) } };
            expect(names(await h.prisma.person.findMany({ where }))).toEqual(expected(kind, asked, insensitive));
          },
        ),
        { numRuns: 40 },
      );
    });

    it('combines with other conditions under AND, with a blind index, ordering and paging', async () => {
      const acme = await h.prisma.person.findMany({
        where: { tenantId: 'acme', name: { contains: 'a' + 'ce' } },
        orderBy: { id: 'asc' },
      });
      expect(names(acme)).toEqual(
        rows
          .filter((r) => r.tenantId === 'acme' && r.name.includes('ace'))
          .map((r) => r.name)
          .sort(),
      );
      const both = await h.prisma.person.findMany({
        where: { AND: [{ name: { contains: 'son' } }, { city: 'London' }] },
      });
      expect(names(both)).toEqual(
        rows
          .filter((r) => r.name.includes('son') && r.city === 'London')
          .map((r) => r.name)
          .sort(),
      );
      const twoFilters = await h.prisma.person.findMany({ where: { name: { startsWith: 'Ad', endsWith: 'ace' } } });
      expect(names(twoFilters)).toEqual(['Ada Lovelace']);
      const all = expected('contains', 'ton');
      const page = await h.prisma.person.findMany({
        where: { name: { contains: 'ton' } },
        orderBy: { id: 'asc' },
        take: 2,
      });
      expect(page).toHaveLength(Math.min(2, all.length));
      const city = await h.prisma.person.findMany({ where: { city: { startsWith: 'Lo' } } });
      expect(names(city)).toEqual(expected('startsWith', 'Lo', false, 'city'));
    });

    it('drops candidates that only share filter bits, including a row whose match column was copied in SQL', async () => {
      const target = rows.find((r) => r.name === 'Radia Perlman')!;
      const source = rows.find((r) => r.name === 'Donald Knuth')!;
      await h.db.query('UPDATE people SET name_match = (SELECT name_match FROM people WHERE id = $1) WHERE id = $2', [
        source.id,
        target.id,
      ]);
      // Radia's row now looks like a Knuth candidate to the database, but its decrypted name is not.
      expect(names(await h.prisma.person.findMany({ where: { name: { contains: 'Knuth' } } }))).toEqual([
        'Donald Knuth',
      ]);
      // And a query for Radia misses her row (its index no longer says so), never returning a wrong row.
      expect(await h.prisma.person.findMany({ where: { name: { contains: 'Radia' } } })).toEqual([]);
      await h.prisma.person.update({ where: { id: target.id }, data: { name: target.name } });
      expect(names(await h.prisma.person.findMany({ where: { name: { contains: 'Radia' } } }))).toEqual([
        'Radia Perlman',
      ]);
    });

    it('updateMany and deleteMany touch only true matches', async () => {
      const created = await h.prisma.person.createMany({
        data: [
          { tenantId: 'tmp', name: 'Temp Abcdef', city: 'Nowhere' },
          { tenantId: 'tmp', name: 'Temp Xyz', city: 'Nowhere' },
        ],
      });
      expect(created.count).toBe(2);
      const updated = await h.prisma.person.updateMany({
        where: { name: { endsWith: 'Abcdef' } },
        data: { city: 'Somewhere' },
      });
      expect(updated.count).toBe(1);
      expect(names(await h.prisma.person.findMany({ where: { city: 'Somewhere' } }))).toEqual(['Temp Abcdef']);
      expect((await h.prisma.person.deleteMany({ where: { name: { startsWith: 'Temp' } } })).count).toBe(2);
    });

    it('an update re-indexes the new value and a null clears the list', async () => {
      const row = await h.prisma.person.create({ data: { tenantId: 'acme', name: 'Old Name', city: 'Berlin' } });
      await h.prisma.person.update({ where: { id: row.id }, data: { name: 'Brand New', city: null } });
      expect(await h.prisma.person.findMany({ where: { name: { contains: 'Old N' } } })).toEqual([]);
      expect(names(await h.prisma.person.findMany({ where: { name: { contains: 'rand N' } } }))).toEqual(['Brand New']);
      const [stored] = await h.db.query<{ city_match: number[] }>('SELECT city_match FROM people WHERE id = $1', [
        row.id,
      ]);
      expect(stored.city_match).toEqual([]);
      await h.prisma.person.delete({ where: { id: row.id } });
    });

    describe('refused with a typed error before any SQL', () => {
      const refusals: [string, () => Promise<unknown>, string][] = [
        [
          'under OR',
          () => h.prisma.person.findMany({ where: { OR: [{ name: { contains: 'Ada' } }, { tenantId: 'x' }] } }),
          'top level',
        ],
        ['under NOT', () => h.prisma.person.findMany({ where: { NOT: { name: { contains: 'Ada' } } } }), 'top level'],
        [
          'as not: { contains }',
          () => h.prisma.person.findMany({ where: { city: { not: { contains: 'Lon' } } } }),
          'top level',
        ],
        [
          'a query shorter than one n-gram',
          () => h.prisma.person.findMany({ where: { name: { contains: 'Ad' } } }),
          'shorter',
        ],
        [
          'an endsWith of one character',
          () => h.prisma.person.findMany({ where: { name: { endsWith: 'e' } } }),
          'shorter',
        ],
        [
          'insensitive on an index that keeps case',
          () => h.prisma.person.findMany({ where: { city: { contains: 'lon', mode: 'insensitive' } } }),
          'lowercase',
        ],
        [
          'mode with equality',
          () => h.prisma.person.findMany({ where: { city: { equals: 'x', mode: 'insensitive' } } }),
          'mode',
        ],
        [
          'a field with no match index',
          () => h.prisma.user.findMany({ where: { email: { contains: 'ada' } } }),
          'no match index',
        ],
        [
          'a query longer than maxLength',
          () => h.prisma.person.findMany({ where: { city: { contains: 'x'.repeat(65) } } }),
          'maxLength',
        ],
        [
          'a write to the match column',
          () => h.prisma.person.create({ data: { tenantId: 'acme', name: 'Someone', nameMatch: [1, 2, 3] } }),
          'match index computed by hushfield',
        ],
        [
          'a batch $transaction',
          () => h.prisma.$transaction([h.prisma.person.findMany({ where: { name: { contains: 'Ada' } } })]),
          'top level',
        ],
      ];
      it.each(refusals)('%s', async (_what, run, message) => {
        h.queries.length = 0;
        const error = await run().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnsupportedQueryError);
        expect((error as Error).message).toContain(message);
        expect((error as Error).message).not.toMatch(/Ada|Someone|Lon\b|\blon\b/);
        expect(h.queries).toEqual([]);
      });
    });

    it('a value longer than maxLength is refused on write, naming the field and not the value', async () => {
      h.queries.length = 0;
      const error = await h.prisma.person
        .create({ data: { tenantId: 'acme', name: 'Long', city: 'Secretcity'.repeat(7) } })
        .catch((e: unknown) => e);
      expect((error as Error).message).toContain('maxLength');
      expect((error as Error).message).not.toContain('Secretcity');
      expectNoPlaintextInLog(h.queries, ['Secretcity']);
    });

    it('during an index-key rotation, rows under either version match', async () => {
      await h.prisma.$hushfield.crypto.keys.rotateIndexKey();
      const fresh = h.fresh();
      const created = await fresh.prisma.person.create({ data: { tenantId: 'acme', name: 'Rotated Lovelace' } });
      const [stored] = await h.db.query<{ name_match: number[] }>('SELECT name_match FROM people WHERE id = $1', [
        created.id,
      ]);
      expect(stored.name_match.slice(1).every((p) => matchPositionVersion(p) === 2)).toBe(true);
      const found = await fresh.prisma.person.findMany({ where: { name: { contains: 'Lovelace' } } });
      expect(names(found)).toEqual(['Ada Lovelace', 'Rotated Lovelace', 'Élodie Lovelace']);
    });
  },
);
