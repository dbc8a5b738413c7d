/**
 * The database as the coordinator of a scaled-out run (`--run <id>`, `--workers N`): the run
 * (`hushfield_runs`: mode, running or paused, caps) and its primary-key ranges
 * (`hushfield_ranges`). Workers, in one process or many, on one host or several, claim a
 * range under a lease with `SELECT ... FOR UPDATE SKIP LOCKED`, renew the lease while they
 * work, checkpoint the range's cursor (fenced by the owner: a worker whose lease was taken
 * over cannot write), and take over ranges whose lease expired (a killed worker). Lease times
 * are the database's clock (`now()`), so hosts with skewed clocks agree.
 *
 * The SQL differs by database, so it sits behind {@link RunDialect}: PostgreSQL's is here,
 * MySQL/MariaDB's (`FOR UPDATE SKIP LOCKED` too) and SQLite's (one writer: a claim holds the
 * database's write lock) are in `run-dialects.ts`.
 */
import { ConfigError } from '@hushfield/core';
import { parseDetail, serialize } from './checkpoint';
import type { CheckpointDetail } from './checkpoint';
import type { BasePrismaClient } from './config';
import { messages } from './messages';
import { bindPositional, mysqlDialect, sqliteDialect } from './run-dialects';

/** A run's state: workers claim ranges only while it is `running`. */
export type RunState = 'running' | 'paused' | 'done';

/** A range's state: `pending` (free), `claimed` (leased), `done`, `partial` (finished with rows left undone). */
export type RangeState = 'pending' | 'claimed' | 'done' | 'partial';

/** Settings of a run, kept with it (JSON in `detail`): every process of the run reads them. */
export interface RunSettings {
  /** Rows per second for the whole run (split between processes by live leases). */
  readonly maxRowsPerSecond?: number;
  /** Ranges leased at once across the run (worker slots). */
  readonly maxConcurrency?: number;
}

