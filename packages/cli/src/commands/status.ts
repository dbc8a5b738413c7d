/**
 * `hushfield status`: what the stored data looks like, read-only. Per model and encrypted
 * field: nulls, plaintext, prisma-field-encryption values, malformed values, and envelopes by
 * scope-key version and state (active, retired, destroyed, unknown key), parsed with
 * `FieldCrypto.describe` (no decryption); `--verify` also decrypts to count unreadable values
 * and blind-index values a lookup of their row's value would not find (`index-verify.ts`).
 * Per blind index: versions in use and missing values; `--index-buckets` adds the bucket sizes
 * of truncated indexes (counts only). Then key-store and keyring health.
 *
 * With `--verify` it exits {@link ExitCode.Partial} (3) when it finds values the application
 * cannot read, so that monitoring catches tampering (see {@link unreadableValues}), or stale
 * index values.
 */
import type { DecryptItem, FieldCrypto, StoredKey } from '@hushfield/core';
import { matchFingerprint, matchPositionVersion } from '@hushfield/core';
import { bindingMayBeMissing, isPerScopeIndex, matchIndexSpec, rowScope, typedItems } from '@hushfield/prisma';
import type { MatchIndexMeta, ModelMeta } from '@hushfield/prisma';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { ExitCodeValue } from '../exit-codes';
import { keyStoreSummary, keyringRoundTrip } from '../health';
import type { KeyStoreSummary, KeyringHealth } from '../health';
import { isHushfieldError } from '../output';
import { messages } from '../messages';
import { BucketCounter, type BucketReport } from './index-buckets';
import { classifyStored, contextColumns, describeStored, fieldContext, isOtherScope } from '../value-context';
import { delegateOf, walkBatches } from '../walker';
import { assertRowKeys, rowKeyOf } from '../row-key';
import { opensUnbound, valueFailures } from '../verify-values';
import { staleIndexValues } from '../index-verify';

/** Options of `status`. */
export interface StatusOptions {
  readonly model?: string;
  readonly batch: number;
  readonly verify: boolean;
  /** Also report the bucket sizes of truncated blind indexes. */
  readonly indexBuckets?: boolean;
}

/** Counts for one encrypted field. */
export interface FieldStatus {
  readonly field: string;
  readonly mode: string;
  nulls: number;
  plaintext: number;
  pfe: number;
  malformed: number;
  /** Envelopes under the active version of their scope key. */
  current: number;
  /** Envelopes under a retired version (decrypt fine; `reencrypt` moves them). */
  retired: number;
  /** Envelopes under a destroyed (shredded) scope: unreadable for good. */
  destroyed: number;
  /** Envelopes naming a key the key store does not have. */
  unknownKey: number;
  /** Per scope-key version (largest first, at most 50). */
  versions: { scope: string; keyId: string; version: number; state: string; count: number }[];
  /** With `--verify`: values that failed to decrypt, by error code. */
  unreadable?: Record<string, number>;
  /**
   * With `--verify`, when any: values of a scoped model sealed under another scope's key than
   * their row's (copied from another scope's row, a scope column changed in SQL, or a scope
   * annotation added or changed and not moved yet by `reencrypt --rescope`). Counted in
   * `unreadable` too.
   */
  otherScope?: number;
  /**
   * With `--verify`, when any: values of a bound model that open only without the binding
   * (sealed before its `@encryption(bind: ...)` was added, and not sealed again yet by
   * `reencrypt --rebind`). Counted in `unreadable` too.
   */
  unbound?: number;
}

/** Counts for one blind index. */
export interface IndexStatus {
  readonly index: string;
  readonly source: string;
  /** Whether the schema keys this index per scope (`perScope: true`): `reencrypt` moves values to match. */
  readonly perScope: boolean;
  /**
   * Index values by embedded version: `'2'` for shared values under index root version 2, `'s2'`
   * for per-scope values under scope key version 2, `'unparseable'` for foreign values.
   */
  versions: Record<string, number>;
  /** Index values keyed by the shared index root key, and keyed per scope. */
  keyed: { shared: number; perScope: number };
  /** Source set but index empty. */
  missing: number;
  /**
   * With `--verify`: index values a lookup of their own row's value does not find (left from an
   * earlier value of the source, or made under another `normalize` or `bits`); `reencrypt` does
   * not see them (see "Changing an encrypted schema" in the README).
   */
  stale?: number;
  /** With `--index-buckets`, for a truncated index: bucket sizes (counts only). */
  buckets?: BucketReport;
}

