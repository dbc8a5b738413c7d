/**
 * match: keyed match indexes for contains / startsWith / endsWith on encrypted fields.
 *
 * 1. False positives by filter size (in memory): values from a real word list (Debian's
 *    `wamerican`, /usr/share/dict/american-english), queries that are substrings of them; for
 *    each (bits, hashes), how many rows the index returns against how many really match.
 * 2. On PostgreSQL: `contains` over N `Person` rows (two words each), plain Prisma on a
 *    plaintext column (a LIKE scan) against hushfield (GIN `@>` on the Int[] column, then the
 *    candidates decrypted and re-checked): time per query, candidates per query, index bytes per row.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { LocalKeyring, matchesQuery, type MatchIndexSpec } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { FieldCrypto } from '@hushfield/core';
import { deriveMatchKey, matchPositions, queryGrams, valueGrams } from '../../packages/core/dist/match-index';
import { PrismaClient } from '../../prisma/generated/client/client';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import type { TestDatabase } from '../../test/support/database';
import { chunks } from '../lib/fixtures';
import { median, timeOnce } from '../lib/measure';
import { count, ms, ratio, type Section } from '../lib/report';

/** Sizes; the defaults are the published benchmark. */
export interface MatchBenchOptions {
  readonly db: TestDatabase;
  /** Rows in the PostgreSQL part. */
  readonly rows?: number;
  /** Values in the in-memory false-positive part. */
  readonly words?: number;
  /** Queries per case. */
  readonly queries?: number;
  readonly log?: (line: string) => void;
}

/** Debian's wamerican word list. */
export const WORD_LIST = '/usr/share/dict/american-english';

/** A deterministic pseudo-random sequence (xorshift32): the same words and queries every run. */
function sequence(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** The word list without possessives, or a generated stand-in (said so) where it is not installed. */
function loadWords(): { words: string[]; source: string } {
  if (existsSync(WORD_LIST)) {
    const words = readFileSync(WORD_LIST, 'utf8')
      .split('\n')
      .filter((w) => w.length >= 3 && !w.includes("'"));
    return { words, source: `${count(words.length)} words of ${WORD_LIST} (Debian wamerican)` };
  }
  const next = sequence(7);
  const letters = 'etaoinshrdlucmfwypvbgkqjxz';
  const words = Array.from({ length: 50_000 }, () =>
    Array.from({ length: 4 + Math.floor(next() * 8) }, () => letters[Math.floor(next() ** 2 * 26)]).join(''),
  );
  return {
    words,
    source: `${WORD_LIST} is not installed: 50,000 generated letter strings stand in (not a real word list)`,
  };
}

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)];
}

/** A substring of 3 to 6 code points of one of `values`. */
function substringQuery(values: readonly string[], next: () => number): string {
  for (;;) {
    const value = pick(values, next);
    const length = 3 + Math.floor(next() * 4);
    if (value.length < length) continue;
    const from = Math.floor(next() * (value.length - length + 1));
    return value.slice(from, from + length);
  }
}

const isSubset = (small: readonly number[], big: ReadonlySet<number>) => small.every((p) => big.has(p));

/** In memory: candidates and true matches per query, for one spec over `values`. */
function falsePositives(values: readonly string[], queries: readonly string[], spec: MatchIndexSpec) {
  const key = deriveMatchKey(randomBytes(32), spec, 1);
  const indexed = values.map((value) => new Set(matchPositions(key, spec, 1, valueGrams(spec, value))));
  let candidates = 0;
  let matches = 0;
  let falseRows = 0;
  let nonMatching = 0;
  for (const query of queries) {
    const wanted = matchPositions(key, spec, 1, queryGrams(spec, 'contains', query) as Set<string>);
    for (let i = 0; i < values.length; i++) {
      const real = matchesQuery(spec, 'contains', values[i], query, true);
      const candidate = isSubset(wanted, indexed[i]);
      if (candidate) candidates++;
      if (real) matches++;
      else {
        nonMatching++;
        if (candidate) falseRows++;
      }
    }
  }
  key.fill(0);
  const bytes = indexed.reduce((sum, set) => sum + (set.size + 1) * 4, 0) / values.length;
  return {
    candidates: candidates / queries.length,
    matches: matches / queries.length,
    rate: falseRows / nonMatching,
    bytes,
  };
}

const BASE_SPEC: MatchIndexSpec = {
  model: 'people',
  field: 'name',
  name: 'name_match',
  tokens: 3,
  bits: 1024,
  hashes: 3,
  fold: 'case',
  maxLength: 256,
};

