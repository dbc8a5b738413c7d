/**
 * `status --verify` on blind indexes: whether a lookup of each row's own value would find the
 * row. `reencrypt` judges an index value by what it names (key version, normalizer version,
 * length) without decrypting, so a value left over from an earlier value of its source (written
 * while the deploying schema had no index, or no `@encrypted`, on the field; or by SQL), or made
 * under another `normalize` or `bits` of the same length, passes, while lookups miss its row (and
 * a `@unique` index refuses the old value to every other row). Here such values are counted.
 * No plaintext is kept.
 */
import type { DecryptItem, FieldCrypto } from '@hushfield/core';
import { blindIndexSpec, isPerScopeIndex, rowScope, typedItems } from '@hushfield/prisma';
import type { BlindIndexMeta, ModelMeta } from '@hushfield/prisma';
import { isHushfieldError } from './output';
import { classifyStored, fieldContext } from './value-context';

/** One index value to check: its row's plaintext is decrypted (or read, for legacy plaintext) first. */
interface Pending {
  readonly index: number;
  readonly stored: string;
  readonly scope: string | undefined;
  readonly plain?: string;
  readonly item?: DecryptItem;
}

/**
 * Per index of `indexes` (in order), how many of `rows`' index values a lookup of their own row's
 * source value would not find, under a live key version. Values whose source does not open, is
 * null, plaintext in a strict field or a prisma-field-encryption value, index values of no live version (counted by
 * version elsewhere) and values keyed the other way than the schema says (shared ↔ per scope,
 * `reencrypt` moves them) are not judged here.
 */
export async function staleIndexValues(
  crypto: FieldCrypto,
  model: ModelMeta,
  indexes: readonly BlindIndexMeta[],
  rows: readonly Record<string, unknown>[],
): Promise<number[]> {
  const pending: Pending[] = [];
  for (const row of rows) {
    const scope = rowScope(model, row);
    indexes.forEach((index, i) => {
      const stored = row[index.name];
      const field = model.encrypted[index.source];
      const value = row[index.source];
      if (typeof stored !== 'string' || field === undefined || value === null || value === undefined) return;
      const source = classifyStored(field, value, crypto);
      // Plaintext in a strict field is unreadable already (and counted so); its index is left alone.
      if (source === 'plain') {
        if (field.mode !== 'strict') pending.push({ index: i, stored, scope, plain: String(value) });
      } else if (source === 'envelope') {
        const [item] = typedItems(field, value, fieldContext(model, field, row, scope));
        pending.push({ index: i, stored, scope, item });
      }
    });
  }
  const toOpen = pending.filter((entry) => entry.item !== undefined);
  const opened = toOpen.length === 0 ? [] : await crypto.decryptMany(toOpen.map((entry) => entry.item!));
  const plaintexts = new Map(toOpen.map((entry, i) => [entry, opened[i]]));
  const stale = indexes.map(() => 0);
  for (const entry of pending) {
    const plain = entry.plain ?? plaintexts.get(entry);
    if (typeof plain !== 'string') continue; // did not open: counted as unreadable
    if (await isStale(crypto, model, indexes[entry.index], entry, plain)) stale[entry.index]++;
  }
  return stale;
}

async function isStale(
  crypto: FieldCrypto,
  model: ModelMeta,
  index: BlindIndexMeta,
  entry: Pending,
  plain: string,
): Promise<boolean> {
  const parts = crypto.describeBlindIndex(entry.stored);
  if (parts === null) return false; // counted as unparseable
  // `perScope: migrating` looks up both kinds; otherwise a value of the other kind is reencrypt's to move.
  if (parts.perScope !== isPerScopeIndex(index) && index.perScope !== 'migrating') return false;
  // The spec of the stored value's kind (a `migrating` index holds both).
  const spec = { ...blindIndexSpec(model, index), perScope: parts.perScope };
  let candidates: string[];
  try {
    candidates = await crypto.blindIndexAll(spec, plain, parts.perScope ? entry.scope : undefined);
  } catch (error) {
    if (isHushfieldError(error)) return false; // no scope, or a value the normalizers refuse
    throw error;
  }
  if (candidates.includes(entry.stored)) return false;
  return candidates.some((candidate) => crypto.describeBlindIndex(candidate)?.rootVersion === parts.rootVersion);
}
