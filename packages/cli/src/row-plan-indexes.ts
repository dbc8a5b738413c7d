/**
 * Which blind and match indexes of a classified row `reencrypt` must rebuild or clear: an index
 * is stale when missing, made under other parameters, keyed the other way (shared ↔ per scope),
 * or under another index root or scope key version than the current one.
 */
import { matchPositionVersion, normalizerVersion } from '@hushfield/core';
import { isPerScopeIndex } from '@hushfield/prisma';
import { isHushfieldError } from './output';
import { isOutage } from './row-plan';
import type { BatchScope, RowWork } from './row-plan-classify';

/**
 * Adds to `work` the blind indexes `reencrypt` must rebuild (missing, outdated, or keyed the
 * other way than the schema says: shared ↔ per scope), or clear. A per-scope index is current
 * under the active version of the row's scope key; a scope that cannot be written (destroyed)
 * leaves it alone. A keyring failure throws: it stops the batch.
 */
export async function staleIndexes(work: RowWork, batch: BatchScope, strictPlain: ReadonlySet<string>): Promise<void> {
  const { crypto, indexVersions } = batch.context;
  for (const { meta: index, maintained } of batch.indexes) {
    if (!maintained || strictPlain.has(index.source)) continue;
    const sourceValue = work.row[index.source];
    const stored = work.row[index.name];
    if (sourceValue === null || sourceValue === undefined) {
      if (stored !== null && stored !== undefined) work.data[index.name] = null;
      continue;
    }
    const parts = typeof stored === 'string' ? crypto.describeBlindIndex(stored) : null;
    const perScope = isPerScopeIndex(index);
    // A shared index depends only on the plaintext, the index root key, the normalizers and the
    // length: rewriting the envelope leaves a current value valid. A per-scope one also follows
    // the scope key's active version, as the envelopes do.
    const current = perScope ? await activeScopeVersion(work.scope, batch) : (indexVersions.get(index.name) ?? null);
    if (current === undefined) continue;
    if (
      parts === null ||
      // Keyed by the key of the scope its envelope is moved from (`--rescope`): the version alone cannot tell.
      (perScope && work.rescoped) ||
      current === null ||
      parts.perScope !== perScope ||
      parts.rootVersion !== current ||
      parts.normalizerVersion !== normalizerVersion(index.normalize) ||
      parts.bytes !== Math.ceil(index.bits / 8)
    )
      work.indexes.push(index);
  }
}

/**
 * Adds to `work` the match indexes `reencrypt` must rebuild: missing, made under other
 * parameters (fingerprint) or another index root version; or clears one whose source is null.
 */
export function staleMatches(work: RowWork, batch: BatchScope, strictPlain: ReadonlySet<string>): void {
  const { indexVersions } = batch.context;
  for (const planned of batch.matches) {
    if (!planned.maintained || strictPlain.has(planned.meta.source)) continue;
    const stored = work.row[planned.meta.name];
    const sourceValue = work.row[planned.meta.source];
    if (sourceValue === null || sourceValue === undefined) {
      if (Array.isArray(stored) && stored.length > 0) work.data[planned.meta.name] = [];
      continue;
    }
    const current = indexVersions.get(planned.meta.name) ?? null;
    const fresh =
      Array.isArray(stored) &&
      stored[0] === planned.fingerprint &&
      current !== null &&
      stored.slice(1).every((position) => matchPositionVersion(position) === current);
    if (!fresh) work.matches.push(planned);
  }
}

/**
 * Adds to `work` every other index of a field the row rewrites (its plaintext is opened for the
 * rewrite anyway): the writer recomputes each and writes only a value that differs from the
 * stored one. An index value can be current by what it names and still be of an earlier value
 * of its source (written by a deploy without the index or without `@encrypted`, or by SQL), so
 * a lookup by the real value misses the row; encrypting legacy plaintext or importing a
 * prisma-field-encryption value must never keep such a value.
 */
export function recheckedIndexes(work: RowWork, batch: BatchScope): void {
  const rewritten = new Set(work.fields.map((field) => field.name));
  for (const { meta, maintained } of batch.indexes) {
    if (maintained && rewritten.has(meta.source) && !work.indexes.includes(meta)) work.indexes.push(meta);
  }
  for (const planned of batch.matches) {
    if (planned.maintained && rewritten.has(planned.meta.source) && !work.matches.includes(planned))
      work.matches.push(planned);
  }
}

/**
 * `--reindex`: adds to `work` every index of a maintained field that holds a value (strict
 * plaintext left alone), to be recomputed and written only where it differs; none of a row whose
 * scope cannot be written (destroyed: its values no longer open). A keyring failure throws.
 */
export async function everyIndex(work: RowWork, batch: BatchScope, strictPlain: ReadonlySet<string>): Promise<void> {
  const holds = (source: string) => {
    const value = work.row[source];
    return value !== null && value !== undefined && !strictPlain.has(source);
  };
  const indexes = batch.indexes.filter((planned) => planned.maintained && holds(planned.meta.source));
  const matches = batch.matches.filter((planned) => planned.maintained && holds(planned.meta.source));
  if (indexes.length + matches.length === 0) return;
  if ((await activeScopeVersion(work.scope, batch)) === undefined) return;
  for (const { meta } of indexes) if (!work.indexes.includes(meta)) work.indexes.push(meta);
  for (const planned of matches) if (!work.matches.includes(planned)) work.matches.push(planned);
}

/** The active version of `scope`'s key (null when it has none yet), or `undefined` when it cannot be written. */
async function activeScopeVersion(scope: string, batch: BatchScope): Promise<number | null | undefined> {
  try {
    return (await batch.activeKey(scope))?.version ?? null;
  } catch (error) {
    if (!isHushfieldError(error) || isOutage(error)) throw error;
    return undefined;
  }
}
