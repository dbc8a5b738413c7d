/**
 * `pnpm bench [crypto|prisma|prisma-mysql|prisma-sqlite|kms|keyrings|match|migrator ...] [--long]`:
 * runs the benchmarks on a scratch PostgreSQL database (created on `TEST_DATABASE_URL`'s server,
 * dropped afterwards) and writes bench/RESULTS.md. `prisma-mysql` runs the prisma section on a
 * scratch database of the MariaDB/MySQL server `TEST_MYSQL_URL` names (default: the local one),
 * `prisma-sqlite` on a SQLite file. See bench/README.md.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { describeEnvironment, REPO_ROOT } from './lib/environment';
import { notRun, type Section } from './lib/report';
import { isoSeconds, writeResults, writeRunSummary } from './lib/results-file';
import type { TestDatabase } from '../test/support/database';

const BENCHMARKS = [
  'crypto',
  'prisma',
  'prisma-mysql',
  'prisma-sqlite',
  'kms',
  'keyrings',
  'match',
  'migrator',
] as const;
type BenchmarkId = (typeof BENCHMARKS)[number];
const TITLES: Record<BenchmarkId, string> = {
  crypto: 'crypto: one value, envelope vs bare AES-256-GCM vs @47ng/cloak',
  prisma: 'prisma: plain Prisma vs the hushfield extension on PostgreSQL',
  'prisma-mysql': 'prisma-mysql: plain Prisma vs the hushfield extension on MariaDB',
  'prisma-sqlite': 'prisma-sqlite: plain Prisma vs the hushfield extension on SQLite',
  kms: 'kms: keyring calls and wall time with KMS latency',
  match: 'match: contains on encrypted fields through keyed match indexes',
  keyrings: 'keyrings: keyring calls per scope per TTL, for every keyring',
  migrator: 'migrator: hushfield reencrypt throughput and memory',
};
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

let lastLog = Date.now();
/** Progress on stderr, with the seconds since the previous line: where the time goes. */
const log = (line: string): void => {
  const now = Date.now();
  process.stderr.write(
    `[bench ${new Date(now).toISOString().slice(11, 19)} +${((now - lastLog) / 1000).toFixed(1)}s] ${line}\n`,
  );
  lastLog = now;
};

/** Generates the Prisma clients and hushfield metadata (every provider's) when a fresh clone has none. */
function ensureGenerated(): void {
  const generated = ['', 'mysql/', 'sqlite/'].flatMap((dir) => [
    `prisma/${dir}generated/client/client.ts`,
    `prisma/${dir}generated/hushfield/index.ts`,
  ]);
  if (generated.every((file) => existsSync(join(REPO_ROOT, file)))) return;
  log('generating the Prisma client and hushfield metadata (node scripts/prisma-generate.js)');
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'prisma-generate.js')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

async function postgresVersion(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
}

async function runOne(id: BenchmarkId, db: TestDatabase | undefined, long: boolean): Promise<Section> {
  const needDb = (): TestDatabase => {
    if (!db) throw new Error('no database');
    return db;
  };
  switch (id) {
    case 'crypto':
      return (await import('./suites/crypto')).runCryptoBench({ log });
    case 'prisma':
      return (await import('./suites/prisma')).runPrismaBench({ db: needDb(), log });
    case 'prisma-mysql':
    case 'prisma-sqlite':
      return runPrismaElsewhere(id, id === 'prisma-mysql' ? 'mariadb' : 'sqlite');
    case 'kms':
      return (await import('./suites/kms')).runKmsBench({ db: needDb(), log });
    case 'match':
      return (await import('./suites/match')).runMatchBench({ db: needDb(), log });
    case 'keyrings':
      return (await import('./suites/keyrings')).runKeyringsBench({ db: needDb(), log });
    case 'migrator':
      return (await import('./suites/migrator')).runMigratorBench({ db: needDb(), long, log });
  }
}

/** The prisma section on a scratch database of another provider, created and dropped here. */
async function runPrismaElsewhere(id: BenchmarkId, kind: 'mariadb' | 'sqlite'): Promise<Section> {
  const { createTestDatabase } = await import('../test/support/database');
  const other = await createTestDatabase(kind);
  try {
    const section = await (await import('./suites/prisma')).runPrismaBench({ db: other, log });
    const version = (
      await other.query<{ v: string }>(kind === 'mariadb' ? 'SELECT VERSION() AS v' : 'SELECT sqlite_version() AS v')
    )[0].v;
    const engine = kind === 'mariadb' ? `MariaDB ${version}` : `SQLite ${version} (a file, better-sqlite3)`;
    return { ...section, id, title: TITLES[id], intro: `On ${engine}. ${section.intro ?? ''}`.trim() };
  } finally {
    await other.close();
  }
}

