/**
 * Opens the source values a batch's classified rows need: legacy plaintext as it is,
 * prisma-field-encryption values through the importer, envelopes in one `decryptMany` per
 * batch. A value that cannot be read is kept as its error, so that its row fails alone.
 */
import { Buffer } from 'node:buffer';
import type { DecryptItem, HushfieldError } from '@hushfield/core';
import { DecryptionError } from '@hushfield/core';
import { typedItems, typedPlain, unboundItems } from '@hushfield/prisma';
import type { EncryptedFieldMeta, ModelMeta } from '@hushfield/prisma';
import { classifyStored, fieldContext, type StoredSource } from './value-context';
import { isHushfieldError } from './output';
import { messages } from './messages';
import type { PfeImporter } from './pfe-import';
import { rowKeyText } from './row-plan';
import type { PlanContext } from './row-plan';
import { checksScope, rebinds } from './row-plan-classify';
import type { RowWork } from './row-plan-classify';

/** Decrypts every source value a row's new values need (one `decryptMany` per batch). */
export async function decryptSources(works: RowWork[], context: PlanContext): Promise<void> {
  const { model, crypto } = context;
  const checkScope = checksScope(context);
  const items: DecryptItem[] = [];
  // Each value's items are items[first, first + count) (a list has one per element).
  const targets: { work: RowWork; field: EncryptedFieldMeta; first: number; count: number }[] = [];
  for (const work of works) {
    // Each source once, though a field may also feed a blind index.
    const needed: string[] = work.fields.map((field) => field.name);
    for (const index of [...work.indexes, ...work.matches.map((m) => m.meta)])
      if (!needed.includes(index.source)) needed.push(index.source);
    for (const name of needed) {
      const field = model.encrypted[name];
      const stored = work.row[name];
      const source: StoredSource = classifyStored(field, stored, crypto);
      if (source === 'plain') work.plaintext.set(name, field.type === undefined ? String(stored) : stored);
      else if (source === 'pfe') {
        try {
          work.plaintext.set(
            name,
            (context.pfe as PfeImporter).decrypt(String(stored), {
              model: model.name,
              field: name,
              rowId: rowKeyText(model, work.row),
            }),
          );
        } catch (error) {
          work.plaintext.set(name, error as HushfieldError);
        }
      } else {
        const ctx = fieldContext(model, field, work.row, checkScope ? work.scope : undefined);
        const own = typedItems(field, stored, ctx);
        targets.push({ work, field, first: items.length, count: own.length });
        items.push(...own);
      }
    }
  }
  // (An empty list has no items: it opens as an empty list, with no call.)
  const results = items.length === 0 ? [] : await crypto.decryptMany(items);
  stopOnOutage(results);
  if (rebinds(context)) await openUnbound(items, results, targets, context);
  for (const { work, field, first, count } of targets) {
    const opened = results.slice(first, first + count);
    const failed = opened.find((result) => isHushfieldError(result));
    if (failed !== undefined) work.plaintext.set(field.name, inCliWords(failed, model, field));
    else {
      try {
        work.plaintext.set(field.name, typedPlain(field, opened as (string | Buffer)[]));
      } catch {
        work.plaintext.set(
          field.name,
          new DecryptionError(messages.migrate.unreadableJson(), { model: model.name, field: field.name }),
        );
      }
    }
  }
}

/** Throws a keyring failure (throttling, outage): it stops the batch, and the run retries or stops cleanly. */
function stopOnOutage(results: readonly unknown[]): void {
  for (const result of results) {
    if (
      typeof result !== 'string' &&
      !Buffer.isBuffer(result) &&
      (!isHushfieldError(result) || result.code === 'HUSHFIELD_KEYRING')
    )
      throw result;
  }
}

/**
 * `--rebind`: opens again, without the binding, each value that failed to open bound (sealed
 * before the model's `@encryption(bind: ...)` was added), and puts what opens into `results`.
 * A value refused for its scope stays refused: the binding does not change the scope check.
 */
async function openUnbound(
  items: readonly DecryptItem[],
  results: unknown[],
  targets: readonly { first: number; count: number }[],
  context: PlanContext,
): Promise<void> {
  const again: DecryptItem[] = [];
  const at: number[] = [];
  for (const { first, count } of targets) {
    const own = results.slice(first, first + count);
    if (!own.some((result) => result instanceof DecryptionError && result.otherScope === undefined)) continue;
    again.push(...unboundItems(items.slice(first, first + count)));
    for (let i = first; i < first + count; i++) at.push(i);
  }
  if (again.length === 0) return;
  const opened = await context.crypto.decryptMany(again);
  stopOnOutage(opened);
  for (let i = 0; i < at.length; i++) if (!isHushfieldError(opened[i])) results[at[i]] = opened[i];
}

/**
 * A value refused for its scope, told as the plan tells it (see `needsMove` in
 * `row-plan-classify.ts`); other errors as they are.
 */
function inCliWords(error: HushfieldError, model: ModelMeta, field: EncryptedFieldMeta): HushfieldError {
  if (!(error instanceof DecryptionError) || error.otherScope === undefined) return error;
  const { otherScope } = error;
  return new DecryptionError(
    messages.migrate.otherScope(otherScope),
    { model: model.name, field: field.name },
    { cause: error, otherScope },
  );
}