/** Counts for one match index. */
export interface MatchIndexStatus {
  readonly index: string;
  readonly source: string;
  /** Values by index root version (`'empty'`: a value too short for one n-gram). */
  versions: Record<string, number>;
  /** Source set but index empty. */
  missing: number;
  /** Values made under other parameters (`reencrypt` rebuilds them). */
  otherParameters: number;
}

/** Status of one model. */
export interface ModelStatus {
  readonly model: string;
  rows: number;
  /** Rows with at least one value under a destroyed scope. */
  rowsDestroyed: number;
  fields: FieldStatus[];
  indexes: IndexStatus[];
  /** Match indexes: values by index root version, missing, made under other parameters. */
  matchIndexes: MatchIndexStatus[];
}

/**
 * The values of a field the application cannot read, as `--verify` counts them: those that
 * failed to decrypt, malformed envelopes, envelopes naming a key the store does not have,
 * prisma-field-encryption values (to import first), and plaintext in a strict field. Values
 * under a destroyed scope are not counted: a shred makes them unreadable on purpose.
 */
export function unreadableValues(field: FieldStatus): number {
  const failed = Object.values(field.unreadable ?? {}).reduce((a, b) => a + b, 0);
  return failed + field.malformed + field.unknownKey + field.pfe + (field.mode === 'strict' ? field.plaintext : 0);
}

/**
 * Runs `status`. Exit 3 when `--verify` finds unreadable values or stale blind-index values, 1
 * when the keyring fails.
 */
export async function statusCommand(ctx: CommandContext, options: StatusOptions): Promise<ExitCodeValue> {
  const selected = ctx.models(options.model);
  assertRowKeys(selected);
  const client = await ctx.client();
  const keyStore = await ctx.keyStore();
  const crypto = await ctx.crypto();
  const { summary, keys } = await keyStoreSummary(keyStore);
  const byVersion = new Map(keys.map((key) => [`${key.keyId}\u0000${key.version}`, key]));
  const models: ModelStatus[] = [];
  for (const model of selected) models.push(await modelStatus(client, crypto, model, byVersion, options));
  const keyring = await keyringRoundTrip(await ctx.keyring(), ctx.audit);
  const unreadable = options.verify
    ? models.reduce((sum, model) => sum + model.fields.reduce((n, field) => n + unreadableValues(field), 0), 0)
    : undefined;
  const stale = options.verify
    ? models.reduce((sum, model) => sum + model.indexes.reduce((n, index) => n + (index.stale ?? 0), 0), 0)
    : undefined;
  const verify = unreadable === undefined ? {} : { verify: { unreadable, staleIndexValues: stale } };
  ctx.out.result({ command: 'status', models, keyStore: summary, keyring, ...verify }, () => [
    ...human(models, summary, keyring, unreadable, stale),
    ...otherScopeHints(models),
    ...unboundHints(models),
  ]);
  if (!keyring.ok) return ExitCode.Failure;
  return unreadable || stale ? ExitCode.Partial : ExitCode.Ok;
}

