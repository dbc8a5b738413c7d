/**
 * The database as the coordinator of a scaled-out run (`--run <id>`, `--workers N`): the run
 * (`hushfield_runs`: mode, running or paused, caps) and its primary-key ranges
 * (`hushfield_ranges`). Workers, in one process or many, on one host or several, claim a
 * range under a lease with `SELECT ... FOR UPDATE SKIP LOCKED`, renew the lease while they
 * work, checkpoint the range's cursor (fenced by the owner: a worker whose lease was taken
 * over cannot write), and take over ranges whose lease expired (a killed worker). Lease times
 * are the database's clock (`now()`), so hosts with skewed clocks agree.
 *
 * The SQL differs by database, so it sits behind {@link RunDialect}, in `run-dialects.ts`:
 * PostgreSQL's, MySQL/MariaDB's (`FOR UPDATE SKIP LOCKED` too) and SQLite's (one writer: a
 * claim holds the database's write lock). The records the store returns, and how its rows
 * read as them, are in `run-records.ts`.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { serialize } from './checkpoint';
import type { CheckpointDetail } from './checkpoint';
import type { BasePrismaClient } from './config';
import { messages } from './messages';
import { toRange, toRun } from './run-records';
import type {
  ClaimedFrom,
  ClaimedRow,
  PlannedRange,
  RangeInfo,
  RangeRow,
  RunInfo,
  RunPoll,
  RunRow,
  RunSettings,
  RunState,
} from './run-records';
import { bindPositional, dialectOf } from './run-dialects';
import type { RunDialect } from './run-dialects';

/** Options of Prisma's interactive `$transaction`. */
interface TransactionOptions {
  readonly timeout?: number;
  readonly maxWait?: number;
  readonly isolationLevel?: string;
}

/** Planning walks the primary-key index once: minutes on a table of a billion rows. */
const PLANNING_WAIT = { timeout: 60 * 60_000, maxWait: 60_000 };

