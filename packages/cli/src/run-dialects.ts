/**
 * The run coordinator's SQL, one {@link RunDialect} per database, which `run-store.ts` sends
 * (to the client's database: {@link dialectOf}).
 *
 * PostgreSQL: a claim is one `UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`,
 * lease times are `now()` in UTC. The other dialects' statements are written with `$n` parameters like
 * PostgreSQL's and renumbered to `?` in order by {@link bindPositional}, so a parameter used
 * twice is sent twice.
 *
 * MySQL/MariaDB (MySQL 8, MariaDB 10.6 or later): a claim is three statements in one
 * transaction, `SELECT ... FOR UPDATE SKIP LOCKED` (another claimer's locked range is skipped),
 * the `UPDATE` of that range and a read-back, as MySQL has no `RETURNING` on `UPDATE`. Lease
 * times are `UTC_TIMESTAMP(3)`, the clock Prisma's `DATETIME(3)` values are in.
 *
 * SQLite: one writer at a time per database file. A claim's transaction starts with a write (a
 * no-op `UPDATE` of the run's row), which takes the file's write lock at once: Prisma's
 * interactive transaction on the better-sqlite3 adapter opens with a deferred `BEGIN`, and a
 * transaction that read first could not upgrade to the write lock while another one writes.
 * Taking it first makes the transaction `BEGIN IMMEDIATE` in effect: other processes wait for
 * it (the driver's busy timeout), so two processes never pick the same range. Lease times are
 * ISO-8601 text in the form the adapter writes `DateTime` values (`...T12:00:00.000+00:00`),
 * which compares in time order.
 */
import { ConfigError } from '@hushfield/core';
import type { BasePrismaClient } from './config';
import { messages } from './messages';

/**
 * A claim as three statements in one transaction, for databases without PostgreSQL's
 * `UPDATE ... FROM (... FOR UPDATE SKIP LOCKED) RETURNING`: pick a free or expired range (params
 * run id; returns its key with `previous`, `previous_state`), take it (params run id, model, seq,
 * owner, lease seconds), read it back (params run id, model, seq).
 */
export interface ClaimSteps {
  readonly pick: string;
  readonly take: string;
  readonly read: string;
}

/** The SQL of one database: statements with `$n` parameters. */
export interface RunDialect {
  readonly name: string;
  /** `numbered`: sent as written; `positional`: renumbered to `?` in order (see `bindPositional`). */
  readonly placeholders?: 'numbered' | 'positional';
  /**
   * The database has one writer at a time (SQLite): the store's writes run in transactions
   * that lock the run first, so a write never lands inside another caller's open transaction
   * on the same connection, and a claim holds the write lock from its first statement.
   */
  readonly exclusiveWrites?: boolean;
  /**
   * The isolation level of the store's transactions, whatever the database's or session's
   * default: `ReadCommitted` (Prisma's name), where each statement sees what was committed
   * before it. The store's checks (no range open, the live leases, a model's ranges planned)
   * run after the run's row lock is granted, and must see what the holder committed: under
   * PostgreSQL's `repeatable read` or `serializable` (`default_transaction_isolation`) the
   * transaction's snapshot is taken before the wait, and the checks decide on rows as they were
   * (or fail with a serialization error); under MySQL's `SERIALIZABLE` the plain reads take
   * shared locks on the ranges, which workers' claims skip and their saves wait for.
   * Absent (SQLite): the database has one writer, and a transaction that takes the write lock
   * first sees every commit before it.
   */
  readonly isolationLevel?: 'ReadCommitted';
  /**
   * A statement sent on its own runs in a transaction at {@link isolationLevel}: on PostgreSQL
   * at `repeatable read` or `serializable` a lone `UPDATE` that waited for a row another
   * transaction changed fails with a serialization error (a save whose range was taken over,
   * a claim of a range another worker claimed) instead of finding the row changed.
   */
  readonly statementsInTransaction?: boolean;
  readonly insertRun: string;
  readonly lockRun: string;
  /**
   * Run first, and (`[1]`) last, in `open`'s transactions (the run's insert, then its lock and
   * planning): lets a process wait for another one's planning however long it takes (MySQL
   * gives up a lock wait after `innodb_lock_wait_timeout`, 50 s by default; PostgreSQL waits).
   */
  readonly waitForPlanning?: readonly [string, string];
  readonly selectRun: string;
  readonly updateRunSettings: string;
  /**
   * Pauses or resumes a run that is not done: params run id, state. A finished run stays done
   * (a pause or resume that read it before its last worker finished must not reopen it).
   */
  readonly setRunState: string;
  /**
   * Marks the run `done` when no range of it is open (`pending`, `claimed`): params run id. Sent
   * after {@link lockRun} in one transaction, so a process planning ranges into the run (under
   * the same lock) either goes first, and the run stays open, or finds it done and plans nothing.
   */
  readonly finishRun: string;
  /** A finished run planned again (`--restart`) is running again; a paused one stays paused: params run id. */
  readonly reopenRun: string;
  readonly countRanges: string;
  /**
   * Inserts a model's planned ranges: params run id, model, then four arrays (seq, lo, hi, rows);
   * or, as a function of the number of ranges, params run id, model, then seq, lo, hi, rows of each.
   */
  readonly insertRange: string | ((ranges: number) => string);
  readonly deleteRanges: string;
  /** Claims the first free or expired range: params run id, owner, lease seconds (or {@link ClaimSteps}). */
  readonly claim: string | ClaimSteps;
  readonly liveLeases: string;
  readonly renew: string;
  readonly saveRange: string;
  readonly releaseRange: string;
  readonly poll: string;
  readonly listRanges: string;
  readonly listRuns: string;
}

