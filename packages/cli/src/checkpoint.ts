/**
 * Where a bulk run got to, stored in the application's database (`HushfieldCheckpoint`), so
 * that a killed `reencrypt` or `decrypt` resumes after the last committed batch. A checkpoint
 * is written only after its batch's updates committed, so resuming never skips a row that
 * was not processed; rows that lost a compare-and-swap race are kept in `pending`.
 */
import { ConfigError } from '@hushfield/core';
import { delegateName } from '@hushfield/prisma';
import type { BasePrismaClient } from './config';
import { messages } from './messages';

/** Run states: `running` (unfinished or killed), `done`, `partial` (finished with rows left undone). */
export type CheckpointState = 'running' | 'done' | 'partial';

/** Facts kept with a checkpoint (JSON in the `detail` column; identifiers only, no values). */
export interface CheckpointDetail {
  /** When the run that owns this checkpoint started (ISO). */
  readonly startedAt: string;
  /** Encoded primary keys of rows to retry (lost races), capped. */
  readonly pending: readonly string[];
  /** Whether more rows lost races than `pending` could hold (a later full pass is needed). */
  readonly pendingOverflow?: boolean;
  /** Rows left undone by errors (unreadable values, constraint violations). */
  readonly failed?: number;
  /**
   * Plaintext values found in `strict` fields (left alone, unreadable through the extension):
   * kept so that a resumed run still reports those before its cursor and does not end as done.
   */
  readonly strictPlaintext?: number;
  /**
   * The flags that widen what the run takes (`rescope`, `rebind`, `reindex`): a run given one its
   * checkpoint's run was not cannot resume it, as the rows before its cursor were not handled so.
   */
  readonly flags?: readonly RunFlag[];
  /**
   * The fields the cursor and `pending` keys hold (the model's row key, see `row-key.ts`). Absent
   * in checkpoints written before it was recorded: those of a model with an `@id` hold its id.
   */
  readonly keyFields?: readonly string[];
}

/** A flag that widens what a `reencrypt` or `decrypt` run takes (`--rescope`, `--rebind`, `--reindex`). */
export type RunFlag = 'rescope' | 'rebind' | 'reindex';

/** One stored checkpoint. */
export interface Checkpoint {
  readonly id: string;
  /** Encoded primary key of the last row of the last committed batch; null before the first. */
  readonly cursor: string | null;
  readonly state: CheckpointState;
  readonly processed: number;
  readonly detail: CheckpointDetail;
  readonly updatedAt: Date;
}

interface CheckpointRow {
  id: string;
  cursor: string | null;
  state: string;
  processed: number;
  detail: string | null;
  updatedAt: Date;
}

interface CheckpointDelegate {
  findUnique(args: { where: { id: string } }): Promise<CheckpointRow | null>;
  upsert(args: {
    where: { id: string };
    create: Partial<CheckpointRow>;
    update: Partial<CheckpointRow>;
  }): Promise<CheckpointRow>;
  deleteMany(args: { where: { id: string } }): Promise<{ count: number }>;
  update(args: { where: { id: string }; data: Partial<CheckpointRow> }): Promise<CheckpointRow>;
}

/** Most lost-race keys kept in one checkpoint; beyond it the run asks for another pass. */
export const MAX_PENDING = 10_000;

/** The checkpoint id of one command on one model (`reencrypt:User`). */
export function checkpointId(command: 'reencrypt' | 'decrypt', model: string): string {
  return `${command}:${model}`;
}

/** Reads and writes checkpoints through the base Prisma client. */
export class CheckpointStore {
  private readonly delegate: CheckpointDelegate;

  /** @throws ConfigError when the schema has no `HushfieldCheckpoint` model. */
  constructor(client: BasePrismaClient, model = 'HushfieldCheckpoint') {
    const delegate = (client as Record<string, unknown>)[delegateName(model)];
    if (!delegate || typeof (delegate as CheckpointDelegate).upsert !== 'function') {
      throw new ConfigError(messages.walk.noCheckpointModel(model));
    }
    this.delegate = delegate as CheckpointDelegate;
  }

  /** The checkpoint `id`, or null. */
  async get(id: string): Promise<Checkpoint | null> {
    const row = await this.delegate.findUnique({ where: { id } });
    return row ? toCheckpoint(row) : null;
  }

  /** Starts a fresh run: no cursor, nothing processed (its cursors to be in `keyFields`, when given). */
  async start(
    id: string,
    startedAt: Date,
    flags: readonly RunFlag[] = [],
    keyFields?: readonly string[],
  ): Promise<Checkpoint> {
    const detail = serialize({
      startedAt: startedAt.toISOString(),
      pending: [],
      ...(flags.length > 0 ? { flags } : {}),
      ...(keyFields !== undefined ? { keyFields } : {}),
    });
    const fresh = { cursor: null, state: 'running', processed: 0, detail };
    return toCheckpoint(await this.delegate.upsert({ where: { id }, create: { id, ...fresh }, update: fresh }));
  }

  /** Records a committed batch. */
  async save(
    id: string,
    cursor: string | null,
    processed: number,
    detail: CheckpointDetail,
    state: CheckpointState = 'running',
  ): Promise<void> {
    await this.delegate.update({ where: { id }, data: { cursor, processed, state, detail: serialize(detail) } });
  }

  /** Deletes the checkpoint (`--restart`). @returns whether one existed. */
  async clear(id: string): Promise<boolean> {
    return (await this.delegate.deleteMany({ where: { id } })).count > 0;
  }
}

/** The `detail` column of a checkpoint or range: pending keys capped at {@link MAX_PENDING}. */
export function serialize(detail: CheckpointDetail): string {
  const pending = detail.pending.slice(0, MAX_PENDING);
  const overflow = detail.pendingOverflow || detail.pending.length > MAX_PENDING;
  return JSON.stringify({ ...detail, pending, ...(overflow ? { pendingOverflow: true } : {}) });
}

/** Parses a `detail` column (JSON); a hand-edited or truncated one keeps the cursor, forgets pending keys. */
export function parseDetail(text: string | null): CheckpointDetail {
  let detail: CheckpointDetail = { startedAt: new Date(0).toISOString(), pending: [] };
  if (text) {
    try {
      const parsed = JSON.parse(text) as Partial<CheckpointDetail>;
      detail = {
        startedAt: typeof parsed.startedAt === 'string' ? parsed.startedAt : detail.startedAt,
        pending: Array.isArray(parsed.pending)
          ? parsed.pending.filter((key): key is string => typeof key === 'string')
          : [],
        ...(parsed.pendingOverflow ? { pendingOverflow: true } : {}),
        ...(typeof parsed.failed === 'number' ? { failed: parsed.failed } : {}),
        ...(typeof parsed.strictPlaintext === 'number' ? { strictPlaintext: parsed.strictPlaintext } : {}),
        ...(Array.isArray(parsed.flags)
          ? {
              flags: parsed.flags.filter(
                (flag): flag is RunFlag => flag === 'rescope' || flag === 'rebind' || flag === 'reindex',
              ),
            }
          : {}),
        ...(Array.isArray(parsed.keyFields) && parsed.keyFields.every((field) => typeof field === 'string')
          ? { keyFields: parsed.keyFields }
          : {}),
      };
    } catch {
      // Resume from the cursor, forget pending keys.
    }
  }
  return detail;
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  const detail = parseDetail(row.detail);
  const state: CheckpointState = row.state === 'done' || row.state === 'partial' ? row.state : 'running';
  return { id: row.id, cursor: row.cursor, state, processed: row.processed, detail, updatedAt: row.updatedAt };
}