interface RawClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $transaction<T>(work: (tx: RawClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
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
   * {@link RunDialect.exclusiveWrites}) in a transaction that takes the write lock first, and
   * where {@link RunDialect.statementsInTransaction} says so in a transaction of its own.
   */
  private async write(id: string, sql: string, ...values: unknown[]): Promise<number> {
    if (this.dialect.exclusiveWrites) {
      return this.transaction(async (tx) => {
        await this.execute(tx, this.dialect.lockRun, id);
        return this.execute(tx, sql, ...values);
      }, WAIT_FOR_WRITER);
    }
    if (this.dialect.statementsInTransaction) {
      return this.transaction((tx) => this.execute(tx, sql, ...values), WAIT_FOR_WRITER);
    }
    return this.execute(this.raw, sql, ...values);
  }

  /**
   * A transaction at the dialect's {@link RunDialect.isolationLevel} (not the database's
   * default: see there); on a single-writer database retried while SQLite answers busy at once. The
   * better-sqlite3 adapter runs a statement sent outside any transaction (a read of the next
   * batch) on the connection's open transaction, which then holds a snapshot: its first write
   * fails with SQLITE_BUSY_SNAPSHOT when another process wrote meanwhile, without waiting.
   */
  private async transaction<T>(work: (tx: RawClient) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const { isolationLevel } = this.dialect;
    const settings = isolationLevel ? { ...options, isolationLevel } : options;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.raw.$transaction(work, settings);
      } catch (error) {
        if (!this.dialect.exclusiveWrites || attempt >= BUSY_RETRIES || !isSqliteBusy(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * attempt) * Math.random()));
      }
    }
  }

  /**
   * Opens run `id` (creating it when new, with `settings`; each setting given replaces the
   * existing run's, the others are kept) and plans the ranges of each model that has none yet, under a
   * lock on the run's row: the first process plans, the others wait and find the ranges.
   * `plan` lists a model's ranges; it runs at most once per model and run. A run that is
   * `done` gets no new ranges: no worker would claim them (and {@link setState} marks it done
   * only with no range open, under the same lock, so the two never cross).
   * With `restart` (`--restart`) the run's ranges are deleted and planned again in the same
   * transaction; a done run runs again, a paused one stays paused until resumed. A restart is
   * refused while another process's worker holds a live lease on a range (its range would be
   * deleted under it), unless `overLiveLeases` (`--force-restart`): those workers then lose
   * their ranges (`LeaseLostError` at their next save) and claim the new ones.
   * @returns the run, and whether this call created it
   * @throws InvalidArgumentError for a restart while leases are live (nothing changed)
   */
  async open(
    id: string,
    mode: string,
    settings: RunSettings,
    models: readonly string[],
    plan: (model: string) => Promise<PlannedRange[]>,
    options: { readonly restart?: boolean; readonly overLiveLeases?: boolean } = {},
  ): Promise<{ run: RunInfo; created: boolean }> {
    const { dialect } = this;
    // The run's row is inserted on its own, before the transaction that locks it: on MySQL, an
    // INSERT that finds the row another transaction is inserting holds a shared lock on it,
    // and two such waiters asking for the exclusive lock next would deadlock.
    // It waits, too, while another process plans (its duplicate key meets the locked row).
    const inserted = dialect.waitForPlanning
      ? await this.transaction(
          (tx) =>
            this.waitingForPlanning(tx, () => this.execute(tx, dialect.insertRun, id, mode, JSON.stringify(settings))),
          PLANNING_WAIT,
        )
      : await this.write(id, dialect.insertRun, id, mode, JSON.stringify(settings));
    await this.transaction(
      (tx) => this.waitingForPlanning(tx, () => this.plan(tx, id, inserted > 0, settings, models, plan, options)),
      PLANNING_WAIT,
    );
    return { run: (await this.get(id)) as RunInfo, created: inserted > 0 };
  }

  /**
   * Runs `work` in `open`'s transaction `tx` with the dialect's {@link RunDialect.waitForPlanning}
   * settings, set back afterwards also when `work` fails: the pooled connection goes on to run
   * other statements (a session's lock wait timeout of an hour would outlive the run's planning).
   */
  private async waitingForPlanning<T>(tx: RawClient, work: () => Promise<T>): Promise<T> {
    const wait = this.dialect.waitForPlanning;
    if (!wait) return work();
    await this.execute(tx, wait[0]);
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.execute(tx, wait[1]).catch(() => undefined);
      throw error;
    }
    await this.execute(tx, wait[1]);
    return result;
  }

  /** `open`'s planning, in its transaction `tx`: see there. */
  private async plan(
    tx: RawClient,
    id: string,
    created: boolean,
    settings: RunSettings,
    models: readonly string[],
    plan: (model: string) => Promise<PlannedRange[]>,
    options: { readonly restart?: boolean; readonly overLiveLeases?: boolean },
  ): Promise<void> {
    const { dialect } = this;
    await this.execute(tx, dialect.lockRun, id);
    if (options.restart) {
      if (!options.overLiveLeases) {
        // A worker claiming without the run's lock (no --max-concurrency) at this very moment
        // loses its range as under --force-restart: it stops it and claims a new one.
        const [{ n }] = await this.query<{ n: number }>(tx, dialect.liveLeases, id);
        if (Number(n) > 0) throw new InvalidArgumentError(messages.runs.restartLive(id, Number(n)), 'restart');
      }
      await this.execute(tx, dialect.deleteRanges, id);
      await this.execute(tx, dialect.reopenRun, id);
    }
    const [row] = await this.query<RunRow>(tx, dialect.selectRun, id);
    if (!created && hasSettings(settings)) {
      // A cap given changes that cap; the run's other one stays as it is.
      const merged = { ...(row ? toRun(row).settings : {}), ...settings };
      await this.execute(tx, dialect.updateRunSettings, id, JSON.stringify(merged));
    }
    if (row && toRun(row).state === 'done') return;
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
  }

  /** Deletes the run's ranges: the next `open` plans them again (`--restart` does both at once: `open`'s `restart`). */
  async clearRanges(id: string): Promise<number> {
    return this.write(id, this.dialect.deleteRanges, id);
  }

  /**
   * Sets the run's state. A done run keeps it (`--restart` reopens it: `open`'s `restart`).
   * `done` is set only while no range of the run is open, checked under
   * the run's row lock: another process may be planning a model's ranges into the run (`open`,
   * under the same lock) at the moment its last worker finishes, and a run marked done over
   * them would leave them pending with no worker to claim them.
   * @returns whether it changed (false for `done` while ranges are open, and for a done run)
   */
  async setState(id: string, state: RunState): Promise<boolean> {
    if (state !== 'done') return (await this.write(id, this.dialect.setRunState, id, state)) > 0;
    // A transaction on every database: the lock, then the check and the update in one statement,
    // which (read committed, whatever the database's default) reads the ranges as committed once
    // the lock is held.
    return this.transaction(async (tx) => {
      await this.execute(tx, this.dialect.lockRun, id);
      return (await this.execute(tx, this.dialect.finishRun, id)) > 0;
    }, WAIT_FOR_WRITER);
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
    if (maxConcurrency === undefined && typeof steps === 'string' && !dialect.statementsInTransaction)
      row = await claim(this.raw);
    else {
      // The cap counts live leases: claims of this run take turns on the run's row lock. A
      // claim in steps is one transaction (on SQLite the lock is the database's write lock), and
      // so is PostgreSQL's one statement (`statementsInTransaction`).
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