const RANGE_COLUMNS =
  'run_id, model, seq, lo, hi, rows, cursor, state, owner, lease_until, processed, detail, updated_at';

/**
 * The time on PostgreSQL: the transaction's `now()` as UTC, the clock Prisma keeps `DateTime`
 * (`timestamp(3)`) columns in, whatever the session's time zone.
 */
const PG_NOW = "(now() AT TIME ZONE 'UTC')";

/** PostgreSQL: `FOR UPDATE SKIP LOCKED`, {@link PG_NOW}, `$n` parameters. */
export const postgresDialect: RunDialect = {
  name: 'postgresql',
  placeholders: 'numbered',
  isolationLevel: 'ReadCommitted',
  statementsInTransaction: true,
  insertRun:
    'INSERT INTO "hushfield_runs" (id, mode, state, detail, created_at, updated_at) ' +
    `VALUES ($1, $2, 'running', $3, ${PG_NOW}, ${PG_NOW}) ON CONFLICT (id) DO NOTHING`,
  lockRun: 'SELECT id FROM "hushfield_runs" WHERE id = $1 FOR UPDATE',
  selectRun: 'SELECT id, mode, state, detail, created_at, updated_at FROM "hushfield_runs" WHERE id = $1',
  updateRunSettings: `UPDATE "hushfield_runs" SET detail = $2, updated_at = ${PG_NOW} WHERE id = $1`,
  setRunState: `UPDATE "hushfield_runs" SET state = $2, updated_at = ${PG_NOW} WHERE id = $1 AND state NOT IN ($2, 'done')`,
  finishRun:
    `UPDATE "hushfield_runs" SET state = 'done', updated_at = ${PG_NOW} WHERE id = $1 AND state <> 'done' ` +
    "AND NOT EXISTS (SELECT 1 FROM \"hushfield_ranges\" WHERE run_id = $1 AND state IN ('pending', 'claimed'))",
  reopenRun: `UPDATE "hushfield_runs" SET state = 'running', updated_at = ${PG_NOW} WHERE id = $1 AND state = 'done'`,
  countRanges: 'SELECT count(*)::int AS n FROM "hushfield_ranges" WHERE run_id = $1 AND model = $2',
  insertRange:
    `INSERT INTO "hushfield_ranges" (${RANGE_COLUMNS}) ` +
    `SELECT $1, $2, s, l, h, r, NULL, 'pending', NULL, NULL, 0, NULL, ${PG_NOW} ` +
    'FROM unnest($3::int4[], $4::text[], $5::text[], $6::int4[]) AS v(s, l, h, r)',
  deleteRanges: 'DELETE FROM "hushfield_ranges" WHERE run_id = $1',
  // The subquery picks a free range and locks it, skipping ranges another claimer holds locked;
  // the outer UPDATE re-checks the row after the lock, so two claimers never get the same range.
  claim:
    'UPDATE "hushfield_ranges" AS r SET state = \'claimed\', owner = $2, ' +
    `lease_until = ${PG_NOW} + make_interval(secs => $3), updated_at = ${PG_NOW} ` +
    'FROM (SELECT run_id, model, seq, owner AS previous, state AS previous_state FROM "hushfield_ranges" ' +
    `WHERE run_id = $1 AND (state = 'pending' OR (state = 'claimed' AND lease_until < ${PG_NOW})) ` +
    'ORDER BY model, seq LIMIT 1 FOR UPDATE SKIP LOCKED) AS c ' +
    'WHERE r.run_id = c.run_id AND r.model = c.model AND r.seq = c.seq ' +
    `RETURNING ${RANGE_COLUMNS.split(', ')
      .map((column) => `r.${column}`)
      .join(', ')}, c.previous, c.previous_state`,
  liveLeases:
    'SELECT count(*)::int AS n FROM "hushfield_ranges" ' +
    `WHERE run_id = $1 AND state = 'claimed' AND lease_until >= ${PG_NOW}`,
  renew:
    `UPDATE "hushfield_ranges" SET lease_until = ${PG_NOW} + make_interval(secs => $5), updated_at = ${PG_NOW} ` +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed'",
  saveRange:
    'UPDATE "hushfield_ranges" SET cursor = $5, processed = $6, detail = $7, state = $8, ' +
    `lease_until = CASE WHEN $8 = 'claimed' THEN lease_until ELSE NULL END, updated_at = ${PG_NOW} ` +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed'",
  releaseRange:
    `UPDATE "hushfield_ranges" SET state = 'pending', lease_until = NULL, updated_at = ${PG_NOW} ` +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed'",
  poll:
    'SELECT u.id, u.mode, u.state, u.detail, u.created_at, u.updated_at, ' +
    `count(*) FILTER (WHERE g.state = 'claimed' AND g.lease_until >= ${PG_NOW})::int AS live, ` +
    `count(*) FILTER (WHERE g.state = 'claimed' AND g.lease_until >= ${PG_NOW} AND left(g.owner, length($2)) = $2)::int AS own, ` +
    "count(*) FILTER (WHERE g.state IN ('pending', 'claimed'))::int AS open, " +
    'coalesce(sum(g.processed), 0)::float8 AS processed, coalesce(sum(g.rows), 0)::float8 AS rows ' +
    'FROM "hushfield_runs" u LEFT JOIN "hushfield_ranges" g ON g.run_id = u.id WHERE u.id = $1 ' +
    'GROUP BY u.id, u.mode, u.state, u.detail, u.created_at, u.updated_at',
  listRanges: `SELECT ${RANGE_COLUMNS} FROM "hushfield_ranges" WHERE run_id = $1 ORDER BY model, seq`,
  listRuns: 'SELECT id, mode, state, detail, created_at, updated_at FROM "hushfield_runs" ORDER BY created_at DESC',
};

