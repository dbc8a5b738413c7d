/**
 * One model operation through the extension: guard (fail closed before any query), prepare its
 * arguments (wheres rewritten to blind indexes, write data encrypted: `prepare-operation.ts`),
 * make sure the selection carries what decryption needs, run the query, then read the result:
 * check the row a write landed on, remember a row's scope, decrypt, drop full-length index hits
 * whose plaintext differs, strip what was added. An update whose row moved to another scope
 * meanwhile is sent again.
 */
import type { FieldCrypto, IndexVersionsMark } from '@hushfield/core';
import { boundField } from '../../value-context';
import type { ModelMeta } from '../../metadata';
import type { ResultDecryptor } from '../read/decrypt-result';
import type { DataEncryptor } from '../write/encrypt-data';
import { rowMoved } from '../messages';
import { checkGivenContext, exactValue, KnownScopes, scopeValue } from '../write/seen-rows';
import { type Guarded, OperationPreparer, writesRelations } from './prepare-operation';
import { guardQuery } from './query-guard';
import { WhereRewriter } from './rewrite-where';
import { RowReader } from '../write/row-reader';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { ensureSelected, planAt, stripAdded } from '../read/selection';
import { withoutSkips } from './skip';
import { WrittenEnvelopes } from '../write/written-envelopes';
import { type AnyClient, anyTransaction, isBypassed, outsideTransaction } from '../transaction-context';
import { dropMismatches } from './truncated-lookup';
import { redactPlaintexts } from './redact-error';

/** What Prisma hands a `$allOperations` query extension. */
export interface QueryParams {
  model?: string;
  operation: string;
  args: Args;
  query: (args: Args) => Promise<unknown>;
  __internalParams?: { dataPath?: string[]; transaction?: { kind?: string } };
}

const RETURNS_ROWS = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'create',
  'createManyAndReturn',
  'update',
  'updateManyAndReturn',
  'upsert',
  'delete',
]);
/** Operations that only read: they seal nothing, so there are no envelopes of their own to recognize. */
const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany']);
/** Reads whose full-length blind-index hits are re-checked on the decrypted result (and dropped if they differ). */
const RECHECKED = new Set(['findUnique', 'findFirst', 'findMany']);
/** Operations returning one row, whose id and scope are remembered (see {@link KnownScopes}). */
const ONE_ROW = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'create',
  'update',
  'upsert',
]);

/**
 * Operations whose "nothing found" (null, or Prisma's P2025) can be a lookup through a blind
 * index that missed a version another process added: run once more when the versions read
 * again name a new one (see {@link OperationHandler.missedIndexVersion}).
 */
const MISS_REDONE = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'update', 'delete']);

/** How many times an update is read and sent while its row keeps moving to another scope. */
const MAX_ATTEMPTS = 3;

/** Prisma's "record not found" (P2025), e.g. an update whose where matched no row. */
function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2025';
}

/**
 * An update that moves its row to another scope returned the row still in the old one: the
 * database matched nothing under the guard (see `Guarded.movesTo`). Handled as Prisma's "not
 * found" (`P2025`), and never reaches the caller (a `RowMovedError` does, when retries run out).
 */
class MoveNotApplied extends Error {
  readonly code = 'P2025';
}

