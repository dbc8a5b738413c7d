/**
 * `status --index-buckets`: how a truncated blind index spreads its values over buckets. Only
 * counts leave this module (bucket sizes, never an index value or which rows share a bucket),
 * so the report can be shared like the rest of `status`.
 */
import type { BlindIndexMeta } from '@hushfield/prisma';
import { messages } from '../messages';

/** Bucket sizes of one truncated blind index (index values counted per distinct value, every key version included). */
export interface BucketReport {
  readonly bits: number;
  /** The schema's `expected` distinct values, when given. */
  readonly expected?: number;
  /** Rows holding an index value. */
  readonly values: number;
  /** Distinct index values (buckets in use). */
  readonly buckets: number;
  /** Values per bucket in use: smallest, median, mean, largest. */
  readonly min: number;
  readonly median: number;
  readonly mean: number;
  readonly max: number;
  /** Mean bucket size if the values were spread over all 2^bits buckets (values / 2^bits). */
  readonly spreadMean: number;
  /** Values alone in their bucket: the index still singles these out. */
  readonly singletons: number;
  /** Largest bucket over the mean bucket in use: 1 is perfectly even; repeated plaintexts raise it. */
  readonly skew: number;
  /**
   * Number of buckets of each size, smallest sizes first (at most 20 sizes; larger ones in the
   * last row as `size+`).
   */
  readonly histogram: readonly { readonly size: string; readonly buckets: number }[];
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** Counts the values of one index. Holds one counter per distinct value in memory, nothing else. */
export class BucketCounter {
  readonly #counts = new Map<string, number>();

  constructor(private readonly index: BlindIndexMeta) {}

  /** Counts one stored index value. */
  add(value: string): void {
    this.#counts.set(value, (this.#counts.get(value) ?? 0) + 1);
  }

  /** The report; the values themselves are dropped here. */
  report(): BucketReport {
    const sizes = [...this.#counts.values()].sort((a, b) => a - b);
    this.#counts.clear();
    const values = sizes.reduce((sum, size) => sum + size, 0);
    const buckets = sizes.length;
    const mean = buckets === 0 ? 0 : values / buckets;
    const bySize = new Map<number, number>();
    for (const size of sizes) bySize.set(size, (bySize.get(size) ?? 0) + 1);
    const entries = [...bySize.entries()];
    const histogram = entries.slice(0, 19).map(([size, count]) => ({ size: String(size), buckets: count }));
    if (entries.length > 19) {
      histogram.push({
        size: `${entries[19][0]}+`,
        buckets: entries.slice(19).reduce((sum, [, count]) => sum + count, 0),
      });
    }
    const middle =
      buckets === 0
        ? 0
        : buckets % 2 === 1
          ? sizes[(buckets - 1) / 2]
          : (sizes[buckets / 2 - 1] + sizes[buckets / 2]) / 2;
    return {
      bits: this.index.bits,
      ...(this.index.expected !== undefined ? { expected: this.index.expected } : {}),
      values,
      buckets,
      min: sizes[0] ?? 0,
      median: middle,
      mean: round(mean),
      max: sizes[buckets - 1] ?? 0,
      spreadMean: round(values / 2 ** this.index.bits),
      singletons: bySize.get(1) ?? 0,
      skew: buckets === 0 ? 0 : round(sizes[buckets - 1] / mean),
      histogram,
    };
  }
}

/** One line of the human report (the wording is the catalog's: `messages.status.buckets`). */
export function bucketLine(report: BucketReport): string {
  return messages.status.buckets(report);
}
