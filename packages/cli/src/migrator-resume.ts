/**
 * Where a model's run starts (`migrator.ts`): after the checkpoint of its unfinished run, as the
 * resume policy says (`--resume`, `--restart`, or `auto`: resume, unless `reencrypt` finds a key
 * version created since that run started, as rows before its cursor may then be stale), after
 * the saved position of a scaled-out run's range, or from the first row.
 */
import type { KeyStore } from '@hushfield/core';
import { bindingMayBeMissing } from '@hushfield/prisma';
import type { ModelMeta } from '@hushfield/prisma';
import type { Checkpoint, CheckpointDetail, CheckpointState, RunFlag } from './checkpoint';
import { messages } from './messages';
import { rowKeyOf } from './row-key';
import type { MigrateOptions } from './migrator';

/** How to treat an existing checkpoint: resume an unfinished one unless keys rotated since (`auto`). */
export type ResumePolicy = 'auto' | 'resume' | 'restart';

/**
 * One primary-key range of a scaled-out run: where to start, where to stop, and how its
 * position is saved (in `hushfield_ranges`, fenced by the lease, see `run-store.ts`).
 */
export interface RangeTarget {
  /** Encoded key the range starts after (its lower bound); null from the first row. */
  readonly lo: string | null;
  /** Encoded last key of the range (inclusive); null: to the end of the table. */
  readonly hi: string | null;
  /** Rows the range held when it was planned (for progress). */
  readonly rows: number;
  /** Encoded key of the last committed row of an earlier owner; null when it has not started. */
  readonly cursor: string | null;
  readonly processed: number;
  readonly detail: CheckpointDetail;
  /** Saves the range's position; rejects (lease lost) when another worker took it over. */
  save(cursor: string | null, processed: number, detail: CheckpointDetail, state: CheckpointState): Promise<void>;
}

/** A range's position as a checkpoint: after its cursor, else after its lower bound. */
export function rangeStart(range: RangeTarget): Checkpoint {
  return {
    id: '',
    cursor: range.cursor ?? range.lo,
    state: 'running',
    processed: range.processed,
    detail: range.detail,
    updatedAt: new Date(),
  };
}

/** The checkpoint to resume from, or null to start from the first row. */
export async function startingPoint(options: MigrateOptions, id: string): Promise<Checkpoint | null> {
  const { checkpoints, resume, dryRun, log } = options;
  if (!checkpoints) return null;
  if (resume === 'restart') {
    if (!dryRun && (await checkpoints.clear(id))) log(messages.migrate.checkpointCleared(options.model.name));
    return null;
  }
  const existing = await checkpoints.get(id);
  if (!existing || existing.state !== 'running') {
    if (resume === 'resume') log(messages.migrate.nothingToResume(options.model.name));
    return null;
  }
  if (
    resume === 'auto' &&
    options.mode === 'reencrypt' &&
    (await keysRotatedSince(options.keyStore, new Date(existing.detail.startedAt)))
  ) {
    log(messages.migrate.rotatedSince(options.model.name, existing.detail.startedAt));
    return null;
  }
  const keyFields = rowKeyOf(options.model);
  // A cursor in other fields than the row key's would skip or repeat rows: an older checkpoint of a
  // model with an @id holds its id; one of a model without (walked by nothing) is not trusted.
  const saved = existing.detail.keyFields ?? (options.model.idFields.length > 0 ? options.model.idFields : undefined);
  if (saved === undefined || saved.join('\u0000') !== keyFields.join('\u0000')) {
    log(messages.migrate.keySince(options.model.name, saved ?? [], keyFields));
    return null;
  }
  const missing = runFlags(options).filter((flag) => !(existing.detail.flags ?? []).includes(flag));
  if (missing.length > 0) {
    // The rows before its cursor were not handled as this run handles them.
    log(messages.migrate.flagsSince(options.model.name, missing));
    return null;
  }
  if (existing.detail.pendingOverflow) {
    log(messages.migrate.pendingOverflow(options.model.name));
  }
  const savedAt = existing.updatedAt.toISOString();
  log(messages.migrate.resuming(options.model.name, existing.cursor, existing.processed, savedAt));
  return existing;
}

/**
 * The flags of a run that widen what it takes of its model (see `CheckpointDetail.flags`):
 * those given that apply to it (`rescope` to a scoped model, `reindex` to one with an index, `rebind` to one with
 * `@encryption(bind: ...)` or bound to an id that is a foreign key), so that a flag meant for
 * another model restarts no checkpoint.
 */
export function runFlags(options: Pick<MigrateOptions, 'rescope' | 'rebind' | 'reindex' | 'model'>): RunFlag[] {
  const { model } = options;
  return [
    ...(options.rescope && model.scopeField !== undefined ? (['rescope'] as const) : []),
    // The models `--rebind` rebinds (see `rebinds` in row-plan-classify.ts).
    ...(options.rebind && bindingMayBeMissing(model) ? (['rebind'] as const) : []),
    // The models with an index `--reindex` recomputes.
    ...(options.reindex && hasIndexes(model) ? (['reindex'] as const) : []),
  ];
}

/** Whether `model` has a blind or match index. */
function hasIndexes(model: ModelMeta): boolean {
  return Object.keys(model.blindIndexes).length + Object.keys(model.matchIndexes ?? {}).length > 0;
}

/** Whether a key version above 1 was created after `since` (rows before the cursor may be stale). */
async function keysRotatedSince(keyStore: KeyStore, since: Date): Promise<boolean> {
  const keys = await keyStore.list();
  return keys.some((key) => key.version > 1 && key.createdAt.getTime() > since.getTime());
}
