/**
 * What one model's run did (`migrator.ts`): the tally `migrateModel` returns, added up over the
 * ranges of a scaled-out run (`range-worker.ts`) and reported by the CLI (`messages.ts`,
 * `telemetry.ts`).
 */
import { emptyTally } from './row-plan';
import type { PlanTally, RowFailure } from './row-plan';

/** What one model's run did. */
export interface MigrateResult extends PlanTally {
  readonly model: string;
  /** Rows read in this run. */
  scanned: number;
  /** Rows written (or, in a dry run, that would be). */
  written: number;
  /** Rows skipped because their checkpoint said they were done. */
  resumedFrom: string | null;
  /** CAS misses (each re-read later). */
  lostRaces: number;
  /** Rows still not done after the last pass because of lost races. */
  pending: number;
  /** Rows left undone by errors, including those of the unfinished run this one resumed. */
  failed: number;
  readonly failures: RowFailure[];
  /**
   * Set when more rows lost races than the run (or the resumed run's checkpoint) could hold
   * for re-reading: rows before the cursor may still be stale, so a full pass (`--restart`) is needed.
   */
  pendingOverflow?: boolean;
  elapsedMs: number;
  rowsPerSecond: number;
  /** Set when the run stopped early (keyring down after all attempts, database gone). */
  stopped?: { code: string; name: string; message: string };
}

/** A model's result before any row of it was read (a run, or a range of a scaled-out run). */
export function emptyResult(model: string): MigrateResult {
  return {
    model,
    ...emptyTally(),
    scanned: 0,
    written: 0,
    resumedFrom: null,
    lostRaces: 0,
    pending: 0,
    failed: 0,
    failures: [],
    elapsedMs: 0,
    rowsPerSecond: 0,
  };
}