async function modelStatus(
  client: object,
  crypto: FieldCrypto,
  model: ModelMeta,
  keys: ReadonlyMap<string, StoredKey>,
  options: StatusOptions,
): Promise<ModelStatus> {
  const fields = Object.values(model.encrypted);
  const indexes = Object.values(model.blindIndexes);
  const matches = Object.values(model.matchIndexes ?? {}).map((meta) => ({
    meta,
    fingerprint: matchFingerprint(matchIndexSpec(model, meta)),
  }));
  const status: ModelStatus = {
    model: model.name,
    rows: 0,
    rowsDestroyed: 0,
    fields: fields.map((field) => ({
      field: field.name,
      mode: field.mode,
      nulls: 0,
      plaintext: 0,
      pfe: 0,
      malformed: 0,
      current: 0,
      retired: 0,
      destroyed: 0,
      unknownKey: 0,
      versions: [],
      ...(options.verify ? { unreadable: {} } : {}),
    })),
    indexes: indexes.map((index) => ({
      index: index.name,
      source: index.source,
      perScope: isPerScopeIndex(index),
      versions: {},
      keyed: { shared: 0, perScope: 0 },
      missing: 0,
      ...(options.verify ? { stale: 0 } : {}),
    })),
    matchIndexes: matches.map(({ meta }) => ({
      index: meta.name,
      source: meta.source,
      versions: {},
      missing: 0,
      otherParameters: 0,
    })),
  };
  const versionCounts = fields.map(() => new Map<string, number>());
  const bucketCounters = indexes.map((index) =>
    options.indexBuckets && index.bits < 256 ? new BucketCounter(index) : undefined,
  );
  const select = [
    ...fields.map((field) => field.name),
    ...indexes.map((index) => index.name),
    ...matches.map(({ meta }) => meta.name),
    // `--verify` checks each value's key against its row's scope, and opens it bound, as the extension reads it.
    ...contextColumns(model),
  ];
  for await (const rows of walkBatches(delegateOf(client, model.name), {
    keyFields: rowKeyOf(model),
    select,
    batchSize: options.batch,
  })) {
    status.rows += rows.length;
    const toVerify: { items: DecryptItem[]; field: FieldStatus }[] = [];
    for (const row of rows) {
      let destroyed = false;
      fields.forEach((field, i) => {
        const counts = status.fields[i];
        const value = row[field.name];
        if (value === null || value === undefined) return void counts.nulls++;
        const source = classifyStored(field, value, crypto);
        if (source !== 'envelope') return void (source === 'pfe' ? counts.pfe++ : counts.plaintext++);
        const named = describeStored(field, value, crypto);
        if (named === null) return void counts.malformed++;
        // A list's elements share their row's key (an empty list names none: nothing to count).
        if (named.length === 0) return void counts.current++;
        const [described] = named;
        const id = `${described.keyId}\u0000${described.version}`;
        versionCounts[i].set(id, (versionCounts[i].get(id) ?? 0) + 1);
        const key = keys.get(id);
        if (!key) counts.unknownKey++;
        else if (key.state === 'destroyed') {
          counts.destroyed++;
          destroyed = true;
        } else if (key.state === 'active') counts.current++;
        else counts.retired++;
        if (options.verify && key && key.state !== 'destroyed')
          toVerify.push({
            items: typedItems(field, value, fieldContext(model, field, row, rowScope(model, row))),
            field: counts,
          });
      });
      if (destroyed) status.rowsDestroyed++;
      indexes.forEach((index, i) => {
        const stored = row[index.name];
        if (stored === null || stored === undefined) {
          if (row[index.source] !== null && row[index.source] !== undefined) status.indexes[i].missing++;
          return;
        }
        const parts = crypto.describeBlindIndex(String(stored));
        const counts = status.indexes[i];
        if (parts !== null) {
          bucketCounters[i]?.add(String(stored));
          if (parts.perScope) counts.keyed.perScope++;
          else counts.keyed.shared++;
        }
        const label = parts === null ? 'unparseable' : `${parts.perScope ? 's' : ''}${parts.rootVersion}`;
        counts.versions[label] = (counts.versions[label] ?? 0) + 1;
      });
      matches.forEach(({ meta, fingerprint }, i) => countMatch(status.matchIndexes[i], row, meta, fingerprint));
    }
    if (options.verify && indexes.length > 0) {
      (await staleIndexValues(crypto, model, indexes, rows)).forEach((count, i) => {
        status.indexes[i].stale = (status.indexes[i].stale ?? 0) + count;
      });
    }
    const failures = await valueFailures(crypto, toVerify);
    const unboundCandidates: { items: readonly DecryptItem[]; field: FieldStatus }[] = [];
    toVerify.forEach(({ items, field }, i) => {
      const failed = failures[i];
      if (failed === undefined) return;
      const code = isHushfieldError(failed) ? failed.code : 'UNKNOWN';
      const unreadable = field.unreadable as Record<string, number>;
      unreadable[code] = (unreadable[code] ?? 0) + 1;
      if (isOtherScope(failed)) field.otherScope = (field.otherScope ?? 0) + 1;
      else if (bindingMayBeMissing(model) && isHushfieldError(failed)) unboundCandidates.push({ items, field });
    });
    (await opensUnbound(crypto, unboundCandidates)).forEach((opens, i) => {
      const { field } = unboundCandidates[i];
      if (opens) field.unbound = (field.unbound ?? 0) + 1;
    });
  }
  bucketCounters.forEach((counter, i) => {
    if (counter) status.indexes[i].buckets = counter.report();
  });
  status.fields.forEach((field, i) => {
    field.versions = [...versionCounts[i].entries()]
      .map(([id, count]) => {
        const [keyId, version] = id.split('\u0000');
        const key = keys.get(id);
        return { scope: key?.scope ?? '?', keyId, version: Number(version), state: key?.state ?? 'unknown', count };
      })
      .sort((a, b) => b.count - a.count)
      .slice(0, 50);
  });
  return status;
}

