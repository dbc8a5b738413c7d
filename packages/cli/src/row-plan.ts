/**
 * Decides, for one batch of rows, what each row needs and computes its new stored values:
 * encrypt legacy plaintext (`migrating` fields), move envelopes to the scope's active key
 * version, import prisma-field-encryption values, rebuild missing or outdated blind indexes
 * (`reencrypt`), or write plaintext back (`decrypt`, for `readonly` fields). A row that is
 * rewritten gets one fresh DEK for all its encrypted fields. Nothing here touches the database.
 * The stages: classifying rows (`row-plan-classify.ts`; index staleness in
 * `row-plan-indexes.ts`), opening their source values (`row-plan-sources.ts`), and computing
 * their new values and writes (`row-plan-writes.ts`).
 */
import type { FieldCrypto, HushfieldError } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import type { RowWrite } from './cas-writer';
import type { PfeImporter } from './pfe-import';
import { classifyBatch } from './row-plan-classify';
import { decryptSources } from './row-plan-sources';
import { computeWrites } from './row-plan-writes';
import { contextColumns } from './value-context';
import { encodeKey, keyOf } from './walker';
import { rowKeyOf } from './row-key';

/** Which command is planning. */
export type PlanMode = 'reencrypt' | 'decrypt';

/** Why a row was written (a row may have several reasons). */
export interface PlanTally {
  /** Legacy plaintext values encrypted. */
  encrypted: number;
  /** Envelopes moved to the active scope-key version. */
  moved: number;
  /** prisma-field-encryption values imported. */
  imported: number;
  /** Blind-index and match-index values rebuilt (missing or outdated). */
  indexed: number;
  /** Values written back as plaintext (`decrypt`). */
  decrypted: number;
  /** Plaintext found in a `strict` field (left alone: strict fields never accept plaintext). */
  strictPlaintext: number;
}

/** A row the plan could not handle, by key and field; no values. */
export interface RowFailure {
  readonly key: string;
  readonly field?: string;
  readonly code: string;
  readonly message: string;
}

/** The plan for one batch. */
export interface BatchPlan {
  readonly writes: RowWrite[];
  /** Rows that need a write (equals `writes.length` except in a dry run, where nothing is computed). */
  readonly wouldWrite: number;
  readonly failures: RowFailure[];
  readonly tally: PlanTally;
  /**
   * What each of `writes` counts for in `tally`, in the same order: a write taken out of the
   * plan after planning (its key was destroyed meanwhile) takes its counts out too.
   */
  readonly tallies: PlanTally[];
}

/** What a plan needs besides the rows. */
export interface PlanContext {
  readonly model: ModelMeta;
  readonly crypto: FieldCrypto;
  readonly mode: PlanMode;
  readonly pfe?: PfeImporter;
  /** The key version values of `scope` must end under (null: none exists yet). */
  readonly activeKey: (scope: string) => Promise<{ keyId: string; version: number } | null>;
  /** Current version of each blind and match index (by index field name); null when unknown. */
  readonly indexVersions: ReadonlyMap<string, number | null>;
  /** Count what would change, without decrypting, encrypting or creating keys. */
  readonly dryRun?: boolean;
  /**
   * Take values sealed under another scope's key than their row's (`--rescope`: the model's
   * `@encryption(scope: ...)` was added or changed) and move them to the row's scope. Without
   * it such a value of a scoped model fails its row: it may have been copied from another
   * tenant's row, and moving it would make the copy readable there.
   */
  readonly rescope?: boolean;
  /**
   * Take values of a bound model (`boundField` of `@hushfield/prisma`) that were sealed without
   * the binding (`--rebind`: the model's `@encryption(bind: ...)` was added since they were
   * written): an envelope that fails to open bound is opened unbound, and `reencrypt` seals
   * every envelope of the model again, bound (an envelope does not show whether it is bound).
   * Without it such a value fails its row.
   */
  readonly rebind?: boolean;
  /**
   * `reencrypt --reindex`: recompute every blind and match index value of a maintained field
   * from its opened plaintext, and write those that differ from the stored ones (a value left by
   * a deploy without the index or without `@encrypted`, or by SQL, names a current key and
   * looks current). Not in a dry run, which opens nothing.
   */
  readonly reindex?: boolean;
}

/** Fields the planner reads from each row (besides the key). */
export function plannedColumns(model: ModelMeta): string[] {
  return [
    ...Object.keys(model.encrypted),
    ...Object.keys(model.blindIndexes),
    ...Object.keys(model.matchIndexes ?? {}),
    // An id-bound model's id is read anyway.
    ...contextColumns(model),
  ];
}

/** An empty tally. */
export function emptyTally(): PlanTally {
  return { encrypted: 0, moved: 0, imported: 0, indexed: 0, decrypted: 0, strictPlaintext: 0 };
}

/** Plans one batch. Per-row problems become {@link RowFailure}s; keyring failures throw. */
export async function planBatch(rows: readonly Record<string, unknown>[], context: PlanContext): Promise<BatchPlan> {
  const batch = await classifyBatch(rows, context);
  if (context.dryRun) {
    for (const work of batch.works) {
      work.reasons.indexed += work.indexes.length + work.matches.length;
      addTally(batch.tally, work.reasons);
    }
    return { writes: [], failures: batch.failures, tally: batch.tally, tallies: [], wouldWrite: batch.works.length };
  }
  await decryptSources(batch.works, context);
  const tallies: PlanTally[] = [];
  const writes = await computeWrites(batch, context, tallies);
  return { writes, failures: batch.failures, tally: batch.tally, tallies, wouldWrite: writes.length };
}

/** A row's key (see `row-key.ts`) as failures name it (built only when needed: most rows never fail). */
export function rowKeyText(model: ModelMeta, row: Record<string, unknown>): string {
  return encodeKey(keyOf(row, rowKeyOf(model)));
}

/** Adds the counts of `from` to `into`. */
export function addTally(into: PlanTally, from: PlanTally): void {
  into.encrypted += from.encrypted;
  into.moved += from.moved;
  into.imported += from.imported;
  into.indexed += from.indexed;
  into.decrypted += from.decrypted;
  into.strictPlaintext += from.strictPlaintext;
}

/**
 * Whether a hushfield error stops the run rather than failing one row: keyring and key-store
 * outages say nothing about the row and would fail every row after it (the run resumes from
 * its checkpoint). Anything that is not a hushfield error (the database) stops it too.
 */
export function isOutage(error: HushfieldError): boolean {
  return error.code === 'HUSHFIELD_KEYRING' || error.code === 'HUSHFIELD_KEY_STORE';
}