/** Which profile scenarios explain a missed target of each benchmark. */
const PROFILES: Record<string, (target: string) => string[]> = {
  crypto: () => ['value-16', 'value-1m'],
  'prisma-mysql': () => [],
  'prisma-sqlite': () => [],
  prisma: (target) =>
    target.startsWith('create') ? ['create', 'findunique'] : target.includes('warm') ? ['findmany-warm'] : ['findmany'],
  kms: () => [],
  match: () => [],
  keyrings: () => [],
  migrator: (target) => (target.startsWith('reencrypt') ? ['reencrypt'] : []),
};

/** `--profile`: runs bench/profile.ts for each missed target; each adds its own section. */
function profileMissed(sections: readonly Section[]): void {
  const scenarios = new Set(
    sections.flatMap((section) =>
      section.targets.filter((t) => t.met === false).flatMap((t) => PROFILES[section.id]?.(t.target) ?? []),
    ),
  );
  for (const scenario of scenarios) {
    log(`profiling ${scenario} (a target was missed)`);
    execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'profile.ts'), scenario, '8'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, 'tsconfig.json') },
    });
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    allowPositionals: true,
    options: {
      long: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: pnpm bench [${BENCHMARKS.join('|')} ...] [--long] [--profile]\n`);
    return 0;
  }
  const unknown = positionals.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHMARKS.join(', ')})\n`);
    return 2;
  }
  const selected = (positionals.length ? positionals : [...BENCHMARKS]) as BenchmarkId[];
  const long = values.long ?? false;
  const startedAt = isoSeconds(new Date(Date.now() - process.uptime() * 1000));
  const loadAtStart = loadavg()[0];

  process.env.TEST_DATABASE_URL ||= DEFAULT_URL;
  process.env.HUSHFIELD_TEST_BACKEND = 'postgres';
  const serverUrl = process.env.TEST_DATABASE_URL;
  const environment = describeEnvironment(await postgresVersion(serverUrl));
  if (selected.some((id) => id !== 'crypto')) ensureGenerated();

  const { createTestDatabase } = await import('../test/support/database');
  process.env.TEST_MYSQL_URL ||= 'mysql://root@127.0.0.1:3306';
  const onPostgres = selected.some((id) => !['crypto', 'prisma-mysql', 'prisma-sqlite'].includes(id));
  const db = onPostgres ? await createTestDatabase('postgres') : undefined;
  // Interrupted: still drop the scratch database (DROP ... WITH (FORCE) ends open connections).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: dropping the scratch database and stopping`);
      void (db?.close() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  if (db) log(`scratch database ${new URL(db.url as string).pathname.slice(1)} on ${new URL(serverUrl).host}`);
  const sections: Section[] = [];
  let failed = 0;
  try {
    for (const id of selected) {
      const command = `pnpm bench ${id}${long && id === 'migrator' ? ' --long' : ''}`;
      log(`${id}: starting`);
      const started = Date.now();
      const loadBefore = loadavg()[0];
      try {
        const section = await runOne(id, db, long);
        // Other work on the machine skews absolute times; say how busy it was.
        const load = `Machine load (1-minute load average, ${cpus().length} cores) at start / end: ${loadBefore.toFixed(1)} / ${loadavg()[0].toFixed(1)}.`;
        const finishedAt = isoSeconds();
        sections.push({
          ...section,
          command,
          seconds: (Date.now() - started) / 1000,
          finishedAt,
          notes: [...(section.notes ?? []), load],
        });
        log(`${id}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      } catch (error) {
        failed += 1;
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        log(`${id}: FAILED: ${error instanceof Error ? error.stack : reason}`);
        const failedAt = isoSeconds();
        sections.push({
          ...notRun(id, TITLES[id], command, `${reason} (failed at ${failedAt.slice(0, 16)}Z)`),
          finishedAt: failedAt,
        });
      }
      // All of this run's sections each time: RESULTS.md stays whole even if results.json was
      // replaced meanwhile (another checkout of it), so the header's whole run is what it shows.
      writeResults(sections, environment);
    }
  } finally {
    await db?.close();
  }
  const seconds = process.uptime();
  writeRunSummary({
    command: ['pnpm bench', ...positionals, ...(long ? ['--long'] : [])].join(' '),
    complete: BENCHMARKS.every((id) => selected.includes(id)),
    startedAt,
    seconds,
    load: [loadAtStart, loadavg()[0]],
    failed,
  });
  log(`all done in ${seconds.toFixed(0)} s (process start to the end of the last benchmark)`);
  if (values.profile) profileMissed(sections);
  log(`wrote bench/RESULTS.md${failed ? ` (${failed} benchmark(s) failed)` : ''}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
