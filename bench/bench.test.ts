/**
 * Smoke test: every benchmark runs end to end with tiny sizes, so the bench code cannot rot
 * while the packages change. No timing is asserted; what is asserted is that each benchmark
 * measured what it claims (rows, call counts, stored ciphertext) and renders into RESULTS.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { describeEnvironment } from './lib/environment';
import type { Section } from './lib/report';
import { writeResults, writeRunSummary } from './lib/results-file';
import { runCryptoBench } from './suites/crypto';
import { runKeyringsBench } from './suites/keyrings';
import { runKmsBench } from './suites/kms';
import { runMatchBench } from './suites/match';
import { runMigratorBench } from './suites/migrator';
import { runPrismaBench } from './suites/prisma';

const once = { warmup: 0, runs: 1 };
/** Also exercises the warm-up paths. */
const warmedOnce = { warmup: 1, runs: 1 };

describe('benchmarks at smoke-test sizes', () => {
  let db: TestDatabase;
  const sections: Section[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('crypto compares the envelope with the bare calls and cloak at every size', async () => {
    const section = await runCryptoBench({ sizes: [16, 1024], plan: once, batchMs: 1 });
    sections.push(section);
    expect(section.tables[0].rows.map((row) => row[0])).toEqual(['16 B', '1.0 KiB']);
    expect(section.tables[1].rows).toHaveLength(2);
    expect(section.tables[2].rows.map((row) => row[0])).toEqual([
      expect.stringMatching(/^Json, 1\.0 KiB document$/),
      'Bytes, 4.0 KiB',
      'Bytes, 1.0 MiB',
    ]);
    expect(section.targets[0].met).not.toBeNull();
  });

  it('prisma measures every operation, the floor, cold and warm reads, and scaling', async () => {
    const section = await runPrismaBench({
      db,
      rows: 40,
      lookups: 10,
      updates: 10,
      parents: 6,
      children: 2,
      scaling: [20, 60],
      tenants: 3,
      writePlan: once,
      plan: warmedOnce,
    });
    sections.push(section);
    const [writes, reference, reads, include, scaling] = section.tables;
    expect(writes.rows.map((row) => row[0])).toEqual([
      'create ×40 (one by one)',
      'create ×40 (one by one), DEK pool on',
      'createMany of 40',
      'findUnique by blind index ×10 (plain: + its HMAC)',
      'update (notes) of a seen row ×10',
    ]);
    // Creates and point operations against plain + their bare crypto, each ratio a median (and its range).
    expect(reference.rows.map((row) => row[0])).toEqual([
      'create ×40 (one by one)',
      'findUnique by blind index ×10',
      'update (notes) of a seen row ×10',
    ]);
    // (One round of creates at this size: its ratio has no range.)
    expect(reference.rows[0][3]).toMatch(/^\d+\.\d\d×/);
    for (const row of reference.rows.slice(1)) expect(row[3]).toMatch(/^\d+\.\d\d× \(/);
    // plain, floor, decrypts alone, cold, warm, and cold again on one thread (no decrypt thread)
    expect(reads.rows.map((row) => row[0].split(' ')[0])).toEqual([
      'plain',
      'floor',
      'for',
      'hushfield',
      'hushfield',
      'hushfield',
    ]);
    expect(reads.rows[5][0]).toContain('one thread');
    expect(include.rows).toHaveLength(4); // plain, floor, cold, cold on one thread
    // Both read targets give the one-thread ratio beside the verdict's.
    const readTargets = section.targets.filter((target) => /floor, cold/.test(target.target));
    expect(readTargets).toHaveLength(2);
    for (const target of readTargets) expect(target.measured).toMatch(/; one thread -?\d+\.\d\d×$/);
    // Cold reads resolve each of the 3 scope keys once through the keyring.
    expect(reads.notes?.[0]).toContain('keyring calls per cold read: 3');
    expect(scaling.rows.map((row) => row[0])).toEqual(['20', '60']);
    expect(section.targets.every((target) => target.met !== null)).toBe(true);
    // Each point operation's verdict also shows its reference (plain + bare crypto) against plain.
    const pointTargets = section.targets.filter((target) => /one by one|by blind index|seen row/.test(target.target));
    expect(pointTargets).toHaveLength(3);
    for (const target of pointTargets)
      expect(target.measured).toMatch(/; reference \(plain \+ bare crypto\) \d+\.\d\d×$/);
    const [{ users }] = await db.query<{ users: string }>('SELECT count(*) AS users FROM users');
    expect(Number(users)).toBe(0); // the benchmark cleans up after itself
  }, 120_000);

  // The same section on the other providers (`pnpm bench prisma-mysql`, `prisma-sqlite`): the
  // seeding, cleanup and every measured operation are portable. MariaDB where a server is named.
  const otherKinds: ('sqlite' | 'mariadb')[] = ['sqlite', ...(process.env.TEST_MYSQL_URL ? ['mariadb' as const] : [])];
  it.each(otherKinds)(
    'prisma runs on %s too',
    async (kind) => {
      const other = await createTestDatabase(kind);
      try {
        const section = await runPrismaBench({
          db: other,
          rows: 20,
          lookups: 5,
          updates: 5,
          parents: 3,
          children: 2,
          scaling: [10],
          tenants: 2,
          writePlan: once,
          plan: once,
        });
        expect(section.tables[0].rows[0][0]).toBe('create ×20 (one by one)');
        expect(section.targets.every((target) => target.met !== null)).toBe(true);
        const [{ users }] = await other.query<{ users: string }>('SELECT count(*) AS users FROM users');
        expect(Number(users)).toBe(0);
      } finally {
        await other.close();
      }
    },
    120_000,
  );

  it('kms counts one keyring call per key against one KMS call per row for the naive baseline', async () => {
    const section = await runKmsBench({
      db,
      rows: 40,
      scopeCounts: [1, 3],
      latencyMs: 1,
      naiveRows: 10,
      plan: warmedOnce,
    });
    sections.push(section);
    const rows = section.tables[0].rows;
    // write: scope keys + the index key; cold read: the scope keys; warm read: none.
    expect(rows[0][2]).toBe('2 / 1 / 0');
    expect(rows[1][2]).toBe('4 / 3 / 0');
    expect(rows[2][2]).toBe('40 / 40 / 40');
    expect(rows[2][0]).toContain('×4 extrapolated');
    expect(section.targets.map((target) => target.met)).toEqual([true, true]);
  }, 120_000);

  it('keyrings holds one keyring call per key per TTL for every keyring shipped', async () => {
    const section = await runKeyringsBench({ db, rows: 30, scopeCounts: [1, 3], plan: warmedOnce });
    sections.push(section);
    const rows = section.tables[0].rows;
    const kinds = [
      'LocalKeyring',
      'AwsKmsKeyring',
      'VaultTransitKeyring',
      'GcpKmsKeyring',
      'AzureKeyVaultKeyring',
      'Pkcs11Keyring',
    ];
    const ran = kinds.filter((kind) => rows.some((row) => row[0].startsWith(kind)));
    // SoftHSM is the only one that may be missing (it comes from apt); the note says why.
    expect(ran.slice(0, 5)).toEqual(kinds.slice(0, 5));
    if (ran.length === 5)
      expect(section.tables[0].notes?.join(' ')).toContain('Pkcs11Keyring (SoftHSM v2 token) not run');
    for (const row of rows) {
      // write: scope keys + the index key; cold read: the scope keys; warm read: none.
      expect(row[2]).toBe(row[1] === '1' ? '2 / 1 / 0' : '4 / 3 / 0');
    }
    expect(section.targets).toHaveLength(ran.length * 2);
    expect(section.targets.every((target) => target.met === true)).toBe(true);
  }, 120_000);

  it('match answers contains exactly and reports false positives, candidates and index size', async () => {
    const section = await runMatchBench({ db, rows: 300, words: 400, queries: 4 });
    sections.push(section);
    const [fp, pg] = section.tables;
    expect(fp.rows).toHaveLength(9); // 3 filter sizes x 3 hash counts
    for (const row of fp.rows) expect(Number(row[3])).toBeGreaterThanOrEqual(Number(row[2])); // candidates >= matches
    expect(pg.rows).toHaveLength(2);
    expect(pg.notes?.[0]).toContain('every answer equalled plain filtering');
    const [{ n }] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM people');
    expect(n).toBe('0'); // the benchmark cleans up after itself
  }, 180_000);

  it('migrator runs the real CLI in a child process and encrypts every legacy row', async () => {
    if (!db.url) {
      process.stdout.write(
        'migrator smoke test skipped: the CLI child process needs a PostgreSQL server (PGlite lives in this process)\n',
      );
      return;
    }
    const section = await runMigratorBench({ db, rows: 300, runs: 1, scaleRows: 2000 });
    sections.push(section);
    expect(section.tables[0].rows[0][1]).toBe('300');
    expect(section.targets[0].met).not.toBeNull();
    expect(section.targets[1].met).toBeNull(); // the long run only happens with --long
    // The scaled-out runs: 1 worker thread, 2 worker threads, 2 processes of one run.
    expect(section.tables[1].rows.map((row) => row[0])).toEqual([
      expect.stringContaining('1 worker'),
      expect.stringContaining('2 worker threads'),
      expect.stringContaining('2 processes'),
    ]);
    expect(section.targets[2].target).toMatch(/2 workers/);
  }, 420_000);

  it('renders every section into RESULTS.md, headed by the wall time of the whole run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hushfield-bench-'));
    try {
      const paths = { json: join(dir, 'results.json'), markdown: join(dir, 'RESULTS.md') };
      writeResults(sections, describeEnvironment('test'), paths);
      const run = {
        command: 'pnpm bench',
        complete: true,
        startedAt: '2026-01-01T00:00:00Z',
        seconds: 431.4,
        load: [0.5, 1.25] as const,
        failed: 0,
      };
      writeRunSummary(run, paths);
      writeRunSummary(
        { ...run, command: 'pnpm bench crypto', complete: false, startedAt: '2026-01-01T01:00:00Z', seconds: 30 },
        paths,
      );
      const markdown = readFileSync(paths.markdown, 'utf8');
      expect(markdown).toContain('**Wall time of the whole run**: `pnpm bench` took 7 min 11 s');
      expect(markdown).toContain(
        '**Latest run** (some sections below are newer than the whole run): `pnpm bench crypto` took 30 s',
      );
      for (const section of sections) expect(markdown).toContain(`## ${section.title}`);
      expect(markdown).toContain('**Targets at a glance**');
      expect(markdown).toContain('| Node.js |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
