/**
 * The first stage of a batch plan: decides what each row needs (which encrypted fields to
 * encrypt, move, import or write back, which blind and match indexes to rebuild or clear) and
 * which rows cannot be handled, without decrypting or encrypting anything.
 */
import type { BlindIndexSpec, FieldCrypto, KeyVersionRef, MatchIndexSpec } from '@hushfield/core';
import { matchFingerprint } from '@hushfield/core';
import { bindingMayBeMissing, blindIndexSpec, matchIndexSpec } from '@hushfield/prisma';
import type { BlindIndexMeta, EncryptedFieldMeta, MatchIndexMeta, ModelMeta } from '@hushfield/prisma';
import { classifyStored, describeStored } from './value-context';
import { isHushfieldError } from './output';
import { messages } from './messages';
import { emptyTally, isOutage, rowKeyText } from './row-plan';
import type { PlanContext, PlanTally, RowFailure } from './row-plan';
import { everyIndex, recheckedIndexes, staleIndexes, staleMatches } from './row-plan-indexes';

/** The work one row needs: what classifying it found, then its plaintext and new stored values. */
export interface RowWork {
  row: Record<string, unknown>;
  scope: string;
  fields: EncryptedFieldMeta[];
  rewrite: boolean;
  /**
   * Whether a value of the row is sealed under another scope's key than its row's (moved by
   * `--rescope`): its per-scope blind indexes are keyed by that scope's key too and move with it.
   */
  rescoped: boolean;
  indexes: BlindIndexMeta[];
  matches: PlannedMatch[];
  /** Plaintext by field: a string, or the value of a Json, Bytes or String[] field; or why it could not be read. */
  plaintext: Map<string, unknown>;
  data: Record<string, unknown>;
  reasons: PlanTally;
  /**
   * The scope-key versions the row's stored envelopes name, every encrypted field's (what its
   * write is checked against: none may have been shredded since); empty in a dry run.
   */
  keys: KeyVersionRef[];
}

/** A blind index the plan may rebuild, with what the batch needs of it computed once. */
export interface PlannedIndex {
  readonly meta: BlindIndexMeta;
  readonly spec: BlindIndexSpec;
  /** Whether its source field is one `reencrypt` maintains (encrypted, not `readonly`). */
  readonly maintained: boolean;
}

/** A match index the plan may rebuild, with its spec and fingerprint computed once per batch. */
export interface PlannedMatch {
  readonly meta: MatchIndexMeta;
  readonly spec: MatchIndexSpec;
  readonly fingerprint: number;
  readonly maintained: boolean;
}

/** What classifying a batch found: the rows to rewrite, and the rows that cannot be handled. */
export interface ClassifiedBatch {
  readonly works: RowWork[];
  readonly failures: RowFailure[];
  readonly tally: PlanTally;
  readonly indexes: PlannedIndex[];
}

/** What every row of a batch is classified against, computed once per batch. */
export interface BatchScope {
  readonly context: PlanContext;
  /** Encrypted fields the mode acts on (`readonly` ones for `decrypt`, the others for `reencrypt`). */
  readonly relevant: EncryptedFieldMeta[];
  readonly indexes: PlannedIndex[];
  readonly matches: PlannedMatch[];
  /** The active key of a scope, asked once per batch. */
  readonly activeKey: (scope: string) => Promise<{ keyId: string; version: number } | null>;
  /** Whether a sealed value must be under its row's scope key (see {@link checksScope}). */
  readonly checkScope: boolean;
  /** Whether every envelope of the model is sealed again, bound (see {@link rebinds}). */
  readonly rebind: boolean;
  readonly tally: PlanTally;
}

