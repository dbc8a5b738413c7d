/**
 * Decides, for one batch of rows, what each row needs and computes its new stored values:
 * encrypt legacy plaintext (`migrating` fields), move envelopes to the scope's active key
 * version, import prisma-field-encryption values, rebuild missing or outdated blind indexes
 * (`reencrypt`), or write plaintext back (`decrypt`, for `readonly` fields). A row that is
 * rewritten gets one fresh DEK for all its encrypted fields. Nothing here touches the database.
 */
import type { BlindIndexSpec, FieldCrypto, FieldContext, HushfieldError } from '@hushfield/core';
import { blindIndexSpec } from '@hushfield/prisma';
import type { BlindIndexMeta, EncryptedFieldMeta, ModelMeta } from '@hushfield/prisma';
import { fieldContext } from './value-context';
import type { RowWrite } from './cas-writer';
import { isHushfieldError } from './output';
import { PfeImporter, isPfeValue } from './pfe-import';
import { keyOf } from './walker';

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
  /** Blind-index values rebuilt (missing or outdated). */
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
  /** Current version of each blind index (by index field name); null when unknown. */
  readonly indexVersions: ReadonlyMap<string, number | null>;
  /** Count what would change, without decrypting, encrypting or creating keys. */
  readonly dryRun?: boolean;
}

/** Fields the planner reads from each row (besides the key). */
export function plannedColumns(model: ModelMeta): string[] {
  return [
    ...Object.keys(model.encrypted),
    ...Object.keys(model.blindIndexes),
    ...(model.scopeField ? [model.scopeField] : []),
  ];
}

/** An empty tally. */
export function emptyTally(): PlanTally {
  return { encrypted: 0, moved: 0, imported: 0, indexed: 0, decrypted: 0, strictPlaintext: 0 };
}

type Source = 'envelope' | 'pfe' | 'plain';

