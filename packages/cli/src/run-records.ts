/**
 * What a scaled-out run and its ranges are to the rest of the CLI (`RunInfo`, `RangeInfo`, a
 * poll, a range to plan), and how the rows `run-store.ts` reads from `hushfield_runs` and
 * `hushfield_ranges` become them: a state it does not know reads as `running` (a run) or
 * `pending` (a range), a run's hand-edited `detail` as no caps.
 */
import { parseDetail } from './checkpoint';
import type { CheckpointDetail } from './checkpoint';

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

/** A row of `hushfield_runs` as selected. */
export interface RunRow {
  id: string;
  mode: string;
  state: string;
  detail: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A row of `hushfield_ranges` as selected. */
export interface RangeRow {
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
export interface ClaimedFrom {
  previous: string | null;
  previous_state: string;
}

/** A range as a claim returns it: the row, and who held it before. */
export type ClaimedRow = RangeRow & ClaimedFrom;

/** A run as read from its row. */
export function toRun(row: RunRow): RunInfo {
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

/** A range as read from its row. */
export function toRange(row: RangeRow): RangeInfo {
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
