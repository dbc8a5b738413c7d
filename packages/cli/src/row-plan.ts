/**
 * Decides, for one batch of rows, what each row needs and computes its new stored values:
 * encrypt legacy plaintext (`migrating` fields), move envelopes to the scope's active key
 * version, import prisma-field-encryption values, rebuild missing or outdated blind indexes
 * (`reencrypt`), or write plaintext back (`decrypt`, for `readonly` fields). A row that is
 * rewritten gets one fresh DEK for all its encrypted fields. Nothing here touches the database.
 */
import { Buffer } from 'node:buffer';
import type { BlindIndexSpec, DecryptItem, FieldCrypto, HushfieldError, MatchIndexSpec } from '@hushfield/core';
import { DecryptionError, matchFingerprint, matchPositionVersion, normalizerVersion } from '@hushfield/core';
import { blindIndexSpec, isPerScopeIndex, matchIndexSpec, sealTyped, typedItems, typedPlain } from '@hushfield/prisma';
import type { BlindIndexMeta, EncryptedFieldMeta, MatchIndexMeta, ModelMeta } from '@hushfield/prisma';
import { classifyStored, describeStored, fieldContext, type StoredSource } from './value-context';
import type { RowWrite } from './cas-writer';
import { isHushfieldError } from './output';
import { messages } from './messages';
import type { PfeImporter } from './pfe-import';
import { encodeKey, keyOf } from './walker';

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
}

/** Fields the planner reads from each row (besides the key). */
export function plannedColumns(model: ModelMeta): string[] {
  return [
    ...Object.keys(model.encrypted),
    ...Object.keys(model.blindIndexes),
    ...Object.keys(model.matchIndexes ?? {}),
    ...(model.scopeField ? [model.scopeField] : []),
  ];
}

/** An empty tally. */
export function emptyTally(): PlanTally {
  return { encrypted: 0, moved: 0, imported: 0, indexed: 0, decrypted: 0, strictPlaintext: 0 };
}

interface RowWork {
  row: Record<string, unknown>;
  scope: string;
  fields: EncryptedFieldMeta[];
  rewrite: boolean;
  indexes: BlindIndexMeta[];
  matches: PlannedMatch[];
  /** Plaintext by field: a string, or the value of a Json, Bytes or String[] field; or why it could not be read. */
  plaintext: Map<string, unknown>;
  data: Record<string, unknown>;
  reasons: PlanTally;
}

/** A blind index the plan may rebuild, with what the batch needs of it computed once. */
interface PlannedIndex {
  readonly meta: BlindIndexMeta;
  readonly spec: BlindIndexSpec;
  /** Whether its source field is one `reencrypt` maintains (encrypted, not `readonly`). */
  readonly maintained: boolean;
}

/** A match index the plan may rebuild, with its spec and fingerprint computed once per batch. */
interface PlannedMatch {
  readonly meta: MatchIndexMeta;
  readonly spec: MatchIndexSpec;
  readonly fingerprint: number;
  readonly maintained: boolean;
}

/** What classifying a batch found: the rows to rewrite, and the rows that cannot be handled. */
interface ClassifiedBatch {
  readonly works: RowWork[];
  readonly failures: RowFailure[];
  readonly tally: PlanTally;
  readonly indexes: PlannedIndex[];
}

/** What every row of a batch is classified against, computed once per batch. */
interface BatchScope {
  readonly context: PlanContext;
  /** Encrypted fields the mode acts on (`readonly` ones for `decrypt`, the others for `reencrypt`). */
  readonly relevant: EncryptedFieldMeta[];
  readonly indexes: PlannedIndex[];
  readonly matches: PlannedMatch[];
  /** The active key of a scope, asked once per batch. */
  readonly activeKey: (scope: string) => Promise<{ keyId: string; version: number } | null>;
  /** Whether a sealed value must be under its row's scope key (see {@link checksScope}). */
  readonly checkScope: boolean;
  readonly tally: PlanTally;
}

