/**
 * An upsert's update branch is sealed for the row read before it. When no row was read, or
 * the one read may move before the upsert runs, the update branch could meet another row:
 * one another client creates in between, or an earlier write of the same batch. The where is
 * then pinned to the row the branch is sealed for, so that any other row sends the upsert to
 * its create branch (which fails with P2002 where that row holds the where's unique value)
 * instead of being given values sealed for another row. Nested upserts pin to the row their
 * create makes; top-level ones whose result cannot be checked afterwards, see pinnedUpsert.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { boundField } from '../../value-context';
import { storedForm } from './canonical-values';
import type { RowContext } from './encrypt-data';
import { type CreateDraft, scopeString } from './relation-scope';
import { plainOf } from './row-sealer';
import { type Args, isPlainObject } from '../schema-view';
import type { ModelMeta } from '../../metadata';

/** The context the update branch is sealed for, and the values the where is pinned to. */
export interface CreatedRowPin {
  readonly context: RowContext;
  readonly values: Args;
}

/** The row a create makes, as far as it can be known before the write. */
interface CreatedRow {
  /** The scope, in the form keys are named by; `undefined` when it cannot be known. */
  readonly scope?: string;
  /** The bound value, as stored (see `boundRowId`); `undefined` when the database assigns it. */
  readonly rowId?: string;
  /** The scope field and bound field with the values the create writes to them. */
  readonly values: Args;
}

/**
 * The row `draft` creates: its scope and bound value (generated on the client when the data
 * does not give it and the model's default allows, as the create itself does).
 */
async function createdRow(draft: CreateDraft): Promise<CreatedRow> {
  const { model } = draft;
  const values: Args = {};
  const bound = boundField(model);
  let rowId: string | undefined;
  if (bound !== undefined) {
    const value = await knownValue(draft, bound);
    if (value !== undefined && value !== null) {
      values[bound] = value;
      rowId = typeof value === 'string' ? storedForm(model, bound, value) : String(value);
    }
  }
  const field = model.scopeField;
  if (field === undefined) return { scope: 'default', rowId, values };
  const value = await knownValue(draft, field);
  const scope = scopeString(model, field, value);
  if (scope !== undefined) values[field] = value;
  return { scope, rowId, values };
}

/**
 * The value `draft` gives `field`, or `undefined` when it comes from a row not there yet (a
 * row an earlier write of a batch creates).
 */
async function knownValue(draft: CreateDraft, field: string): Promise<unknown> {
  try {
    return await draft.value(field);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    return undefined;
  }
}

/**
 * The context and stored values (scope, bound value) of the row `draft` creates, or
 * `undefined` when they cannot be known before the write (an id the database assigns).
 */
export async function createdRowPin(draft: CreateDraft): Promise<CreatedRowPin | undefined> {
  const made = await createdRow(draft);
  if (made.scope === undefined) return undefined;
  if (boundField(draft.model) !== undefined && made.rowId === undefined) return undefined;
  return { context: { scope: made.scope, rowId: made.rowId }, values: made.values };
}

/**
 * What an upsert's update branch is sealed for when the read found no row to update: the row
 * the create makes, its scope and (when known before the write) its bound value. The branch
 * then only runs on a row created in between, which is checked or pinned (see pinnedUpsert);
 * sealing it for the create's row rather than for no row means no key is created for the
 * `default` scope, which no row of a scoped model has. `undefined` when the create's scope
 * cannot be known before the write, or the update writes the scope field (it is sealed for
 * the scope it writes) or the bound field (which must not be sealed for another value).
 */
export async function createdRowContext(draft: CreateDraft, update: unknown): Promise<RowContext | undefined> {
  if (writesScope(draft.model, update)) return undefined;
  const made = await createdRow(draft);
  if (made.scope === undefined) return undefined;
  const bound = boundField(draft.model);
  const writesBound = bound !== undefined && isPlainObject(update) && update[bound] !== undefined;
  return { scope: made.scope, rowId: writesBound ? undefined : made.rowId };
}

/** Whether an update's data writes the model's scope field. */
function writesScope(model: ModelMeta, update: unknown): boolean {
  const field = model.scopeField;
  return field !== undefined && isPlainObject(update) && plainOf(update[field]) !== undefined;
}

/**
 * What an upsert whose result cannot be checked adds to its where, and the row its update
 * branch is then sealed for, so that the branch never writes values sealed for another row:
 * - the read found the row: the scope (and bound value) read, as an update is narrowed. A row
 *   moved in between sends the upsert to its create branch;
 * - it found none: the row the create makes (see createdRowPin). When that row cannot be known
 *   before the write (its bound value is assigned by the database, or its scope comes from a
 *   row the batch creates first), or the update writes another scope than the create's, no row
 *   at all: the upsert creates.
 * A row created or moved in between then sends the upsert to its create branch, which fails
 * with P2002 where the create repeats the where's unique value, and otherwise creates a row,
 * as an upsert whose where matches nothing does.
 * `undefined` when nothing can be added (no row was read).
 */
export async function pinnedUpsert(
  model: ModelMeta,
  update: unknown,
  read: { row: RowContext; guard?: Args; absent?: true },
  created: CreateDraft | undefined,
): Promise<{ where: Args; context?: RowContext } | undefined> {
  if (read.absent !== true) return read.guard === undefined ? undefined : { where: read.guard };
  const pin = created === undefined ? undefined : await createdRowPin(created);
  // An update that writes the scope field is sealed for the scope it writes (read.row).
  if (pin !== undefined && (!writesScope(model, update) || pin.context.scope === read.row.scope)) {
    return { where: pin.values, context: pin.context };
  }
  return read.guard === undefined ? undefined : { where: read.guard };
}
