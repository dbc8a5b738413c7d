/**
 * Match indexes against a plaintext oracle: a few hundred varied strings (case pairs whose
 * lower case is longer, combining marks in NFC and NFD, final sigma, emoji and surrogate pairs,
 * whitespace, the empty string, maxLength values) and, for each query, exactly the rows that
 * filtering the plaintext in JS returns, through findMany, count, findFirst, pages, cursors,
 * updateMany and deleteMany. The oracle folds case one code point at a time, as the README says.
 */
import { UnsupportedQueryError } from '@hushfield/core';
import { createHarness, type Harness } from './support';
import { describeOn } from '../support/provider';

type Kind = 'contains' | 'startsWith' | 'endsWith';

const fold = (text: string) =>
  Array.from(text)
    .map((c) => c.toLowerCase())
    .join('');

function oracle(value: string | null, kind: Kind, query: string, insensitive: boolean): boolean {
  if (value === null) return false;
  const v = insensitive ? fold(value) : value;
  const q = insensitive ? fold(query) : query;
  return kind === 'contains' ? v.includes(q) : kind === 'startsWith' ? v.startsWith(q) : v.endsWith(q);
}

const PIECES = [
  'İstanbul',
  'istanbul',
  'i̇stanbul', // i + U+0307: the per-code-point lower case of İstanbul
  'ISTANBUL',
  'Straße',
  'STRASSE',
  'strẞe',
  'ΟΔΥΣΣΕΥΣ',
  'οδυσσευς',
  'Οδυσσεύς',
  'café', // NFC
  'café', // NFD
  'CAFÉ',
  'Ångström',
  'Ångström',
  '😀 smile 😀',
  '👩‍👩‍👧 family',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'tab\there',
  'two  spaces',
  ' lead',
  'trail ',
  'new\nline',
  'Ada Lovelace',
  'ADA LOVELACE',
  'ada lovelace',
  'ǅemal',
  'ǆemal',
  'ﬁle',
  'KELVIN K',
  'Ω ohm Ω',
  'x',
  'xy',
  'ab',
  'abc',
];

function values(): string[] {
  const out = new Set<string>(['', ...PIECES]);
  for (let i = 0; out.size < 260; i++) {
    const a = PIECES[(i * 7) % PIECES.length];
    const b = PIECES[(i * 13 + 5) % PIECES.length];
    out.add(i % 3 === 0 ? `${a} ${b}` : i % 3 === 1 ? `${a}${b}` : `${b}-${i}-${a}`);
  }
  out.add('ä'.repeat(256));
  out.add('😀'.repeat(256));
  out.add('İ'.repeat(256));
  return [...out];
}