/** Plans one batch. Per-row problems become {@link RowFailure}s; keyring failures throw. */
export async function planBatch(rows: readonly Record<string, unknown>[], context: PlanContext): Promise<BatchPlan> {
  const batch = await classifyBatch(rows, context);
  if (context.dryRun) {
    for (const work of batch.works) {
      work.reasons.indexed += work.indexes.length + work.matches.length;
      addTally(batch.tally, work.reasons);
    }
    return { writes: [], failures: batch.failures, tally: batch.tally, wouldWrite: batch.works.length };
  }
  await decryptSources(batch.works, context);
  const writes = await computeWrites(batch, context);
  return { writes, failures: batch.failures, tally: batch.tally, wouldWrite: writes.length };
}

/** Decides what each row needs, without decrypting or encrypting anything. */
async function classifyBatch(rows: readonly Record<string, unknown>[], context: PlanContext): Promise<ClassifiedBatch> {
  const { model, mode } = context;
  const active = new Map<string, Promise<{ keyId: string; version: number } | null>>();
  const scope: BatchScope = {
    context,
    relevant: Object.values(model.encrypted).filter((field) =>
      mode === 'decrypt' ? field.mode === 'readonly' : field.mode !== 'readonly',
    ),
    // Per batch, not per row: the specs and columns are the same for every row.
    indexes: Object.values(model.blindIndexes).map((meta) => {
      const source = model.encrypted[meta.source];
      return {
        meta,
        spec: blindIndexSpec(model, meta),
        maintained: source !== undefined && source.mode !== 'readonly',
      };
    }),
    matches: Object.values(model.matchIndexes ?? {}).map((meta) => {
      const source = model.encrypted[meta.source];
      const spec = matchIndexSpec(model, meta);
      return {
        meta,
        spec,
        fingerprint: matchFingerprint(spec),
        maintained: source !== undefined && source.mode !== 'readonly',
      };
    }),
    activeKey: (name) => {
      if (!active.has(name)) active.set(name, context.activeKey(name));
      return active.get(name) as Promise<{ keyId: string; version: number } | null>;
    },
    checkScope: checksScope(context),
    tally: emptyTally(),
  };
  const works: RowWork[] = [];
  const failures: RowFailure[] = [];
  for (const row of rows) {
    const outcome = await classifyRow(row, scope);
    if (outcome === null) continue;
    if ('code' in outcome) failures.push(outcome);
    else works.push(outcome);
  }
  return { works, failures, tally: scope.tally, indexes: scope.indexes };
}