/** Runs the match benchmark. */
export async function runMatchBench(options: MatchBenchOptions): Promise<Section> {
  const { db } = options;
  const rows = options.rows ?? 100_000;
  const queryCount = options.queries ?? 50;
  const log = options.log ?? (() => undefined);
  const { words, source } = loadWords();
  const next = sequence(42);

  // 1. False positives in memory.
  const sample = Array.from({ length: Math.min(options.words ?? 20_000, words.length) }, () => pick(words, next));
  const fpQueries = Array.from({ length: queryCount * 4 }, () => substringQuery(sample, next));
  const fpRows: string[][] = [];
  for (const bits of [256, 1024, 4096]) {
    for (const hashes of [1, 2, 3]) {
      log(`match: false positives, ${bits} bits, ${hashes} hash(es)`);
      const r = falsePositives(sample, fpQueries, { ...BASE_SPEC, bits, hashes });
      fpRows.push([
        String(bits),
        String(hashes),
        r.matches.toFixed(1),
        r.candidates.toFixed(1),
        `${(r.rate * 100).toFixed(2)} %`,
        `${Math.round(r.bytes)} B`,
      ]);
    }
  }

  // 2. PostgreSQL, contains over `rows` two-word names.
  const names = Array.from({ length: rows }, () => `${pick(words, next)} ${pick(words, next)}`);
  const queries = Array.from({ length: queryCount }, () => substringQuery(names, next));
  const base = new PrismaClient({ adapter: db.adapter() });
  const keyring = new LocalKeyring(randomBytes(32));
  const crypto = new FieldCrypto({ keyring, keyStore: new PrismaKeyStore(base), cache: { ttlMs: 3_600_000 } });
  const sealed = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, crypto }));
  const expected = queries.map((query) => names.filter((name) => name.includes(query)).length);
  try {
    await db.query('TRUNCATE people');
    log(`match: plain Prisma, ${count(rows)} plaintext rows`);
    for (const part of chunks(names, 5_000))
      await base.person.createMany({ data: part.map((name) => ({ tenantId: 't', name })) });
    await db.query('ANALYZE people');
    const [plainSize] = await db.query<{ text: string }>('SELECT avg(pg_column_size(name))::text AS text FROM people');
    const plainMs: number[] = [];
    for (const [i, query] of queries.entries()) {
      let found = 0;
      plainMs.push(
        await timeOnce(
          async () => (found = (await base.person.findMany({ where: { name: { contains: query } } })).length),
        ),
      );
      if (found !== expected[i]) throw new Error('plain contains returned another number of rows than expected');
    }

    await db.query('TRUNCATE people');
    log(`match: hushfield, ${count(rows)} encrypted rows with a match index`);
    const writeMs = await timeOnce(async () => {
      for (const part of chunks(names, 1_000))
        await sealed.person.createMany({ data: part.map((name) => ({ tenantId: 't', name })) });
    });
    await db.query('ANALYZE people');
    const [size] = await db.query<{ bytes: string; text: string }>(
      'SELECT avg(pg_column_size(name_match))::text AS bytes, avg(pg_column_size(name))::text AS text FROM people',
    );
    const sealedMs: number[] = [];
    const candidates: number[] = [];
    for (const [i, query] of queries.entries()) {
      let found = 0;
      sealedMs.push(
        await timeOnce(
          async () => (found = (await sealed.person.findMany({ where: { name: { contains: query } } })).length),
        ),
      );
      if (found !== expected[i])
        throw new Error('hushfield contains returned another number of rows than plain filtering');
      const [wanted] = (await crypto.matchQueryAll({ ...BASE_SPEC, fold: 'case' }, 'contains', query)) as number[][];
      const [row] = await db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM people WHERE name_match @> $1::int4[]',
        [wanted],
      );
      candidates.push(Number(row.n));
    }
    const plainMedian = median(plainMs);
    const sealedMedian = median(sealedMs);
    return {
      id: 'match',
      title: 'match: contains on encrypted fields through keyed match indexes',
      command: 'pnpm bench match',
      intro:
        "A match index is a keyed Bloom filter of a value's trigrams, stored as the positions of its set bits in an `Int[]` " +
        'column with a GIN index; a `contains` query asks for rows holding every position of its own trigrams (a superset), and ' +
        'hushfield decrypts those candidates and keeps the real matches. Queries are substrings (3 to 6 characters) of the values, ' +
        `case-insensitive as the index folds case. Values: ${source}.`,
      tables: [
        {
          title: `False positives by filter size: ${count(sample.length)} single words, ${count(fpQueries.length)} queries (in memory)`,
          columns: [
            'bits',
            'hashes',
            'true matches per query',
            'candidates per query',
            'false-positive rate',
            'index size per value',
          ],
          rows: fpRows,
          notes: [
            "False-positive rate: rows returned by the index that do not match, over all rows that do not match. Index size: 4 bytes per position plus the fingerprint, before PostgreSQL's array header.",
          ],
        },
        {
          title: `contains over ${count(rows)} rows of two words each (trigrams, 1,024 bits, 3 hashes, case folded): ${queries.length} queries`,
          columns: [
            'case',
            'median per query',
            'true matches per query (median)',
            'rows read per query (median)',
            'stored bytes per row',
          ],
          rows: [
            [
              'plain Prisma `contains` on plaintext (LIKE, sequential scan)',
              ms(plainMedian),
              String(median(expected)),
              count(rows),
              `${Math.round(Number(plainSize.text))} B name (plaintext)`,
            ],
            [
              'hushfield `contains` (GIN `@>`, decrypt candidates, re-check)',
              ms(sealedMedian),
              String(median(expected)),
              String(median(candidates)),
              `${Math.round(Number(size.text))} B name (envelope) + ${Math.round(Number(size.bytes))} B match index`,
            ],
          ],
          notes: [
            `hushfield / plain: ${ratio(sealedMedian / plainMedian)} per query (median); every answer equalled plain filtering on the same names.`,
            `Writing the ${count(rows)} encrypted rows (createMany, chunks of 1,000, envelope + match index per row): ${ms(writeMs)}.`,
          ],
        },
      ],
      targets: [],
    };
  } finally {
    await db.query('TRUNCATE people');
    await base.$disconnect();
  }
}