/** One run. */
export interface RunInfo {
  readonly id: string;
  readonly mode: string;
  readonly state: RunState;
  readonly settings: RunSettings;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One range of a run, as stored. */
export interface RangeInfo {
  readonly runId: string;
  readonly model: string;
  readonly seq: number;
  readonly lo: string | null;
  readonly hi: string | null;
  readonly rows: number;
  readonly cursor: string | null;
  readonly state: RangeState;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  readonly processed: number;
  readonly detail: CheckpointDetail;
  readonly updatedAt: Date;
  /** The owner whose expired lease this claim took over, when it did. */
  readonly tookOverFrom?: string | null;
}

/** What a process sees of its run at each poll. */
export interface RunPoll {
  readonly run: RunInfo;
  /** Ranges leased and not expired, over the whole run. */
  readonly liveLeases: number;
  /** Of those, the ones held by owners starting with the poller's prefix (this process). */
  readonly ownLeases: number;
  /** Ranges not finished yet (pending or claimed). */
  readonly open: number;
  /** Rows done over all ranges (checkpointed), and rows planned. */
  readonly processed: number;
  readonly rows: number;
}

/** A range to insert when a run is planned. */
export interface PlannedRange {
  readonly model: string;
  readonly seq: number;
  readonly lo: string | null;
  readonly hi: string | null;
  readonly rows: number;
}

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
  readonly setRunState: string;
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

/** Planning walks the primary-key index once: minutes on a table of a billion rows. */
const PLANNING_WAIT = { timeout: 60 * 60_000, maxWait: 60_000 };

const RANGE_COLUMNS =
  'run_id, model, seq, lo, hi, rows, cursor, state, owner, lease_until, processed, detail, updated_at';

/** PostgreSQL: `FOR UPDATE SKIP LOCKED`, `now()`, `$n` parameters. */
export const postgresDialect: RunDialect = {
  name: 'postgresql',
  placeholders: 'numbered',
  insertRun:
    'INSERT INTO "hushfield_runs" (id, mode, state, detail, created_at, updated_at) ' +
    "VALUES ($1, $2, 'running', $3, now(), now()) ON CONFLICT (id) DO NOTHING",
  lockRun: 'SELECT id FROM "hushfield_runs" WHERE id = $1 FOR UPDATE',
  selectRun: 'SELECT id, mode, state, detail, created_at, updated_at FROM "hushfield_runs" WHERE id = $1',
  updateRunSettings: 'UPDATE "hushfield_runs" SET detail = $2, updated_at = now() WHERE id = $1',
  setRunState: 'UPDATE "hushfield_runs" SET state = $2, updated_at = now() WHERE id = $1 AND state <> $2',
  countRanges: 'SELECT count(*)::int AS n FROM "hushfield_ranges" WHERE run_id = $1 AND model = $2',
  insertRange:
    `INSERT INTO "hushfield_ranges" (${RANGE_COLUMNS}) ` +
    "SELECT $1, $2, s, l, h, r, NULL, 'pending', NULL, NULL, 0, NULL, now() " +
    'FROM unnest($3::int4[], $4::text[], $5::text[], $6::int4[]) AS v(s, l, h, r)',
  deleteRanges: 'DELETE FROM "hushfield_ranges" WHERE run_id = $1',
  // The subquery picks a free range and locks it, skipping ranges another claimer holds locked;
  // the outer UPDATE re-checks the row after the lock, so two claimers never get the same range.
  claim:
    'UPDATE "hushfield_ranges" AS r SET state = \'claimed\', owner = $2, ' +
    'lease_until = now() + make_interval(secs => $3), updated_at = now() ' +
    'FROM (SELECT run_id, model, seq, owner AS previous, state AS previous_state FROM "hushfield_ranges" ' +
    "WHERE run_id = $1 AND (state = 'pending' OR (state = 'claimed' AND lease_until < now())) " +
    'ORDER BY model, seq LIMIT 1 FOR UPDATE SKIP LOCKED) AS c ' +
    'WHERE r.run_id = c.run_id AND r.model = c.model AND r.seq = c.seq ' +
    `RETURNING ${RANGE_COLUMNS.split(', ')
      .map((column) => `r.${column}`)
      .join(', ')}, c.previous, c.previous_state`,
  liveLeases:
    'SELECT count(*)::int AS n FROM "hushfield_ranges" ' +
    "WHERE run_id = $1 AND state = 'claimed' AND lease_until >= now()",
  renew:
    'UPDATE "hushfield_ranges" SET lease_until = now() + make_interval(secs => $5), updated_at = now() ' +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed'",
  saveRange:
    'UPDATE "hushfield_ranges" SET cursor = $5, processed = $6, detail = $7, state = $8, ' +
    "lease_until = CASE WHEN $8 = 'claimed' THEN lease_until ELSE NULL END, updated_at = now() " +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed'",
  releaseRange:
    'UPDATE "hushfield_ranges" SET state = \'pending\', lease_until = NULL, updated_at = now() ' +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed'",
  poll:
    'SELECT u.id, u.mode, u.state, u.detail, u.created_at, u.updated_at, ' +
    "count(*) FILTER (WHERE g.state = 'claimed' AND g.lease_until >= now())::int AS live, " +
    "count(*) FILTER (WHERE g.state = 'claimed' AND g.lease_until >= now() AND left(g.owner, length($2)) = $2)::int AS own, " +
    "count(*) FILTER (WHERE g.state IN ('pending', 'claimed'))::int AS open, " +
    'coalesce(sum(g.processed), 0)::float8 AS processed, coalesce(sum(g.rows), 0)::float8 AS rows ' +
    'FROM "hushfield_runs" u LEFT JOIN "hushfield_ranges" g ON g.run_id = u.id WHERE u.id = $1 ' +
    'GROUP BY u.id, u.mode, u.state, u.detail, u.created_at, u.updated_at',
  listRanges: `SELECT ${RANGE_COLUMNS} FROM "hushfield_ranges" WHERE run_id = $1 ORDER BY model, seq`,
  listRuns: 'SELECT id, mode, state, detail, created_at, updated_at FROM "hushfield_runs" ORDER BY created_at DESC',
};

interface RawClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $transaction<T>(work: (tx: RawClient) => Promise<T>, options?: { timeout?: number; maxWait?: number }): Promise<T>;
  _activeProvider?: string;
}

/** The dialect of the client's database. @throws ConfigError for one not supported. */
export function dialectOf(client: BasePrismaClient): RunDialect {
  const provider = (client as unknown as RawClient)._activeProvider ?? '';
  if (provider === 'postgresql' || provider === 'postgres') return postgresDialect;
  if (provider === 'mysql') return mysqlDialect;
  if (provider === 'sqlite') return sqliteDialect;
  throw new ConfigError(messages.runs.unsupportedDatabase(provider || 'unknown'));
}