/** The work one row needs, a failure when it cannot be handled, or null when it is current. */
async function classifyRow(row: Record<string, unknown>, batch: BatchScope): Promise<RowWork | RowFailure | null> {
  const { model, crypto, mode, dryRun } = batch.context;
  const scopeValue = model.scopeField ? row[model.scopeField] : 'default';
  if (scopeValue === null || scopeValue === undefined || scopeValue === '') {
    return {
      key: rowKeyText(model, row),
      field: model.scopeField,
      code: 'HUSHFIELD_INVALID_ARGUMENT',
      message: messages.migrate.emptyScope(),
    };
  }
  let blocked: RowFailure | undefined;
  // Fields whose strict plaintext is left alone: their blind indexes are left alone too.
  const strictPlain = new Set<string>();
  const work: RowWork = {
    row,
    scope: String(scopeValue),
    fields: [],
    rewrite: false,
    indexes: [],
    matches: [],
    plaintext: new Map(),
    data: {},
    reasons: emptyTally(),
  };
  for (const field of batch.relevant) {
    const value = row[field.name];
    if (value === null || value === undefined) continue;
    const source = classifyStored(field, value, crypto);
    if (source === 'pfe' && !batch.context.pfe) {
      // Never mistake another library's ciphertext for plaintext (it would be encrypted twice).
      blocked ??= {
        key: rowKeyText(model, row),
        field: field.name,
        code: 'HUSHFIELD_INVALID_ARGUMENT',
        message: messages.migrate.pfeWithoutKey(),
      };
      continue;
    }
    if (mode === 'decrypt') {
      if (source === 'plain') continue;
      if (batch.checkScope && dryRun && source === 'envelope') {
        // A dry run opens nothing: the scope check the run's decrypt makes is made here instead.
        const refused = await needsMove(field, value, work.scope, batch);
        if (typeof refused === 'object') {
          blocked ??= { key: rowKeyText(model, row), field: field.name, ...refused };
          continue;
        }
      }
      work.fields.push(field);
      work.rewrite = true;
      work.reasons.decrypted++;
      continue;
    }
    if (source === 'plain' && field.mode !== 'migrating') {
      batch.tally.strictPlaintext++;
      strictPlain.add(field.name);
      continue;
    }
    work.fields.push(field);
    if (source === 'plain') {
      work.rewrite = true;
      work.reasons.encrypted++;
    } else if (source === 'pfe') {
      work.rewrite = true;
      work.reasons.imported++;
    } else {
      const moved = await needsMove(field, value, work.scope, batch);
      if (typeof moved === 'object') {
        blocked ??= { key: rowKeyText(model, row), field: field.name, ...moved };
        continue;
      }
      if (moved) {
        work.rewrite = true;
        // A malformed envelope is rewritten too: decryptMany then reports it as a failure.
        if (moved === 'moved') work.reasons.moved++;
      }
    }
  }
  if (blocked) return blocked;
  if (mode === 'reencrypt') {
    await staleIndexes(work, batch, strictPlain);
    staleMatches(work, batch, strictPlain);
  }
  return work.rewrite || work.indexes.length > 0 || work.matches.length > 0 || hasKeys(work.data) ? work : null;
}

/**
 * Whether an envelope must move to its scope's active key version: `'moved'`, `'malformed'`
 * (rewritten so that decrypting it reports the failure), false when current, or the error
 * of a scope that cannot be written (destroyed) or, when the batch checks scopes, of a value
 * under another scope's key. A keyring failure throws: it stops the batch.
 */
async function needsMove(
  field: EncryptedFieldMeta,
  value: unknown,
  scope: string,
  batch: BatchScope,
): Promise<'moved' | 'malformed' | false | { code: string; message: string }> {
  const described = describeStored(field, value, batch.context.crypto);
  if (described === null) return 'malformed';
  if (described.length === 0) return false;
  let target: { keyId: string; version: number } | null;
  try {
    target = await batch.activeKey(scope);
  } catch (error) {
    if (!isHushfieldError(error) || isOutage(error)) throw error;
    return { code: error.code, message: error.message };
  }
  // Every version of a scope's key has the scope's key id: another id is another scope's key
  // (and, while the scope has no key, any id is).
  if (batch.checkScope && described.some((named) => named.keyId !== target?.keyId)) {
    return { code: 'HUSHFIELD_DECRYPTION_FAILED', message: messages.migrate.otherScope(scope) };
  }
  const stale = described.some((named) => named.keyId !== target?.keyId || named.version !== target.version);
  return !target || stale ? 'moved' : false;
}

/**
 * Whether the plan checks that a model's sealed values are under their row's scope key: for a
 * scoped model, unless `--rescope` (an unscoped model's rows are all in scope `default`, as the
 * extension reads them).
 */
function checksScope(context: PlanContext): boolean {
  return context.model.scopeField !== undefined && context.rescope !== true;
}

/**
 * Adds to `work` the blind indexes `reencrypt` must rebuild (missing, outdated, or keyed the
 * other way than the schema says: shared ↔ per scope), or clear. A per-scope index is current
 * under the active version of the row's scope key; a scope that cannot be written (destroyed)
 * leaves it alone. A keyring failure throws: it stops the batch.
 */