function human(
  models: ModelStatus[],
  keyStore: KeyStoreSummary,
  keyring: KeyringHealth,
  unreadable?: number,
  stale?: number,
): string[] {
  const lines: string[] = [];
  for (const model of models) {
    lines.push(messages.status.model(model));
    for (const field of model.fields) {
      lines.push(messages.status.field(field));
      const scopes = new Set(field.versions.map((entry) => entry.scope));
      if (scopes.size > 5) lines.push(messages.status.manyScopes(scopes.size));
      else {
        for (const entry of field.versions) {
          lines.push(messages.status.scopeVersion(entry.scope, entry.version, entry.state, entry.count));
        }
      }
    }
    for (const index of model.indexes) {
      lines.push(messages.status.index(index));
      if (index.buckets) lines.push(messages.status.buckets(index.buckets));
    }
    for (const index of model.matchIndexes) lines.push(messages.status.matchIndex(index));
  }
  lines.push(messages.status.keyStore(keyStore));
  lines.push(messages.status.keyring(keyring));
  if (unreadable !== undefined) lines.push(messages.status.verified(unreadable));
  if (stale) lines.push(messages.status.staleIndexes(stale));
  return lines;
}

/** Per bound model with values sealed before its binding: how many, and what binds them. */
function unboundHints(models: readonly ModelStatus[]): string[] {
  return models.flatMap((model) => {
    const count = model.fields.reduce((n, field) => n + (field.unbound ?? 0), 0);
    return count > 0 ? [messages.run.hint(messages.status.unbound(model.model, count))] : [];
  });
}

/** Per model with values under another scope's key than their row's: how many, and what moves them. */
function otherScopeHints(models: readonly ModelStatus[]): string[] {
  return models.flatMap((model) => {
    const count = model.fields.reduce((n, field) => n + (field.otherScope ?? 0), 0);
    return count > 0 ? [messages.run.hint(messages.status.otherScope(model.model, count))] : [];
  });
}

/** Counts one row's match-index value: by index root version, missing, or under other parameters. */
function countMatch(
  counts: MatchIndexStatus,
  row: Record<string, unknown>,
  meta: MatchIndexMeta,
  fingerprint: number,
): void {
  const stored = row[meta.name];
  const hasSource = row[meta.source] !== null && row[meta.source] !== undefined;
  if (!Array.isArray(stored) || stored.length === 0) {
    if (hasSource) counts.missing++;
    return;
  }
  if (stored[0] !== fingerprint) {
    counts.otherParameters++;
    return;
  }
  // A value shorter than one n-gram has no positions: it counts under no version.
  const version = stored.length > 1 ? matchPositionVersion(stored[1]) : null;
  const label = stored.length === 1 ? 'empty' : version === null ? 'unparseable' : String(version);
  counts.versions[label] = (counts.versions[label] ?? 0) + 1;
}