/** The lease was taken over by another worker (this one stalled past it): stop writing the range. */
export class LeaseLostError extends Error {
  readonly code = 'LEASE_LOST';

  constructor(model: string, seq: number) {
    super(messages.runs.leaseLost(model, seq));
    this.name = 'LeaseLostError';
  }
}

/** Reads and writes a run and its ranges. */
export class RunStore {
  private readonly raw: RawClient;

  constructor(
    client: BasePrismaClient,
    readonly dialect: RunDialect = dialectOf(client),
  ) {
    this.raw = client as unknown as RawClient;
  }

  /** The run `id`, or null. */
  async get(id: string): Promise<RunInfo | null> {
    const rows = await this.query<RunRow>(this.raw, this.dialect.selectRun, id);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** Every run, newest first. */
  async list(): Promise<RunInfo[]> {
    return (await this.query<RunRow>(this.raw, this.dialect.listRuns)).map(toRun);
  }

  /** Runs a query with `$n` parameters in the dialect's placeholders. */
  private query<T>(client: RawClient, sql: string, ...values: unknown[]): Promise<T[]> {
    if (this.dialect.placeholders !== 'positional') return client.$queryRawUnsafe<T[]>(sql, ...values);
    return client.$queryRawUnsafe<T[]>(...bindPositional(sql, values));
  }

  /** Runs a statement with `$n` parameters in the dialect's placeholders. @returns the rows it changed */
  private execute(client: RawClient, sql: string, ...values: unknown[]): Promise<number> {
    if (this.dialect.placeholders !== 'positional') return client.$executeRawUnsafe(sql, ...values);
    return client.$executeRawUnsafe(...bindPositional(sql, values));
  }

  /**
   * Runs a write of the run `id`'s rows; on a single-writer database (see
   * {@link RunDialect.exclusiveWrites}) in a transaction that takes the write lock first.
   */
  private async write(id: string, sql: string, ...values: unknown[]): Promise<number> {
    if (!this.dialect.exclusiveWrites) return this.execute(this.raw, sql, ...values);
    return this.transaction(async (tx) => {
      await this.execute(tx, this.dialect.lockRun, id);
      return this.execute(tx, sql, ...values);
    }, WAIT_FOR_WRITER);
  }

  /**
   * A transaction; on a single-writer database retried while SQLite answers busy at once. The
   * better-sqlite3 adapter runs a statement sent outside any transaction (a read of the next
   * batch) on the connection's open transaction, which then holds a snapshot: its first write
   * fails with SQLITE_BUSY_SNAPSHOT when another process wrote meanwhile, without waiting.
   */
  private async transaction<T>(
    work: (tx: RawClient) => Promise<T>,
    options?: { timeout?: number; maxWait?: number },
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.raw.$transaction(work, options);
      } catch (error) {
        if (!this.dialect.exclusiveWrites || attempt >= BUSY_RETRIES || !isSqliteBusy(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * attempt) * Math.random()));
      }
    }
  }

  /**
   * Opens run `id` (creating it when new, with `settings`; an existing run's settings are
   * replaced by those given) and plans the ranges of each model that has none yet, under a
   * lock on the run's row: the first process plans, the others wait and find the ranges.
   * `plan` lists a model's ranges; it runs at most once per model and run.
   * @returns the run, and whether this call created it
   */
  async open(
    id: string,
    mode: string,
    settings: RunSettings,
    models: readonly string[],
    plan: (model: string) => Promise<PlannedRange[]>,
  ): Promise<{ run: RunInfo; created: boolean }> {
    const { dialect } = this;
    // The run's row is inserted on its own, before the transaction that locks it: on MySQL, an
    // INSERT that finds the row another transaction is inserting holds a shared lock on it,
    // and two such waiters asking for the exclusive lock next would deadlock.
    // It waits, too, while another process plans (its duplicate key meets the locked row).
    const wait = dialect.waitForPlanning;
    const inserted = wait
      ? await this.transaction(async (tx) => {
          await this.execute(tx, wait[0]);
          const n = await this.execute(tx, dialect.insertRun, id, mode, JSON.stringify(settings));
          await this.execute(tx, wait[1]);
          return n;
        }, PLANNING_WAIT)
      : await this.write(id, dialect.insertRun, id, mode, JSON.stringify(settings));
    await this.transaction(async (tx) => {
      if (wait) await this.execute(tx, wait[0]);
      await this.execute(tx, dialect.lockRun, id);
      if (inserted === 0 && hasSettings(settings)) {
        await this.execute(tx, dialect.updateRunSettings, id, JSON.stringify(settings));
      }
      for (const model of models) {
        const [{ n }] = await this.query<{ n: number }>(tx, dialect.countRanges, id, model);
        if (Number(n) > 0) continue;
        const ranges = await plan(model);
        const insert = dialect.insertRange;
        if (typeof insert === 'string') {
          await this.execute(
            tx,
            insert,
            id,
            model,
            ranges.map((range) => range.seq),
            ranges.map((range) => range.lo),
            ranges.map((range) => range.hi),
            ranges.map((range) => range.rows),
          );
          continue;
        }
        for (let at = 0; at < ranges.length; at += RANGES_PER_INSERT) {
          const some = ranges.slice(at, at + RANGES_PER_INSERT);
          const values = some.flatMap((range) => [range.seq, range.lo, range.hi, range.rows]);
          await this.execute(tx, insert(some.length), id, model, ...values);
        }
      }
      if (wait) await this.execute(tx, wait[1]);
    }, PLANNING_WAIT);
    return { run: (await this.get(id)) as RunInfo, created: inserted > 0 };
  }

  /** Deletes the run's ranges (`--restart`): the next `open` plans them again. */
  async clearRanges(id: string): Promise<number> {
    return this.write(id, this.dialect.deleteRanges, id);
  }

  /** Sets the run's state. @returns whether it changed */
  async setState(id: string, state: RunState): Promise<boolean> {
    return (await this.write(id, this.dialect.setRunState, id, state)) > 0;
  }

  /**
   * Claims the first free range, or one whose lease expired, for `owner` with a lease of
   * `leaseSeconds`; null when none is free or the run's `maxConcurrency` leases are all live.
   */
  async claim(id: string, owner: string, leaseSeconds: number, maxConcurrency?: number): Promise<RangeInfo | null> {
    const { dialect } = this;
    const steps = dialect.claim;
    const claim = async (client: RawClient): Promise<ClaimedRow | undefined> => {
      if (typeof steps === 'string') return (await this.query<ClaimedRow>(client, steps, id, owner, leaseSeconds))[0];
      const [free] = await this.query<{ run_id: string; model: string; seq: number } & ClaimedFrom>(
        client,
        steps.pick,
        id,
      );
      if (!free) return undefined;
      await this.execute(client, steps.take, free.run_id, free.model, free.seq, owner, leaseSeconds);
      const [row] = await this.query<RangeRow>(client, steps.read, free.run_id, free.model, free.seq);
      return { ...row, previous: free.previous, previous_state: free.previous_state };
    };
    let row: ClaimedRow | undefined;
    if (maxConcurrency === undefined && typeof steps === 'string') row = await claim(this.raw);
    else {
      // The cap counts live leases: claims of this run take turns on the run's row lock. A
      // claim in steps is one transaction (on SQLite the lock is the database's write lock).
      row = await this.transaction(async (tx) => {
        if (maxConcurrency === undefined && !dialect.exclusiveWrites) return claim(tx);
        await this.execute(tx, dialect.lockRun, id);
        if (maxConcurrency === undefined) return claim(tx);
        const [{ n }] = await this.query<{ n: number }>(tx, dialect.liveLeases, id);
        return Number(n) >= maxConcurrency ? undefined : claim(tx);
      }, WAIT_FOR_WRITER);
    }
    if (!row) return null;
    const range = toRange(row);
    return { ...range, tookOverFrom: row.previous_state === 'claimed' ? row.previous : null };
  }

  /** Extends `owner`'s lease. @returns false when the lease was lost (taken over) */
  async renew(range: RangeInfo, owner: string, leaseSeconds: number): Promise<boolean> {
    const changed = await this.write(
      range.runId,
      this.dialect.renew,
      range.runId,
      range.model,
      range.seq,
      owner,
      leaseSeconds,
    );
    return changed > 0;
  }

  /**
   * Saves the range's position (state `claimed` while it goes on, `done`/`partial` at its
   * end, which also ends the lease). @throws LeaseLostError when `owner` no longer holds it
   */
  async save(
    range: RangeInfo,
    owner: string,
    cursor: string | null,
    processed: number,
    detail: CheckpointDetail,
    state: 'claimed' | 'done' | 'partial',
  ): Promise<void> {
    const changed = await this.write(
      range.runId,
      this.dialect.saveRange,
      range.runId,
      range.model,
      range.seq,
      owner,
      cursor,
      processed,
      serialize(detail),
      state,
    );
    if (changed === 0) throw new LeaseLostError(range.model, range.seq);
  }

  /** Gives the range back (pause, Ctrl-C) with its cursor, for any worker to claim. */
  async release(range: RangeInfo, owner: string): Promise<void> {
    await this.write(range.runId, this.dialect.releaseRange, range.runId, range.model, range.seq, owner);
  }

  /** The run, its leases (all, and those of owners starting with `ownerPrefix`) and its open ranges. */
  async poll(id: string, ownerPrefix: string): Promise<RunPoll | null> {
    const [row] = await this.query<
      RunRow & { live: number; own: number; open: number; processed: number; rows: number }
    >(this.raw, this.dialect.poll, id, ownerPrefix);
    if (!row) return null;
    return {
      run: toRun(row),
      liveLeases: Number(row.live),
      ownLeases: Number(row.own),
      open: Number(row.open),
      processed: Number(row.processed),
      rows: Number(row.rows),
    };
  }

  /** The run's ranges, by model and position. */
  async ranges(id: string): Promise<RangeInfo[]> {
    return (await this.query<RangeRow>(this.raw, this.dialect.listRanges, id)).map(toRange);
  }
}