/** Runs model operations through hushfield. */
export class OperationHandler {
  private readonly reader: RowReader;
  private readonly known = new KnownScopes();
  private readonly preparer: OperationPreparer;

  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly decryptor: ResultDecryptor,
    private readonly base: AnyClient,
  ) {
    this.reader = new RowReader(view, decryptor, base);
    this.preparer = new OperationPreparer(view, crypto, decryptor, base, this.reader, this.known);
  }

  /**
   * The `$allOperations` hook.
   * @param recall - whether an update may take a row's scope from {@link KnownScopes}
   * @param attempt - how many times this operation was sent before (its row had moved)
   * @param refreshed - whether the index versions were read again after this operation found
   *   nothing (it is not run a third time)
   * @throws RowMovedError when an update's row (or a nested update's) moved to another scope
   *   between the read of its scope and the write, {@link MAX_ATTEMPTS} times
   */
  async handle(params: QueryParams, recall = true, attempt = 1, refreshed = false): Promise<unknown> {
    const model = this.view.model(params.model);
    if (isBypassed() || model === undefined || !this.view.isSensitive(model)) return params.query(params.args);
    // Inside a transaction callback (of this client, or one sharing its crypto, whose key store
    // joins it) but not sent through the transaction client: Prisma runs it outside the
    // transaction, which may have ended by then.
    if (params.__internalParams?.transaction?.kind !== 'itx' && anyTransaction() !== undefined) {
      return outsideTransaction(() => this.handle(params, recall, attempt, refreshed));
    }
    const { operation } = params;
    // `Prisma.skip` means "not given": taken out before anything reads the arguments.
    const args = withoutSkips(params.args ?? {});
    const batch = params.__internalParams?.transaction?.kind === 'batch';
    guardQuery(this.view, model, operation, args, batch);
    const rewriter = new WhereRewriter(this.view, this.crypto, (m, column, candidates, also) =>
      this.reader.storedIndexValue(m, column, candidates, also),
    );
    // The index versions known before the lookup hashes its values (see missedIndexVersion).
    const versions = this.crypto.indexVersionsMark();
    const returnsRows = RETURNS_ROWS.has(operation);
    // A write that returns rows gets its own envelopes back: they are not decrypted again.
    const written = returnsRows && !READS.has(operation) ? new WrittenEnvelopes() : undefined;
    const dataPath = params.__internalParams?.dataPath ?? [];
    const fluent = dataPath.length > 0;
    let prepared: Awaited<ReturnType<OperationPreparer['prepare']>>;
    try {
      prepared = await this.preparer.prepare(model, operation, args, rewriter, { batch, fluent, written, recall });
    } catch (error) {
      // Its reads take the caller's where: one Prisma refuses is quoted in Prisma's error.
      throw redactPlaintexts(error, this.view, params.args, model);
    }
    if ('result' in prepared) return prepared.result;
    const { given, recalled, guarded } = prepared;
    // Full-length index hits of a read are compared with the decrypted values (see dropMismatches).
    const recheck =
      RECHECKED.has(operation) && !fluent && rewriter.fullLength.length > 0 ? rewriter.fullLength : undefined;
    const moveCheck = guarded?.movesTo !== undefined && !batch && !fluent ? guarded.movesTo : undefined;
    const extra = [
      ...(given?.fields ?? []),
      ...(recheck === undefined ? [] : this.recheckFields(model, recheck)),
      ...(moveCheck === undefined ? [] : [moveCheck.field]),
    ];
    const { args: queryArgs, strip } = returnsRows
      ? ensureSelected(this.view, model, prepared.args, extra)
      : { args: prepared.args, strip: undefined };
    let result: unknown;
    try {
      result = await params.query(queryArgs);
      // A move the database did not apply (see Guarded.movesTo) is handled as Prisma's "not found".
      if (moveCheck !== undefined && isPlainObject(result) && String(result[moveCheck.field]) !== moveCheck.scope)
        throw new MoveNotApplied();
    } catch (error) {
      // A shape the extension does not rewrite reaches Prisma as written: its error must not quote it.
      if (!isNotFound(error)) throw redactPlaintexts(error, this.view, params.args, model);
      if (recalled !== undefined) {
        // The row moved to another scope (or is gone): forget it and read it the usual way.
        this.known.forget(model, recalled);
        return this.handle(params, false);
      }
      // Not in a batch, which cannot be sent again, nor when no row read first has moved since.
      if (batch) throw error;
      // In an interactive transaction Prisma runs a write's nested parts on the transaction's
      // connection without a savepoint: those that ran before the guard failed (a nested row's,
      // or the operation's own after a nested create its foreign key needs) stay applied, and
      // sending the write again would apply them twice. The caller's transaction must roll back.
      const interactive = params.__internalParams?.transaction?.kind === 'itx';
      const written = args.data ?? args.update;
      const nestedWrites = isPlainObject(written) && writesRelations(model, written);
      if (
        !(error instanceof MoveNotApplied) &&
        !(interactive && nestedWrites) &&
        (await this.missedIndexVersion(operation, rewriter, refreshed, versions))
      ) {
        return this.handle(params, recall, attempt, true);
      }
      const moved = await this.movedRow(model, guarded, prepared.encryptor);
      if (moved === undefined) throw error instanceof MoveNotApplied ? rowMoved(model.name, operation, attempt) : error;
      if (attempt >= MAX_ATTEMPTS || (interactive && nestedWrites)) throw rowMoved(moved.name, operation, attempt);
      return this.handle(params, false, attempt + 1);
    }
    if (result === null && !batch && (await this.missedIndexVersion(operation, rewriter, refreshed, versions))) {
      return this.handle(params, recall, attempt, true);
    }
    if (!returnsRows) return result;
    if (given !== undefined) {
      const written = operation === 'upsert' ? 'update' : 'data';
      await checkGivenContext({
        view: this.view,
        base: this.base,
        encryptor: prepared.encryptor,
        model,
        given,
        data: args[written] as Args,
        sent: queryArgs[written] as Args,
        row: result,
      });
    }
    if (!fluent && ONE_ROW.has(operation)) this.remember(model, result);
    const target = this.modelAt(model, dataPath);
    // A delete has removed its row by now: what it returns never turns that into a failure.
    if (target !== undefined) await this.decryptor.decrypt(target, result, written, operation === 'delete');
    if (recheck !== undefined) result = dropMismatches(result, recheck);
    const plan = strip === undefined ? undefined : planAt(strip, dataPath);
    if (plan !== undefined) stripAdded(result, plan);
    return result;
  }

  /**
   * Whether `operation`, which found nothing through a blind index, may have missed rows indexed
   * under a version another process added since this one last read the live versions (the
   * index root's for a shared index, the scope key's for a per-scope one; their cache outlives a
   * rotation elsewhere): they are read again (at most once a second, per scope for per-scope
   * indexes, whatever the number of misses; see `FieldCrypto.refreshIndexVersions`), and when a new one
   * appeared the operation is worth running again, once. New since `versions` (known before the
   * lookup hashed its values), not since the last read: a lookup in flight while another's miss
   * (or an expiry) read the versions again hashed under the old list. A lookup that found its
   * row costs nothing more.
   */
  private async missedIndexVersion(
    operation: string,
    rewriter: WhereRewriter,
    refreshed: boolean,
    versions: IndexVersionsMark,
  ): Promise<boolean> {
    if (refreshed || !MISS_REDONE.has(operation)) return false;
    let again = rewriter.sharedIndex && (await this.crypto.refreshIndexVersions(versions));
    // Per-scope indexes, after a rotation of their scope's key elsewhere: the same, per scope.
    for (const [scope, mark] of rewriter.scopedIndexes ?? []) {
      if (await this.crypto.refreshScopeIndexVersions(scope, mark)) again = true;
    }
    return again;
  }

  /**
   * After a write reported "not found": a row it was narrowed to (the operation's own, a nested
   * update's, or a row its creates took a value from) that another client has moved (or
   * created) since it was read, or `undefined` when none has (the row is gone, or "not found"
   * came from elsewhere).
   */
  private async movedRow(
    model: ModelMeta,
    guarded: Guarded | undefined,
    encryptor: DataEncryptor,
  ): Promise<ModelMeta | undefined> {
    if (guarded !== undefined && (await this.reader.moved(model, guarded.where, guarded.guard, guarded.absent))) {
      return model;
    }
    for (const { model: other, guard } of encryptor.guarded) {
      if (guard.row !== undefined && (await this.reader.moved(other, guard.row, guard.values, guard.absent))) {
        return other;
      }
    }
    return undefined;
  }

  /** The fields a re-check reads: the conditions' source fields, and the id they are bound to. */
  private recheckFields(model: ModelMeta, conditions: readonly { field: string }[]): string[] {
    const fields = conditions.map((condition) => condition.field);
    const bound = boundField(model);
    if (bound !== undefined) fields.push(bound);
    return fields;
  }

  /** Remembers the id and scope of a one-row result of a scoped model. */
  private remember(model: ModelMeta, row: unknown): void {
    const id = this.view.idField(model);
    if (id === undefined || model.scopeField === undefined || !isPlainObject(row)) return;
    const rowId = exactValue(row[id]);
    const scope = scopeValue(row[model.scopeField]);
    if (rowId !== undefined && scope !== undefined) this.known.remember(model, rowId, scope);
  }

  /** The model a fluent-API data path (`['select', 'posts']`) leads to. */
  private modelAt(model: ModelMeta, dataPath: readonly string[]): ModelMeta | undefined {
    let current: ModelMeta | undefined = model;
    for (let i = 1; i < dataPath.length && current !== undefined; i += 2) {
      current = this.view.relationTarget(current, dataPath[i]);
    }
    return current;
  }
}
