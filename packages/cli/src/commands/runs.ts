/**
 * `hushfield runs list | pause <id> | resume <id>` and `hushfield status --run <id>`: the
 * scaled-out runs kept in the database (`run-store.ts`). A pause is stored with the run, so it
 * reaches every process of the run, on every host, and outlives restarts: workers finish
 * their batch, give their range back and wait until the run is resumed.
 */
import { InvalidArgumentError } from '@hushfield/core';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { ExitCodeValue } from '../exit-codes';
import { messages } from '../messages';
import type { RangeInfo, RunInfo, RunState } from '../run-records';
import { RunStore } from '../run-store';

/** `runs list`: every run, newest first. */
export async function runsList(ctx: CommandContext): Promise<ExitCodeValue> {
  const runs = await new RunStore(await ctx.client()).list();
  ctx.out.result({ runs }, () => (runs.length === 0 ? [messages.runs.none()] : runs.map(runLine)));
  return ExitCode.Ok;
}

/** `runs pause <id>` / `runs resume <id>`. */
export async function runsSetState(ctx: CommandContext, id: string, state: Extract<RunState, 'paused' | 'running'>) {
  const store = new RunStore(await ctx.client());
  const run = await store.get(id);
  if (!run) throw new InvalidArgumentError(messages.runs.noSuchRun(id), 'run');
  const changed = run.state !== 'done' && (await store.setState(id, state));
  // Unchanged: the state as it is now (the run may have finished since it was read).
  const now = changed ? state : ((await store.get(id))?.state ?? run.state);
  ctx.out.result({ id, state: now, changed }, () => [messages.runs.stateSet(id, now, changed)]);
  return ExitCode.Ok;
}

/** `status --run <id>`: the run and each of its ranges, with owner, lease and rows done. */
export async function runStatus(ctx: CommandContext, id: string): Promise<ExitCodeValue> {
  const store = new RunStore(await ctx.client());
  const run = await store.get(id);
  if (!run) throw new InvalidArgumentError(messages.runs.noSuchRun(id), 'run');
  const ranges = await store.ranges(id);
  const now = Date.now();
  const shown = ranges.map((range) => ({
    model: range.model,
    seq: range.seq,
    lo: range.lo,
    hi: range.hi,
    rows: range.rows,
    processed: range.processed,
    cursor: range.cursor,
    state: leaseState(range, now),
    owner: range.owner,
    leaseUntil: range.leaseUntil,
    failed: range.detail.failed ?? 0,
    pending: range.detail.pending.length,
  }));
  const finished = ranges.filter((range) => range.state === 'done' || range.state === 'partial').length;
  const processed = ranges.reduce((sum, range) => sum + range.processed, 0);
  const rows = ranges.reduce((sum, range) => sum + range.rows, 0);
  ctx.out.result({ run, ranges: shown, finished, processed, rows }, () => [
    runLine(run),
    ...shown.map((range) =>
      messages.runs.rangeLine(
        range.model,
        range.seq,
        `(${range.lo ?? 'start'} .. ${range.hi ?? 'end'}]`,
        range.state,
        range.owner ?? '',
        range.processed,
        range.rows,
      ),
    ),
    messages.runs.rangesTotal(finished, ranges.length, processed, rows),
  ]);
  return ExitCode.Ok;
}

/** A claimed range whose lease ran out shows as `expired` (its worker died or stalled). */
function leaseState(range: RangeInfo, now: number): string {
  if (range.state !== 'claimed') return range.state;
  return range.leaseUntil && range.leaseUntil.getTime() < now ? 'expired' : 'claimed';
}

function runLine(run: RunInfo): string {
  const caps = [
    run.settings.maxRowsPerSecond !== undefined ? `max ${run.settings.maxRowsPerSecond} rows/s` : '',
    run.settings.maxConcurrency !== undefined ? `max ${run.settings.maxConcurrency} leases` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return messages.runs.runLine(run.id, run.mode, run.state, run.createdAt.toISOString(), caps);
}