interface RunRow {
  id: string;
  mode: string;
  state: string;
  detail: string | null;
  created_at: Date;
  updated_at: Date;
}

interface RangeRow {
  run_id: string;
  model: string;
  seq: number;
  lo: string | null;
  hi: string | null;
  rows: number;
  cursor: string | null;
  state: string;
  owner: string | null;
  lease_until: Date | null;
  processed: number;
  detail: string | null;
  updated_at: Date;
}

/** Who held a claimed range before, and in which state it was. */
interface ClaimedFrom {
  previous: string | null;
  previous_state: string;
}

type ClaimedRow = RangeRow & ClaimedFrom;

/**
 * Transaction options of claims and writes: a single-writer database makes them queue behind
 * the transaction that writes (a batch of rows), longer than Prisma's default 2 s wait.
 */
const WAIT_FOR_WRITER = { maxWait: 60_000, timeout: 60_000 };

/** Attempts of a transaction that SQLite answered busy at once (see `RunStore.transaction`). */
const BUSY_RETRIES = 50;

/** SQLite's `SQLITE_BUSY` family (`SQLITE_BUSY_SNAPSHOT` among them), as Prisma reports it. */
function isSqliteBusy(error: unknown): boolean {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } })?.meta;
  const code = meta?.driverAdapterError?.cause?.originalCode;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Ranges per `INSERT` where they are sent as one row of parameters each (4 parameters a range). */