/** Decides what each row needs, without decrypting or encrypting anything. */
export async function classifyBatch(
  rows: readonly Record<string, unknown>[],
  context: PlanContext,
): Promise<ClassifiedBatch> {
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
    rebind: rebinds(context),
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
    rescoped: false,
    indexes: [],
    matches: [],
    plaintext: new Map(),
    data: {},
    reasons: emptyTally(),
    keys: [],
  };
  // Each envelope's key references, parsed once: to classify the row and to check its write.
  const described = new Map<string, KeyVersionRef[] | null>();
  const describe = (field: EncryptedFieldMeta, value: unknown) => {
    if (!described.has(field.name)) described.set(field.name, describeStored(field, value, crypto));
    return described.get(field.name) as KeyVersionRef[] | null;
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
        const refused = await needsMove(describe(field, value), work.scope, batch);
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
      const moved = await needsMove(describe(field, value), work.scope, batch);
      if (typeof moved === 'object') {
        blocked ??= { key: rowKeyText(model, row), field: field.name, ...moved };
        continue;
      }
      if (batch.rebind && moved === false) {
        // Current, but perhaps sealed before the binding: sealed again, bound.
        work.rewrite = true;
        work.reasons.moved++;
      } else if (moved) {
        work.rewrite = true;
        if (moved === 'rescoped') work.rescoped = true;
        // A malformed envelope is rewritten too: decryptMany then reports it as a failure.
        if (moved !== 'malformed') work.reasons.moved++;
      }
    }
  }
  if (blocked) return blocked;
  if (mode === 'reencrypt') {
    await staleIndexes(work, batch, strictPlain);
    staleMatches(work, batch, strictPlain);
    // A dry run opens nothing, so it cannot tell whether a rewritten row's index values match.
    if (batch.context.reindex && !dryRun) await everyIndex(work, batch, strictPlain);
    else if (work.rewrite && !dryRun) recheckedIndexes(work, batch);
  }
  if (!(work.rewrite || work.indexes.length > 0 || work.matches.length > 0 || hasKeys(work.data))) return null;
  if (!dryRun) work.keys = keyReferences(model, row, crypto, describe);
  return work;
}

/** The scope-key versions the envelopes of every encrypted field of `row` name (malformed ones name none). */
function keyReferences(
  model: ModelMeta,
  row: Record<string, unknown>,
  crypto: FieldCrypto,
  describe: (field: EncryptedFieldMeta, value: unknown) => KeyVersionRef[] | null,
): KeyVersionRef[] {
  const keys: KeyVersionRef[] = [];
  for (const field of Object.values(model.encrypted)) {
    const value = row[field.name];
    if (value === null || value === undefined) continue;
    if (classifyStored(field, value, crypto) !== 'envelope') continue;
    keys.push(...(describe(field, value) ?? []));
  }
  return keys;
}

/**
 * Whether an envelope (the key versions it names, `describeStored`) must move to its scope's
 * active key version: `'moved'`, `'rescoped'` (it is under another scope's key, which only a
 * `--rescope` run moves), `'malformed'` (rewritten so that decrypting it reports the
 * failure; `described` is null), false when current, or the error
 * of a scope that cannot be written (destroyed) or, when the batch checks scopes, of a value
 * under another scope's key. A keyring failure throws: it stops the batch.
 */
async function needsMove(
  described: readonly KeyVersionRef[] | null,
  scope: string,
  batch: BatchScope,
): Promise<'moved' | 'rescoped' | 'malformed' | false | { code: string; message: string }> {
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
  // Under another scope's key (`--rescope`): moved to the row's scope, per-scope indexes too.
  if (described.some((named) => named.keyId !== target?.keyId)) return 'rescoped';
  const stale = described.some((named) => named.version !== target?.version);
  return !target || stale ? 'moved' : false;
}

/**
 * Whether the plan checks that a model's sealed values are under their row's scope key: for a
 * scoped model, unless `--rescope` (an unscoped model's rows are all in scope `default`, as the
 * extension reads them).
 */
export function checksScope(context: PlanContext): boolean {
  return context.model.scopeField !== undefined && context.rescope !== true;
}

/**
 * Whether the plan opens values sealed without the model's binding (`--rebind`, see
 * `PlanContext.rebind`): for a model with `@encryption(bind: ...)` or bound to an id that is a
 * foreign key, and only then (any other model bound to its id has held bound values from its
 * first write, and a copy between its rows must stay refused).
 */
export function rebinds(context: PlanContext): boolean {
  return context.rebind === true && bindingMayBeMissing(context.model);
}

/** Whether `record` has an own key. */
export function hasKeys(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}