interface RowWork {
  row: Record<string, unknown>;
  scope: string;
  fields: EncryptedFieldMeta[];
  rewrite: boolean;
  indexes: BlindIndexMeta[];
  plaintext: Map<string, string | HushfieldError>;
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

/** Plans one batch. Per-row problems become {@link RowFailure}s; keyring failures throw. */
export async function planBatch(rows: readonly Record<string, unknown>[], context: PlanContext): Promise<BatchPlan> {
  const { model, crypto, mode } = context;
  const tally = emptyTally();
  const failures: RowFailure[] = [];
  const active = new Map<string, Promise<{ keyId: string; version: number } | null>>();
  const activeKey = (scope: string) => {
    if (!active.has(scope)) active.set(scope, context.activeKey(scope));
    return active.get(scope) as Promise<{ keyId: string; version: number } | null>;
  };
  const indexVersions = context.indexVersions;
  const relevant = Object.values(model.encrypted).filter((field) => (mode === 'decrypt' ? field.mode === 'readonly' : field.mode !== 'readonly'));
  // Per batch, not per row: the specs and columns are the same for every row.
  const indexes: PlannedIndex[] = Object.values(model.blindIndexes).map((meta) => {
    const source = model.encrypted[meta.source];
    return { meta, spec: blindIndexSpec(model, meta), maintained: source !== undefined && source.mode !== 'readonly' };
  });
  const columns = plannedColumns(model);
  const works: RowWork[] = [];

  for (const row of rows) {
    const scopeValue = model.scopeField ? row[model.scopeField] : 'default';
    if (scopeValue === null || scopeValue === undefined || scopeValue === '') {
      failures.push({ key: rowKeyText(model, row), field: model.scopeField, code: 'HUSHFIELD_INVALID_ARGUMENT', message: 'scope field is empty' });
      continue;
    }
    let blocked: RowFailure | undefined;
    // Fields whose strict plaintext is left alone: their blind indexes are left alone too.
    let strictPlain: Set<string> | undefined;
    const work: RowWork = { row, scope: String(scopeValue), fields: [], rewrite: false, indexes: [], plaintext: new Map(), data: {}, reasons: emptyTally() };
    for (const field of relevant) {
      const value = row[field.name];
      if (value === null || value === undefined) continue;
      const source = classify(String(value), crypto);
      if (source === 'pfe' && !context.pfe) {
        // Never mistake another library's ciphertext for plaintext (it would be encrypted twice).
        blocked ??= { key: rowKeyText(model, row), field: field.name, code: 'HUSHFIELD_INVALID_ARGUMENT', message: 'holds a prisma-field-encryption value: pass --from-pfe-key to import it' };
        continue;
      }
      if (mode === 'decrypt') {
        if (source === 'plain') continue;
        work.fields.push(field);
        work.rewrite = true;
        work.reasons.decrypted++;
        continue;
      }
      if (source === 'plain' && field.mode !== 'migrating') {
        tally.strictPlaintext++;
        (strictPlain ??= new Set()).add(field.name);
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
        const described = describeSafely(crypto, String(value));
        if (described === null) {
          work.rewrite = true; // malformed: decryptMany below reports it as a failure
          continue;
        }
        let target: { keyId: string; version: number } | null;
        try {
          target = await activeKey(work.scope);
        } catch (error) {
          // A destroyed scope's rows cannot be rewritten; the keyring failing stops the batch.
          if (!isHushfieldError(error) || error.code === 'HUSHFIELD_KEYRING') throw error;
          blocked ??= { key: rowKeyText(model, row), field: field.name, code: error.code, message: error.message };
          continue;
        }
        if (!target || described.keyId !== target.keyId || described.version !== target.version) {
          work.rewrite = true;
          work.reasons.moved++;
        }
      }
    }
    if (blocked) {
      failures.push(blocked);
      continue;
    }
    if (mode === 'reencrypt') {
      for (const { meta: index, maintained } of indexes) {
        if (!maintained || strictPlain?.has(index.source)) continue;
        const sourceValue = row[index.source];
        const stored = row[index.name];
        if (sourceValue === null || sourceValue === undefined) {
          if (stored !== null && stored !== undefined) work.data[index.name] = null;
          continue;
        }
        const version = typeof stored === 'string' ? crypto.blindIndexVersion(stored) : null;
        const current = indexVersions.get(index.name) ?? null;
        // The index depends only on the plaintext and the index key, not on the scope key:
        // rewriting the envelope leaves a current index value valid.
        if (version === null || current === null || version !== current) work.indexes.push(index);
      }
    }
    if (work.rewrite || work.indexes.length > 0 || hasKeys(work.data)) works.push(work);
  }

  if (context.dryRun) {
    for (const work of works) {
      work.reasons.indexed += work.indexes.length;
      addTally(tally, work.reasons);
    }
    return { writes: [], failures, tally, wouldWrite: works.length };
  }

  await decryptSources(works, context);

  const specs = new Map(indexes.map((index) => [index.meta, index.spec]));
  const writes: RowWrite[] = [];
  for (const work of works) {
    const failure = unreadable(work.plaintext);
    if (failure) {
      failures.push({ key: rowKeyText(model, work.row), field: failure[0], code: failure[1].code, message: failure[1].message });
      continue;
    }
    if (work.rewrite && mode === 'decrypt') {
      for (const field of work.fields) work.data[field.name] = work.plaintext.get(field.name);
    } else if (work.rewrite) {
      let encryptor: Awaited<ReturnType<FieldCrypto['rowEncryptor']>>;
      try {
        encryptor = await crypto.rowEncryptor(work.scope);
      } catch (error) {
        if (!isHushfieldError(error) || error.code === 'HUSHFIELD_KEYRING') throw error;
        failures.push({ key: rowKeyText(model, work.row), code: error.code, message: error.message });
        continue;
      }
      try {
        for (const field of work.fields) work.data[field.name] = encryptor.encrypt(work.plaintext.get(field.name) as string, fieldContext(model, field, work.row));
      } finally {
        encryptor.dispose();
      }
    }
    for (const index of work.indexes) {
      const source = work.plaintext.get(index.source);
      if (typeof source !== 'string') continue;
      const value = await crypto.blindIndex(specs.get(index) as BlindIndexSpec, source);
      if (value === work.row[index.name]) continue;
      work.data[index.name] = value;
      work.reasons.indexed++;
    }
    if (!hasKeys(work.data)) continue;
    addTally(tally, work.reasons);
    const expected: Record<string, unknown> = {};
    for (const field of columns) expected[field] = work.row[field] ?? null;
    writes.push({ key: keyOf(work.row, model.idFields), expected, data: work.data });
  }
  return { writes, failures, tally, wouldWrite: writes.length };
}

/** Decrypts every source value a row's new values need (one `decryptMany` per batch). */
async function decryptSources(works: RowWork[], context: PlanContext): Promise<void> {
  const { model, crypto } = context;
  const items: { value: string; ctx: FieldContext }[] = [];
  const targets: { work: RowWork; field: string }[] = [];
  for (const work of works) {
    // Each source once, though a field may also feed a blind index.
    const needed: string[] = work.fields.map((field) => field.name);
    for (const index of work.indexes) if (!needed.includes(index.source)) needed.push(index.source);
    for (const name of needed) {
      const field = model.encrypted[name];
      const value = String(work.row[name]);
      const source = classify(value, crypto);
      if (source === 'plain') work.plaintext.set(name, value);
      else if (source === 'pfe') {
        try {
          work.plaintext.set(name, (context.pfe as PfeImporter).decrypt(value, { model: model.name, field: name, rowId: rowKeyText(model, work.row) }));
        } catch (error) {
          work.plaintext.set(name, error as HushfieldError);
        }
      } else {
        items.push({ value, ctx: fieldContext(model, field, work.row) });
        targets.push({ work, field: name });
      }
    }
  }
  if (items.length === 0) return;
  const results = await crypto.decryptMany(items);
  results.forEach((result, i) => {
    // A keyring failure (throttling, outage) stops the batch; the run retries or stops cleanly.
    if (typeof result !== 'string' && (!isHushfieldError(result) || result.code === 'HUSHFIELD_KEYRING')) throw result;
    targets[i].work.plaintext.set(targets[i].field, result);
  });
}

function classify(value: string, crypto: FieldCrypto): Source {
  if (crypto.isEnvelope(value)) return 'envelope';
  if (isPfeValue(value)) return 'pfe';
  return 'plain';
}

/** A row's primary key as failures name it (built only when needed: most rows never fail). */
function rowKeyText(model: ModelMeta, row: Record<string, unknown>): string {
  return JSON.stringify(keyOf(row, model.idFields));
}

/** The first source value that could not be read, if any. */
function unreadable(plaintext: Map<string, string | HushfieldError>): [string, HushfieldError] | undefined {
  for (const entry of plaintext) if (typeof entry[1] !== 'string') return entry as [string, HushfieldError];
  return undefined;
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

function describeSafely(crypto: FieldCrypto, value: string): { keyId: string; version: number } | null {
  try {
    return crypto.describe(value);
  } catch {
    return null;
  }
}

function addTally(into: PlanTally, from: PlanTally): void {
  into.encrypted += from.encrypted;
  into.moved += from.moved;
  into.imported += from.imported;
  into.indexed += from.indexed;
  into.decrypted += from.decrypted;
  into.strictPlaintext += from.strictPlaintext;
}