const RANGES_PER_INSERT = 500;

function hasSettings(settings: RunSettings): boolean {
  return settings.maxConcurrency !== undefined || settings.maxRowsPerSecond !== undefined;
}

function toRun(row: RunRow): RunInfo {
  let settings: RunSettings = {};
  try {
    const parsed = JSON.parse(row.detail ?? '{}') as Record<string, unknown>;
    settings = {
      ...(typeof parsed.maxRowsPerSecond === 'number' ? { maxRowsPerSecond: parsed.maxRowsPerSecond } : {}),
      ...(typeof parsed.maxConcurrency === 'number' ? { maxConcurrency: parsed.maxConcurrency } : {}),
    };
  } catch {
    // A hand-edited detail column: no caps.
  }
  const state: RunState = row.state === 'paused' || row.state === 'done' ? row.state : 'running';
  return { id: row.id, mode: row.mode, state, settings, createdAt: row.created_at, updatedAt: row.updated_at };
}

function toRange(row: RangeRow): RangeInfo {
  const known: RangeState[] = ['pending', 'claimed', 'done', 'partial'];
  return {
    runId: row.run_id,
    model: row.model,
    seq: Number(row.seq),
    lo: row.lo,
    hi: row.hi,
    rows: Number(row.rows),
    cursor: row.cursor,
    state: known.includes(row.state as RangeState) ? (row.state as RangeState) : 'pending',
    owner: row.owner,
    leaseUntil: row.lease_until,
    processed: Number(row.processed),
    detail: parseDetail(row.detail),
    updatedAt: row.updated_at,
  };
}
