/**
 * migrator: `hushfield reencrypt` adopting legacy plaintext. The `Customer` model (email and
 * phone in `migrating` mode, a blind index on email) is filled with plaintext rows; the real
 * CLI runs as a child process and encrypts them all. Rows/s and peak RSS, measured from outside.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { isEnvelope } from '@hushfield/core';
import type { TestDatabase } from '../../test/support/database';
import { REPO_ROOT } from '../lib/environment';
import { runMeasured, type MeasuredRun } from '../lib/measured-child';
import { median } from '../lib/measure';
import { count, ratio, type Section, type Table, type TargetCheck } from '../lib/report';

/** Sizes and repetitions; the defaults are the published benchmark. */
export interface MigratorBenchOptions {
  readonly db: TestDatabase;
  /** Also run `longRows` once and compare peak RSS (`pnpm bench --long`). */
  readonly long?: boolean;
  readonly rows?: number;
  readonly longRows?: number;
  /** At most this many runs at `rows`... */
  readonly runs?: number;
  /** ...but no new run once this many seconds went by (the first run always happens). */
  readonly budgetSeconds?: number;
  readonly log?: (line: string) => void;
}

/** What one `hushfield reencrypt` run reported and what was measured around it. */
interface Observed {
  readonly rows: number;
  readonly run: MeasuredRun;
  /** Rows/s the CLI itself reports (migration time, without process start and config load). */
  readonly cliRowsPerSecond: number;
  readonly written: number;
}

const CLI = join(REPO_ROOT, 'packages', 'cli', 'src', 'bin.ts');
const CONFIG = join(__dirname, '..', 'migrator', 'hushfield.config.ts');
const TARGET_ROWS_PER_SECOND = 5_000;
/** Peak RSS at the long size within this factor of the normal size counts as flat. */
const FLAT_WITHIN = 1.25;

/** Fresh legacy plaintext: `rows` customers, no keys, no checkpoint. */
async function seed(db: TestDatabase, rows: number): Promise<void> {
  await db.query('TRUNCATE customers, hushfield_checkpoints, hushfield_keys RESTART IDENTITY');
  await db.query(
    `INSERT INTO customers (email, phone)
     SELECT 'Customer.' || g || '@Example.com', '+1 555 ' || lpad(g::text, 7, '0') FROM generate_series(1, $1::int) AS g`,
    [rows],
  );
}

/** Checks every row was encrypted and indexed, from what the database stores. */
async function verify(db: TestDatabase, rows: number): Promise<void> {
  const [{ unindexed }] = await db.query<{ unindexed: string }>(
    'SELECT count(*) AS unindexed FROM customers WHERE email_idx IS NULL',
  );
  if (Number(unindexed) !== 0) throw new Error(`${unindexed} of ${rows} customers have no blind index after reencrypt`);
  const sample = await db.query<{ email: string; phone: string }>(
    'SELECT email, phone FROM customers ORDER BY random() LIMIT 500',
  );
  if (sample.some((row) => !isEnvelope(row.email) || !isEnvelope(row.phone))) {
    throw new Error('plaintext left in customers after reencrypt');
  }
}

async function reencrypt(db: TestDatabase, rows: number, key: string, log: (line: string) => void): Promise<Observed> {
  log(`migrator: seeding ${count(rows)} plaintext customers`);
  await seed(db, rows);
  log(`migrator: hushfield reencrypt --model Customer (${count(rows)} rows)`);
  const run = await runMeasured(
    process.execPath,
    ['--import', 'tsx', CLI, 'reencrypt', '--model', 'Customer', '--json', '--config', CONFIG],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(__dirname, '..', 'tsconfig.json'),
        DATABASE_URL: db.url,
        HUSHFIELD_BENCH_KEY: key,
      },
    },
  );
  if (run.code !== 0) {
    const tail = run.stderr
      .split('\n')
      .filter((line) => line && !/^\s+\S.*: /.test(line))
      .slice(-5)
      .join(' | ');
    throw new Error(`hushfield reencrypt exited with ${run.code}: ${tail}`);
  }
  const result = JSON.parse(run.stdout) as { models: { model: string; written: number; rowsPerSecond: number }[] };
  const customer = result.models.find((model) => model.model === 'Customer');
  if (!customer || customer.written !== rows)
    throw new Error(`reencrypt wrote ${customer?.written ?? 0} of ${rows} rows`);
  await verify(db, rows);
  return { rows, run, cliRowsPerSecond: customer.rowsPerSecond, written: customer.written };
}

/** RSS at fractions of the run, from the samples, e.g. `25%: 180 MiB`. */
function timeline(run: MeasuredRun): string {
  if (run.samples.length === 0) return 'n/a';
  const last = run.samples[run.samples.length - 1].atMs;
  return [0.1, 0.25, 0.5, 0.75, 1]
    .map((at) => {
      const sample = run.samples.find((s) => s.atMs >= at * last) ?? run.samples[run.samples.length - 1];
      return `${Math.round(at * 100)}%: ${(sample.rssKb / 1024).toFixed(0)}`;
    })
    .join(', ');
}