async function staleIndexes(work: RowWork, batch: BatchScope, strictPlain: ReadonlySet<string>): Promise<void> {
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
function staleMatches(work: RowWork, batch: BatchScope, strictPlain: ReadonlySet<string>): void {
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

/** The active version of `scope`'s key (null when it has none yet), or `undefined` when it cannot be written. */
async function activeScopeVersion(scope: string, batch: BatchScope): Promise<number | null | undefined> {
  try {
    return (await batch.activeKey(scope))?.version ?? null;
  } catch (error) {
    if (!isHushfieldError(error) || isOutage(error)) throw error;
    return undefined;
  }
}

/** Computes the new stored values of every classified row whose sources could be read. */
async function computeWrites(batch: ClassifiedBatch, context: PlanContext): Promise<RowWrite[]> {
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
      try {
        for (const field of work.fields) {
          const ctx = fieldContext(model, field, work.row);
          work.data[field.name] = sealTyped(encryptor, field, work.plaintext.get(field.name), ctx);
        }
      } finally {
        encryptor.dispose();
      }
    }
    const indexed = await indexValues(work, specs, crypto);
    if (indexed !== undefined) {
      // The row is left whole (no envelope rewritten without its index).
      batch.failures.push({ key: rowKeyText(model, work.row), code: indexed.code, message: indexed.message });
      continue;
    }
    for (const planned of work.matches) {
      const source = work.plaintext.get(planned.meta.source);
      if (typeof source !== 'string') continue;
      work.data[planned.meta.name] = await crypto.matchIndex(planned.spec, source);
      work.reasons.indexed++;
    }
    if (!hasKeys(work.data)) continue;
    addTally(batch.tally, work.reasons);
    const expected: Record<string, unknown> = {};
    for (const field of columns) expected[field] = work.row[field] ?? null;
    writes.push({ key: keyOf(work.row, model.idFields), expected, data: work.data });
  }
  return writes;
}

/**
 * Puts the rebuilt blind indexes of `work` into its data (per-scope ones under the row's
 * scope), or returns why one cannot be computed (its scope cannot be written). A keyring
 * failure throws: it stops the batch.
 */
async function indexValues(
  work: RowWork,
  specs: ReadonlyMap<BlindIndexMeta, BlindIndexSpec>,
  crypto: FieldCrypto,
): Promise<{ code: string; message: string } | undefined> {
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
  return undefined;
}

/** Decrypts every source value a row's new values need (one `decryptMany` per batch). */
async function decryptSources(works: RowWork[], context: PlanContext): Promise<void> {
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
  for (const result of results) {
    // A keyring failure (throttling, outage) stops the batch; the run retries or stops cleanly.
    if (
      typeof result !== 'string' &&
      !Buffer.isBuffer(result) &&
      (!isHushfieldError(result) || result.code === 'HUSHFIELD_KEYRING')
    )
      throw result;
  }
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

/** A value refused for its scope, told as the plan tells it (see {@link needsMove}); other errors as they are. */
function inCliWords(error: HushfieldError, model: ModelMeta, field: EncryptedFieldMeta): HushfieldError {
  if (!(error instanceof DecryptionError) || error.otherScope === undefined) return error;
  const { otherScope } = error;
  return new DecryptionError(
    messages.migrate.otherScope(otherScope),
    { model: model.name, field: field.name },
    { cause: error, otherScope },
  );
}

/** A row's primary key as failures name it (built only when needed: most rows never fail). */
function rowKeyText(model: ModelMeta, row: Record<string, unknown>): string {
  return encodeKey(keyOf(row, model.idFields));
}

/** The first source value that could not be read, if any. */
function unreadable(plaintext: Map<string, unknown>): [string, HushfieldError] | undefined {
  for (const entry of plaintext) if (isHushfieldError(entry[1])) return entry as [string, HushfieldError];
  return undefined;
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

function addTally(into: PlanTally, from: PlanTally): void {
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
function isOutage(error: HushfieldError): boolean {
  return error.code === 'HUSHFIELD_KEYRING' || error.code === 'HUSHFIELD_KEY_STORE';
}