const MYSQL_NOW = 'UTC_TIMESTAMP(3)';
const SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')";

/** The columns of `hushfield_ranges` as selected, each quoted by `quote`. */
function rangeColumns(quote: (name: string) => string): string {
  return ['run_id', 'model', 'seq', 'lo', 'hi', 'rows', 'cursor', 'state', 'owner', 'lease_until', 'processed']
    .concat(['detail', 'updated_at'])
    .map(quote)
    .join(', ');
}

/** The statements MySQL and SQLite share, given how each quotes, tells the time and adds seconds to it. */
function sharedDialect(
  name: string,
  quote: (name: string) => string,
  now: string,
  later: (seconds: string) => string,
  chars: string,
  lockRun: string,
): Omit<RunDialect, 'insertRun'> {
  const q = quote;
  const runs = q('hushfield_runs');
  const ranges = q('hushfield_ranges');
  const columns = rangeColumns(q);
  const live = `g.${q('state')} = 'claimed' AND g.${q('lease_until')} >= ${now}`;
  const count = (condition: string) => `SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
  const key = `${q('run_id')} = $1 AND ${q('model')} = $2 AND ${q('seq')} = $3`;
  return {
    name,
    placeholders: 'positional',
    lockRun,
    selectRun: `SELECT id, mode, ${q('state')}, detail, created_at, updated_at FROM ${runs} WHERE id = $1`,
    updateRunSettings: `UPDATE ${runs} SET detail = $2, updated_at = ${now} WHERE id = $1`,
    setRunState: `UPDATE ${runs} SET ${q('state')} = $2, updated_at = ${now} WHERE id = $1 AND ${q('state')} NOT IN ($2, 'done')`,
    finishRun:
      `UPDATE ${runs} SET ${q('state')} = 'done', updated_at = ${now} WHERE id = $1 AND ${q('state')} <> 'done' ` +
      `AND NOT EXISTS (SELECT 1 FROM ${ranges} WHERE ${q('run_id')} = $1 AND ${q('state')} IN ('pending', 'claimed'))`,
    reopenRun: `UPDATE ${runs} SET ${q('state')} = 'running', updated_at = ${now} WHERE id = $1 AND ${q('state')} = 'done'`,
    countRanges: `SELECT count(*) AS n FROM ${ranges} WHERE ${q('run_id')} = $1 AND ${q('model')} = $2`,
    // Parameters: run id, model, then seq, lo, hi, rows of each range.
    insertRange: (count: number) =>
      `INSERT INTO ${ranges} (${columns}) VALUES ` +
      Array.from({ length: count }, (_, i) => {
        const at = 3 + i * 4;
        return `($1, $2, $${at}, $${at + 1}, $${at + 2}, $${at + 3}, NULL, 'pending', NULL, NULL, 0, NULL, ${now})`;
      }).join(', '),
    deleteRanges: `DELETE FROM ${ranges} WHERE ${q('run_id')} = $1`,
    claim: {
      pick:
        `SELECT ${q('run_id')}, ${q('model')}, ${q('seq')}, ${q('owner')} AS previous, ${q('state')} AS previous_state ` +
        `FROM ${ranges} WHERE ${q('run_id')} = $1 AND (${q('state')} = 'pending' OR ` +
        `(${q('state')} = 'claimed' AND ${q('lease_until')} < ${now})) ORDER BY ${q('model')}, ${q('seq')} LIMIT 1` +
        (name === 'mysql' ? ' FOR UPDATE SKIP LOCKED' : ''),
      take:
        `UPDATE ${ranges} SET ${q('state')} = 'claimed', ${q('owner')} = $4, ` +
        `${q('lease_until')} = ${later('$5')}, updated_at = ${now} WHERE ${key}`,
      read: `SELECT ${columns} FROM ${ranges} WHERE ${key}`,
    },
    liveLeases:
      `SELECT count(*) AS n FROM ${ranges} ` +
      `WHERE ${q('run_id')} = $1 AND ${q('state')} = 'claimed' AND ${q('lease_until')} >= ${now}`,
    renew:
      `UPDATE ${ranges} SET ${q('lease_until')} = ${later('$5')}, updated_at = ${now} ` +
      `WHERE ${key} AND ${q('owner')} = $4 AND ${q('state')} = 'claimed'`,
    saveRange:
      `UPDATE ${ranges} SET ${q('cursor')} = $5, processed = $6, detail = $7, ${q('state')} = $8, ` +
      `${q('lease_until')} = CASE WHEN $8 = 'claimed' THEN ${q('lease_until')} ELSE NULL END, updated_at = ${now} ` +
      `WHERE ${key} AND ${q('owner')} = $4 AND ${q('state')} = 'claimed'`,
    releaseRange:
      `UPDATE ${ranges} SET ${q('state')} = 'pending', ${q('lease_until')} = NULL, updated_at = ${now} ` +
      `WHERE ${key} AND ${q('owner')} = $4 AND ${q('state')} = 'claimed'`,
    poll:
      `SELECT u.id, u.mode, u.${q('state')}, u.detail, u.created_at, u.updated_at, ` +
      `${count(live)} AS live, ` +
      `${count(`${live} AND substr(g.${q('owner')}, 1, ${chars}($2)) = $2`)} AS own, ` +
      `${count(`g.${q('state')} IN ('pending', 'claimed')`)} AS open, ` +
      `coalesce(sum(g.processed), 0) AS processed, coalesce(sum(g.${q('rows')}), 0) AS ${q('rows')} ` +
      `FROM ${runs} u LEFT JOIN ${ranges} g ON g.${q('run_id')} = u.id WHERE u.id = $1 ` +
      `GROUP BY u.id, u.mode, u.${q('state')}, u.detail, u.created_at, u.updated_at`,
    listRanges: `SELECT ${columns} FROM ${ranges} WHERE ${q('run_id')} = $1 ORDER BY ${q('model')}, ${q('seq')}`,
    listRuns: `SELECT id, mode, ${q('state')}, detail, created_at, updated_at FROM ${runs} ORDER BY created_at DESC`,
  };
}

const backtick = (name: string) => `\`${name.replace(/`/g, '``')}\``;
const doubleQuote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** MySQL 8 / MariaDB 10.6+: `FOR UPDATE SKIP LOCKED`, `UTC_TIMESTAMP(3)`, `?` parameters, backticks. */
export const mysqlDialect: RunDialect = {
  ...sharedDialect(
    'mysql',
    backtick,
    MYSQL_NOW,
    (seconds) => `${MYSQL_NOW} + INTERVAL ${seconds} SECOND`,
    'CHAR_LENGTH',
    'SELECT id FROM `hushfield_runs` WHERE id = $1 FOR UPDATE',
  ),
  // As long as open()'s transaction may last (an hour: planning walks the primary key), then
  // back to the server's value for whatever else the pooled connection runs.
  waitForPlanning: ['SET SESSION innodb_lock_wait_timeout = 3600', 'SET SESSION innodb_lock_wait_timeout = DEFAULT'],
  // A lone UPDATE reads the latest row at any level on InnoDB; its default repeatable read
  // would do for the transactions too (their first plain read comes after the run's lock), but
  // not SERIALIZABLE sessions (see `isolationLevel`).
  isolationLevel: 'ReadCommitted',
  // IGNORE: a run that exists is left as it is (0 rows affected), as PostgreSQL's ON CONFLICT DO NOTHING.
  insertRun:
    'INSERT IGNORE INTO `hushfield_runs` (id, mode, `state`, detail, created_at, updated_at) ' +
    `VALUES ($1, $2, 'running', $3, ${MYSQL_NOW}, ${MYSQL_NOW})`,
};