/** Runs the migrator benchmark. */
export async function runMigratorBench(options: MigratorBenchOptions): Promise<Section> {
  const { db } = options;
  if (!db.url)
    throw new Error(
      'the migrator benchmark runs the CLI in another process: it needs a PostgreSQL server (TEST_DATABASE_URL)',
    );
  const rows = options.rows ?? 100_000;
  const longRows = options.longRows ?? 1_000_000;
  const maxRuns = options.runs ?? 3;
  const budgetMs = (options.budgetSeconds ?? 150) * 1000;
  const log = options.log ?? (() => undefined);
  const key = randomBytes(32).toString('base64');

  const observed: Observed[] = [];
  try {
    const started = Date.now();
    while (observed.length < maxRuns && (observed.length === 0 || Date.now() - started < budgetMs)) {
      observed.push(await reencrypt(db, rows, key, log));
    }
    const runs = observed.length;
    const long = options.long ? await reencrypt(db, longRows, key, log) : undefined;

    const cliRate = median(observed.map((o) => o.cliRowsPerSecond));
    const wallRate = median(observed.map((o) => (o.rows * 1000) / o.run.wallMs));
    const peakKb = median(observed.map((o) => o.run.peakRssKb ?? Number.NaN));
    const mib = (kb: number | null): string =>
      kb === null || !Number.isFinite(kb) ? 'n/a' : `${(kb / 1024).toFixed(0)} MiB`;
    const row = (label: string, o: Observed[]): string[] => [
      label,
      count(o[0].rows),
      count(median(o.map((x) => x.cliRowsPerSecond))),
      count(median(o.map((x) => (x.rows * 1000) / x.run.wallMs))),
      `${(median(o.map((x) => x.run.wallMs)) / 1000).toFixed(1)} s`,
      mib(median(o.map((x) => x.run.peakRssKb ?? Number.NaN))),
      timeline(o[o.length - 1].run),
    ];
    const table: Table = {
      title: '`hushfield reencrypt --model Customer` on legacy plaintext',
      columns: [
        'run',
        'rows',
        'rows/s (CLI-reported)',
        'rows/s (wall, incl. start-up)',
        'wall time',
        'peak RSS',
        'RSS over the run (MiB)',
      ],
      rows: [row(runs === 1 ? '1 run' : `median of ${runs}`, observed), ...(long ? [row('long (1 run)', [long])] : [])],
      notes: [
        `Up to ${maxRuns} runs, no new run started after ${budgetMs / 1000} s (keeps \`pnpm bench\` under 10 minutes when the migrator is slow).`,
        'Each run starts from plaintext rows inserted with SQL, an empty key store and no checkpoint; afterwards every row is checked in the database (blind index set, sampled values are envelopes).',
        `The CLI runs from source through tsx (\`node --import tsx packages/cli/src/bin.ts reencrypt --model Customer --json --config bench/migrator/hushfield.config.ts\`) with its defaults (batches of 1,000, 2 in flight, the next batch read ahead). Peak RSS from ${observed[0].run.peakSource}.`,
        ...(long
          ? []
          : ['The 1,000,000-row run is only done by `pnpm bench --long` (or `pnpm bench migrator --long`).']),
      ],
    };
    const targets: TargetCheck[] = [
      {
        target: `reencrypt ≥ ${count(TARGET_ROWS_PER_SECOND)} rows/s (${count(rows)} rows)`,
        measured: `${count(cliRate)} rows/s (wall ${count(wallRate)})`,
        met: cliRate >= TARGET_ROWS_PER_SECOND,
      },
    ];
    if (long) {
      const growth = (long.run.peakRssKb ?? Number.NaN) / peakKb;
      targets.push({
        target: `flat memory: peak RSS at ${count(longRows)} rows within ${FLAT_WITHIN}× of ${count(rows)} rows`,
        measured: `${mib(long.run.peakRssKb)} vs ${mib(peakKb)} (${ratio(growth)})`,
        met: Number.isFinite(growth) ? growth <= FLAT_WITHIN : null,
      });
    } else {
      targets.push({
        target: `flat memory over ${count(longRows)} rows`,
        measured: 'not run: needs `pnpm bench --long`',
        met: null,
      });
    }
    return {
      id: 'migrator',
      title: 'migrator: hushfield reencrypt throughput and memory',
      command: 'pnpm bench migrator',
      intro:
        '`Customer` (`email` and `phone` in `migrating` mode, full-length blind index on email) filled with legacy plaintext; ' +
        'the real `hushfield` CLI encrypts every value and builds the index (compare-and-swap updates, checkpoints) with a local root key.',
      tables: [table],
      targets,
    };
  } finally {
    await db.query('TRUNCATE customers, hushfield_checkpoints, hushfield_keys RESTART IDENTITY');
  }
}
