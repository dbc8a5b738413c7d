/**
 * The database as the coordinator of a scaled-out run (`--run <id>`, `--workers N`): the run
 * (`hushfield_runs`: mode, running or paused, caps) and its primary-key ranges
 * (`hushfield_ranges`). Workers, in one process or many, on one host or several, claim a
 * range under a lease with `SELECT ... FOR UPDATE SKIP LOCKED`, renew the lease while they
 * work, checkpoint the range's cursor (fenced by the owner: a worker whose lease was taken
 * over cannot write), and take over ranges whose lease expired (a killed worker). Lease times
 * are the database's clock (`now()`), so hosts with skewed clocks agree.
 *
 * The SQL differs by database, so it sits behind {@link RunDialect}. Only PostgreSQL is
 * implemented today; MySQL/MariaDB 8 have `FOR UPDATE SKIP LOCKED` too, and SQLite (one writer
 * at a time) can claim in a `BEGIN IMMEDIATE` transaction: each is a new dialect, nothing else.
 */
import { ConfigError } from '@hushfield/core';
import { parseDetail, serialize } from './checkpoint';
import type { CheckpointDetail } from './checkpoint';
import type { BasePrismaClient } from './config';
import { messages } from './messages';

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

/** The SQL of one database: statements with positional parameters. */
export interface RunDialect {
  readonly name: string;
  readonly insertRun: string;
  readonly lockRun: string;
  readonly selectRun: string;
  readonly updateRunSettings: string;
  readonly setRunState: string;
  readonly countRanges: string;
  readonly insertRange: string;
  readonly deleteRanges: string;
  /** Claims the first free or expired range: params run id, owner, lease seconds. */
  readonly claim: string;
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

/** PostgreSQL: `FOR UPDATE SKIP LOCKED`, `now()`, `$n` parameters. */
export const postgresDialect: RunDialect = {
  name: 'postgresql',
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
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed' RETURNING seq",
  saveRange:
    'UPDATE "hushfield_ranges" SET cursor = $5, processed = $6, detail = $7, state = $8, ' +
    "lease_until = CASE WHEN $8 = 'claimed' THEN lease_until ELSE NULL END, updated_at = now() " +
    "WHERE run_id = $1 AND model = $2 AND seq = $3 AND owner = $4 AND state = 'claimed' RETURNING seq",
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

/** The dialect of the client's database. @throws ConfigError for one not supported yet. */
export function dialectOf(client: BasePrismaClient): RunDialect {
  const provider = (client as unknown as RawClient)._activeProvider ?? '';
  if (provider === 'postgresql' || provider === 'postgres') return postgresDialect;
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
    const rows = await this.raw.$queryRawUnsafe<RunRow[]>(this.dialect.selectRun, id);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** Every run, newest first. */
  async list(): Promise<RunInfo[]> {
    return (await this.raw.$queryRawUnsafe<RunRow[]>(this.dialect.listRuns)).map(toRun);
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
    const created = await this.raw.$transaction(
      async (tx) => {
        const inserted = await tx.$executeRawUnsafe(dialect.insertRun, id, mode, JSON.stringify(settings));
        await tx.$queryRawUnsafe(dialect.lockRun, id);
        if (inserted === 0 && hasSettings(settings)) {
          await tx.$executeRawUnsafe(dialect.updateRunSettings, id, JSON.stringify(settings));
        }
        for (const model of models) {
          const [{ n }] = await tx.$queryRawUnsafe<{ n: number }[]>(dialect.countRanges, id, model);
          if (n > 0) continue;
          const ranges = await plan(model);
          await tx.$executeRawUnsafe(
            dialect.insertRange,
            id,
            model,
            ranges.map((range) => range.seq),
            ranges.map((range) => range.lo),
            ranges.map((range) => range.hi),
            ranges.map((range) => range.rows),
          );
        }
        return inserted > 0;
      },
      // Planning walks the primary-key index once: minutes on a table of a billion rows.
      { timeout: 60 * 60_000, maxWait: 60_000 },
    );
    return { run: (await this.get(id)) as RunInfo, created };
  }

  /** Deletes the run's ranges (`--restart`): the next `open` plans them again. */
  async clearRanges(id: string): Promise<number> {
    return this.raw.$executeRawUnsafe(this.dialect.deleteRanges, id);
  }

  /** Sets the run's state. @returns whether it changed */
  async setState(id: string, state: RunState): Promise<boolean> {
    return (await this.raw.$executeRawUnsafe(this.dialect.setRunState, id, state)) > 0;
  }

  /**
   * Claims the first free range, or one whose lease expired, for `owner` with a lease of
   * `leaseSeconds`; null when none is free or the run's `maxConcurrency` leases are all live.
   */
  async claim(id: string, owner: string, leaseSeconds: number, maxConcurrency?: number): Promise<RangeInfo | null> {
    const { dialect } = this;
    const claim = async (client: RawClient) =>
      (await client.$queryRawUnsafe<ClaimedRow[]>(dialect.claim, id, owner, leaseSeconds))[0];
    let row: ClaimedRow | undefined;
    if (maxConcurrency === undefined) row = await claim(this.raw);
    else {
      // The cap counts live leases: claims of this run take turns on the run's row lock.
      row = await this.raw.$transaction(async (tx) => {
        await tx.$queryRawUnsafe(dialect.lockRun, id);
        const [{ n }] = await tx.$queryRawUnsafe<{ n: number }[]>(dialect.liveLeases, id);
        return n >= maxConcurrency ? undefined : claim(tx);
      });
    }
    if (!row) return null;
    const range = toRange(row);
    return { ...range, tookOverFrom: row.previous_state === 'claimed' ? row.previous : null };
  }

  /** Extends `owner`'s lease. @returns false when the lease was lost (taken over) */
  async renew(range: RangeInfo, owner: string, leaseSeconds: number): Promise<boolean> {
    const rows = await this.raw.$queryRawUnsafe<unknown[]>(
      this.dialect.renew,
      range.runId,
      range.model,
      range.seq,
      owner,
      leaseSeconds,
    );
    return rows.length > 0;
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
    const rows = await this.raw.$queryRawUnsafe<unknown[]>(
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
    if (rows.length === 0) throw new LeaseLostError(range.model, range.seq);
  }

  /** Gives the range back (pause, Ctrl-C) with its cursor, for any worker to claim. */
  async release(range: RangeInfo, owner: string): Promise<void> {
    await this.raw.$executeRawUnsafe(this.dialect.releaseRange, range.runId, range.model, range.seq, owner);
  }

  /** The run, its leases (all, and those of owners starting with `ownerPrefix`) and its open ranges. */
  async poll(id: string, ownerPrefix: string): Promise<RunPoll | null> {
    const [row] = await this.raw.$queryRawUnsafe<
      (RunRow & { live: number; own: number; open: number; processed: number; rows: number })[]
    >(this.dialect.poll, id, ownerPrefix);
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
    return (await this.raw.$queryRawUnsafe<RangeRow[]>(this.dialect.listRanges, id)).map(toRange);
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

type ClaimedRow = RangeRow & { previous: string | null; previous_state: string };

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
