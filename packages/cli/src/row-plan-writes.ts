/**
 * The last stage of a batch plan: computes the new stored values of each classified row whose
 * sources could be read (envelopes sealed under one fresh DEK per row, plaintext for `decrypt`,
 * rebuilt blind and match indexes) and the compare-and-swap write that stores them.
 */
import type { BlindIndexSpec, FieldCrypto, HushfieldError } from '@hushfield/core';
import { columnCapacity, overCapacity, sealTyped } from '@hushfield/prisma';
import type { BlindIndexMeta } from '@hushfield/prisma';
import { fieldContext } from './value-context';
import type { RowWrite } from './cas-writer';
import { messages } from './messages';
import { isHushfieldError } from './output';
import { addTally, isOutage, plannedColumns, rowKeyText } from './row-plan';
import type { PlanContext, PlanTally } from './row-plan';
import { hasKeys } from './row-plan-classify';
import type { ClassifiedBatch, RowWork } from './row-plan-classify';
import { keyOf } from './walker';
import { rowKeyOf } from './row-key';

/**
 * Computes the new stored values of every classified row whose sources could be read.
 * @param tallies - filled with what each write counts for in the batch's tally, in the order of the writes
 */
export async function computeWrites(
  batch: ClassifiedBatch,
  context: PlanContext,
  tallies: PlanTally[] = [],
): Promise<RowWrite[]> {
  const { model, crypto, mode } = context;
  const columns = plannedColumns(model);
  const specs = new Map(batch.indexes.map((index) => [index.meta, index.spec]));
  const writes: RowWrite[] = [];
  for (const work of batch.works) {
    const failure = unreadable(work.plaintext);
    if (failure) {
      batch.failures.push({
        key: rowKeyText(model, work.row),
        field: failure[0],
        code: failure[1].code,
        message: failure[1].message,
      });
      continue;
    }
    if (work.rewrite && mode === 'decrypt') {
      for (const field of work.fields) work.data[field.name] = work.plaintext.get(field.name);
    } else if (work.rewrite) {
      let encryptor: Awaited<ReturnType<FieldCrypto['rowEncryptor']>>;
      try {
        encryptor = await crypto.rowEncryptor(work.scope);
      } catch (error) {
        if (!isHushfieldError(error) || isOutage(error)) throw error;
        batch.failures.push({ key: rowKeyText(model, work.row), code: error.code, message: error.message });
        continue;
      }
      let tooLong: { field: string; column: string; larger: string } | undefined;
      try {
        for (const field of work.fields) {
          const ctx = fieldContext(model, field, work.row);
          const sealed = sealTyped(encryptor, field, work.plaintext.get(field.name), ctx);
          // A database cuts an over-long value (MySQL without a strict sql_mode), and a cut envelope never decrypts.
          const capacity = columnCapacity(model.fields[field.name]);
          if (capacity !== undefined && overCapacity(sealed, capacity)) {
            tooLong = { field: field.name, column: capacity.column, larger: capacity.larger };
            break;
          }
          work.data[field.name] = sealed;
        }
      } finally {
        encryptor.dispose();
      }
      if (tooLong !== undefined) {
        batch.failures.push({
          key: rowKeyText(model, work.row),
          field: tooLong.field,
          code: 'HUSHFIELD_INVALID_ARGUMENT',
          message: messages.migrate.sealedTooLong(tooLong.column, tooLong.larger),
        });
        continue;
      }
    }
    const indexed = await indexValues(work, specs, crypto);
    if (indexed !== undefined) {
      // The row is left whole (no envelope rewritten without its index).
      batch.failures.push({ key: rowKeyText(model, work.row), ...indexed });
      continue;
    }
    if (!hasKeys(work.data)) continue;
    addTally(batch.tally, work.reasons);
    const expected: Record<string, unknown> = {};
    for (const field of columns) expected[field] = work.row[field] ?? null;
    writes.push({ key: keyOf(work.row, rowKeyOf(model)), expected, data: work.data, keys: work.keys });
    tallies.push(work.reasons);
  }
  return writes;
}

/**
 * Puts the rebuilt blind and match indexes of `work` into its data (per-scope ones under the
 * row's scope), or returns why one cannot be computed (its scope cannot be written, or its
 * value is longer than a match index's `maxLength`, as a value indexed before the index was
 * added can be). A keyring failure throws: it stops the batch.
 */
async function indexValues(
  work: RowWork,
  specs: ReadonlyMap<BlindIndexMeta, BlindIndexSpec>,
  crypto: FieldCrypto,
): Promise<{ field?: string; code: string; message: string } | undefined> {
  for (const index of work.indexes) {
    const source = work.plaintext.get(index.source);
    if (typeof source !== 'string') continue;
    let value: string;
    try {
      value = await crypto.blindIndex(specs.get(index) as BlindIndexSpec, source, work.scope);
    } catch (error) {
      if (!isHushfieldError(error) || isOutage(error)) throw error;
      return { code: error.code, message: error.message };
    }
    if (value === work.row[index.name]) continue;
    work.data[index.name] = value;
    work.reasons.indexed++;
  }
  for (const planned of work.matches) {
    const source = work.plaintext.get(planned.meta.source);
    if (typeof source !== 'string') continue;
    let value: number[];
    try {
      value = await crypto.matchIndex(planned.spec, source);
    } catch (error) {
      if (!isHushfieldError(error) || isOutage(error)) throw error;
      return { field: planned.meta.source, code: error.code, message: error.message };
    }
    if (sameNumbers(value, work.row[planned.meta.name])) continue;
    work.data[planned.meta.name] = value;
    work.reasons.indexed++;
  }
  return undefined;
}

/** Whether `stored` is the list `value`, element by element. */
function sameNumbers(value: readonly number[], stored: unknown): boolean {
  return Array.isArray(stored) && stored.length === value.length && value.every((n, i) => stored[i] === n);
}

/** The first source value that could not be read, if any. */
function unreadable(plaintext: Map<string, unknown>): [string, HushfieldError] | undefined {
  for (const entry of plaintext) if (isHushfieldError(entry[1])) return entry as [string, HushfieldError];
  return undefined;
}
