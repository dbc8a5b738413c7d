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

/**
 * The context and stored values (scope, bound value) of the row `draft` creates, or
 * `undefined` when they cannot be known before the write (an id the database assigns).
 */
export async function createdRowPin(draft: CreateDraft): Promise<CreatedRowPin | undefined> {
  const { model } = draft;
  const values: Args = {};
  const bound = boundField(model);
  let rowId: string | undefined;
  if (bound !== undefined) {
    const value = await draft.value(bound);
    if (value === undefined || value === null) return undefined;
    values[bound] = value;
    rowId = typeof value === 'string' ? storedForm(model, bound, value) : String(value);
  }
  const field = model.scopeField;
  if (field === undefined) return { context: { scope: 'default', rowId }, values };
  const value = await draft.value(field);
  const scope = scopeString(model, field, value);
  if (scope === undefined) return undefined;
  values[field] = value;
  return { context: { scope, rowId }, values };
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
  let pin: CreatedRowPin | undefined;
  try {
    pin = created === undefined ? undefined : await createdRowPin(created);
  } catch (error) {
    // The create's scope comes from a row not there yet (the create of an earlier write of the batch).
    if (!(error instanceof InvalidArgumentError)) throw error;
  }
  // An update that writes the scope field is sealed for the scope it writes (read.row).
  const field = model.scopeField;
  const writesScope = field !== undefined && isPlainObject(update) && plainOf(update[field]) !== undefined;
  if (pin !== undefined && (!writesScope || pin.context.scope === read.row.scope)) {
    return { where: pin.values, context: pin.context };
  }
  return read.guard === undefined ? undefined : { where: read.guard };
}