/** SQLite: one writer, a claim under the write lock, ISO-8601 lease times, `?` parameters. */
export const sqliteDialect: RunDialect = {
  ...sharedDialect(
    'sqlite',
    doubleQuote,
    SQLITE_NOW,
    (seconds) => `strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+' || ${seconds} || ' seconds')`,
    'length',
    // A write (of nothing) takes the database's write lock: the transaction holds it from here on.
    'UPDATE "hushfield_runs" SET "state" = "state" WHERE id = $1',
  ),
  insertRun:
    'INSERT INTO "hushfield_runs" (id, mode, "state", detail, created_at, updated_at) ' +
    `VALUES ($1, $2, 'running', $3, ${SQLITE_NOW}, ${SQLITE_NOW}) ON CONFLICT (id) DO NOTHING`,
  exclusiveWrites: true,
};

/** The dialect of the client's database. @throws ConfigError for one not supported. */
export function dialectOf(client: BasePrismaClient): RunDialect {
  const provider = (client as unknown as { _activeProvider?: string })._activeProvider ?? '';
  if (provider === 'postgresql' || provider === 'postgres') return postgresDialect;
  if (provider === 'mysql') return mysqlDialect;
  if (provider === 'sqlite') return sqliteDialect;
  throw new ConfigError(messages.runs.unsupportedDatabase(provider || 'unknown'));
}

const renumbered = new Map<string, { sql: string; order: number[] }>();

/**
 * A statement written with `$n` parameters as one with `?` parameters, and its values in the
 * order the `?` take them (a `$n` used twice takes its value twice).
 */
export function bindPositional(sql: string, values: readonly unknown[]): [string, ...unknown[]] {
  let found = renumbered.get(sql);
  if (!found) {
    const order: number[] = [];
    const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    found = { sql: text, order };
    renumbered.set(sql, found);
  }
  return [found.sql, ...found.order.map((index) => values[index])];
}