describeOn(['postgresql'], 'match indexes are PostgreSQL integer arrays with a GIN index')(
  'fieldEncryption: match indexes against a plaintext oracle',
  () => {
    let h: Harness;
    const rows: { id: string; name: string; city: string | null }[] = [];

    beforeAll(async () => {
      h = await createHarness();
      for (const [i, name] of values().entries()) {
        const city = i % 5 === 0 ? null : Array.from(name).slice(0, 64).join('');
        const created = await h.prisma.person.create({ data: { tenantId: `t${i % 2}`, name, city } });
        rows.push({ id: created.id, name, city });
      }
    }, 120_000);
    afterAll(async () => {
      await h.close();
    });

    const ids = (found: { id: string }[]) => found.map((r) => r.id).sort();
    const expected = (field: 'name' | 'city', kind: Kind, query: string, insensitive: boolean) =>
      rows
        .filter((r) => oracle(r[field], kind, query, insensitive))
        .map((r) => r.id)
        .sort();

    /** Queries cut from the stored values: a substring, a prefix or a suffix of 2 to 8 code points. */
    const queries = (): [Kind, string][] => {
      const out: [Kind, string][] = [];
      for (const [i, { name }] of rows.entries()) {
        const points = Array.from(name);
        if (points.length === 0 || i % 2 === 1) continue;
        const length = 2 + (i % 7);
        const from = i % Math.max(1, points.length - length);
        out.push(['contains', points.slice(from, from + length).join('')]);
        out.push(['startsWith', points.slice(0, length).join('')]);
        out.push(['endsWith', points.slice(-length).join('')]);
      }
      for (const extra of [
        'i̇st',
        'İst',
        'ist',
        'ISS',
        'sse',
        'ΣΣΕ',
        'σευς',
        'ευς',
        'é',
        'CAF',
        '😀 s',
        ' sm',
        'ﬁl',
        'ǆem',
      ])
        for (const kind of ['contains', 'startsWith', 'endsWith'] as Kind[]) out.push([kind, extra]);
      return out;
    };

    /** The rows found, or null when the query is refused (with the typed error, never quoting it). */
    const found = async (field: 'name' | 'city', kind: Kind, query: string, insensitive: boolean) => {
      const where = { [field]: { [kind]: query, ...(insensitive ? { mode: 'insensitive' as const } : {}) } };
      try {
        return ids(await h.prisma.person.findMany({ where, select: { id: true } }));
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedQueryError);
        expect((error as Error).message).toMatch(/shorter|maxLength|lowercase/);
        if (query.length > 2) expect((error as Error).message).not.toContain(query);
        return null;
      }
    };

    it('findMany returns exactly the rows plain filtering returns, default and insensitive', async () => {
      const wrong: string[] = [];
      for (const [kind, query] of queries()) {
        for (const field of ['name', 'city'] as const) {
          for (const insensitive of field === 'name' ? [false, true] : [false]) {
            const got = await found(field, kind, query, insensitive);
            if (got === null) continue;
            const want = expected(field, kind, query, insensitive);
            if (JSON.stringify(got) !== JSON.stringify(want))
              wrong.push(
                `${field} ${kind} ${JSON.stringify(query)} ${insensitive ? 'insensitive' : ''}: ${got.length} != ${want.length}`,
              );
          }
        }
      }
      expect(wrong).toEqual([]);
    }, 300_000);

    it('count, findFirst, pages, cursors and other filters give what the same query on the matching rows gives', async () => {
      const cases: [Kind, string, boolean][] = [
        ['contains', 'ist', true],
        ['contains', 'sta', false],
        ['startsWith', 'Ada', false],
        ['endsWith', 'ΕΥΣ', true],
        ['contains', '😀 s', false],
        ['contains', 'AFÉ', true],
        ['contains', 'lov', true],
      ];
      for (const [kind, query, insensitive] of cases) {
        const filter = { [kind]: query, ...(insensitive ? { mode: 'insensitive' as const } : {}) };
        let want: string[];
        try {
          want = expected('name', kind, query, insensitive);
          await h.prisma.person.count({ where: { name: filter } });
        } catch {
          continue; // refused (too short): checked above
        }
        const label = `${kind} ${query} ${insensitive}`;
        expect([label, await h.prisma.person.count({ where: { name: filter } })]).toEqual([label, want.length]);
        const first = await h.prisma.person.findFirst({ where: { name: filter }, orderBy: { id: 'desc' } });
        expect([label, first?.id ?? null]).toEqual([label, want.length === 0 ? null : want[want.length - 1]]);
        // Pages of 3 by id, by skip and by cursor, cover the matching rows exactly once, in order.
        const bySkip: string[] = [];
        for (let skip = 0; skip < want.length + 3; skip += 3) {
          const page = await h.prisma.person.findMany({
            where: { name: filter },
            orderBy: { id: 'asc' },
            skip,
            take: 3,
            select: { id: true },
          });
          bySkip.push(...page.map((r) => r.id));
        }
        expect([label, bySkip]).toEqual([label, want]);
        const byCursor: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await h.prisma.person.findMany({
            where: { name: filter },
            orderBy: { id: 'asc' },
            take: 3,
            ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 }),
            select: { id: true },
          });
          if (page.length === 0) break;
          byCursor.push(...page.map((r) => r.id));
          cursor = page[page.length - 1].id;
        }
        expect([label, byCursor]).toEqual([label, want]);
        // With other filters: on the scope, on the other encrypted field, under AND.
        const inT0 = await h.prisma.person.findMany({
          where: { AND: [{ tenantId: 't0' }, { name: filter }], city: { not: null } },
          select: { id: true },
        });
        const t0 = new Set(
          (await h.base.person.findMany({ where: { tenantId: 't0', city: { not: null } }, select: { id: true } })).map(
            (r) => r.id,
          ),
        );
        expect([label, ids(inT0)]).toEqual([label, want.filter((id) => t0.has(id))]);
        const grouped = await h.prisma.person.groupBy({ by: ['tenantId'], where: { name: filter }, _count: true });
        expect([label, grouped.reduce((n, g) => n + g._count, 0)]).toEqual([label, want.length]);
      }
    }, 300_000);

    it('a unique where with a match filter names the row only when its value matches', async () => {
      const row = await h.prisma.person.create({ data: { tenantId: 't0', name: 'Unique Zebra', city: 'Zagreb' } });
      const other = await h.fresh().prisma.person.findUnique({ where: { id: row.id, name: { contains: 'Lion' } } });
      expect(other).toBeNull();
      expect(await h.prisma.person.findUnique({ where: { id: row.id, name: { contains: 'Lion' } } })).toBeNull();
      const missed = await h.prisma.person
        .update({ where: { id: row.id, name: { contains: 'Lion' } }, data: { name: 'Unique Lion' } })
        .catch((e: unknown) => e);
      expect((missed as { code?: string }).code).toBe('P2025');
      const deleted = await h.prisma.person
        .delete({ where: { id: row.id, name: { endsWith: 'Lion' } } })
        .catch((e: unknown) => e);
      expect((deleted as { code?: string }).code).toBe('P2025');
      const updated = await h.prisma.person.update({
        where: { id: row.id, name: { contains: 'zeb', mode: 'insensitive' } },
        data: { name: 'Unique Lion' },
      });
      expect(updated.name).toBe('Unique Lion');
      const upserted = await h.prisma.person.upsert({
        where: { id: row.id, name: { startsWith: 'Unique L' } },
        create: { tenantId: 't0', name: 'never' },
        update: { city: 'Lagos' },
      });
      expect(upserted).toMatchObject({ id: row.id, city: 'Lagos' });
      await h.prisma.person.delete({ where: { id: row.id, name: { endsWith: 'Lion' } } });
    });

    it('inside an interactive transaction, sees the rows the transaction wrote', async () => {
      const found = await h.prisma.$transaction(async (tx) => {
        await tx.person.create({ data: { tenantId: 't1', name: 'Uncommitted Quokka' } });
        const inside = await tx.person.findMany({ where: { name: { contains: 'quokka', mode: 'insensitive' } } });
        const count = await tx.person.count({ where: { name: { endsWith: 'Quokka' } } });
        await tx.person.deleteMany({ where: { name: { startsWith: 'Uncommitted' } } });
        return { names: inside.map((p) => p.name), count };
      });
      expect(found).toEqual({ names: ['Uncommitted Quokka'], count: 1 });
      expect(await h.prisma.person.count({ where: { name: { contains: 'Quokka' } } })).toBe(0);
    });

    it('updateMany and deleteMany touch exactly the matching rows', async () => {
      for (const [kind, query, insensitive] of [
        ['contains', 'i̇st', true],
        ['endsWith', 'ΣΣΕΥΣ', false],
        ['startsWith', 'caf', true],
      ] as [Kind, string, boolean][]) {
        const filter = { [kind]: query, ...(insensitive ? { mode: 'insensitive' as const } : {}) };
        const want = expected('name', kind, query, insensitive);
        const marker = `touched ${kind}`;
        const updated = await h.prisma.person.updateMany({ where: { name: filter }, data: { tenantId: marker } });
        expect(updated.count).toBe(want.length);
        const touched = await h.base.person.findMany({ where: { tenantId: marker }, select: { id: true } });
        expect(ids(touched)).toEqual(want);
      }
      const query = 'lovelace';
      const want = expected('name', 'contains', query, true);
      const deleted = await h.prisma.person.deleteMany({ where: { name: { contains: query, mode: 'insensitive' } } });
      expect(deleted.count).toBe(want.length);
      const left = new Set((await h.base.person.findMany({ select: { id: true } })).map((r) => r.id));
      expect(want.filter((id) => left.has(id))).toEqual([]);
      expect(left.size).toBe(rows.length - want.length);
    }, 120_000);
  },
);
