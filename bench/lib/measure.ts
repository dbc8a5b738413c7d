/**
 * Timing: wall-clock samples from `performance.now()`, warm-up runs discarded, the median
 * reported. Medians, not means, because a 2-core machine shared with a database server has
 * outliers (GC, the server's checkpointer) that a mean would smear into every number.
 */
import { performance } from 'node:perf_hooks';

/** The measured runs of one benchmark case, in milliseconds (warm-up runs excluded). */
export interface Samples {
  readonly runsMs: readonly number[];
}

/** How many times to run a case. */
export interface RunPlan {
  /** Runs done first and thrown away (JIT, caches, connection pool). */
  readonly warmup: number;
  /** Runs measured; the median of these is reported. */
  readonly runs: number;
}

/** Milliseconds `fn` takes, once. */
export async function timeOnce(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Runs `fn` `plan.warmup + plan.runs` times, calling `before` (untimed) ahead of each run.
 * @returns the measured runs only
 */
export async function sample(
  plan: RunPlan,
  fn: (run: number) => unknown,
  before?: (run: number) => unknown,
): Promise<Samples> {
  const runsMs: number[] = [];
  for (let run = 0; run < plan.warmup + plan.runs; run += 1) {
    if (before) await before(run);
    const ms = await timeOnce(() => fn(run));
    if (run >= plan.warmup) runsMs.push(ms);
  }
  return { runsMs };
}

/**
 * Several cases sampled in rounds: run 1 of every case, then run 2 of every case, ... so that
 * drift over the benchmark (thermal, a neighbour's load) hits every case alike.
 * @param options.rotate - start each round one case later (round r with case r mod n), so that
 *   no case always follows the same one (and pays for its garbage, or finds its table larger)
 * @returns samples per case name
 */
export async function sampleInterleaved(
  plan: RunPlan,
  cases: Readonly<Record<string, { fn: (run: number) => unknown; before?: (run: number) => unknown }>>,
  options: { rotate?: boolean } = {},
): Promise<Record<string, Samples>> {
  const result: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const entries = Object.entries(cases);
  for (let run = 0; run < plan.warmup + plan.runs; run += 1) {
    const first = options.rotate ? run % entries.length : 0;
    for (const [name, { fn, before }] of [...entries.slice(first), ...entries.slice(0, first)]) {
      if (before) await before(run);
      const ms = await timeOnce(() => fn(run));
      if (run >= plan.warmup) result[name].push(ms);
    }
  }
  return Object.fromEntries(Object.entries(result).map(([name, runsMs]) => [name, { runsMs }]));
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median of a case's runs in milliseconds. */
export function medianMs(samples: Samples): number {
  return median(samples.runsMs);
}

/** Spread of the runs as `min–max`, for the reader to judge the noise. */
export function spread(samples: Samples): { min: number; max: number } {
  return { min: Math.min(...samples.runsMs), max: Math.max(...samples.runsMs) };
}
