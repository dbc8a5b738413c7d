/**
 * One model operation through the extension: guard (fail closed before any query), rewrite
 * wheres to blind indexes, encrypt write data, make sure the selection carries what
 * decryption needs, run the query, decrypt the result and strip what was added.
 */
import type { FieldCrypto } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import type { ResultDecryptor } from '../read/decrypt-result';
import { DataEncryptor } from '../write/encrypt-data';
import { rowMoved, unsupported } from '../messages';
import {
  checkGivenContext,
  exactValue,
  type GivenContext,
  KnownScopes,
  rememberedContext,
  scopeValue,
} from '../write/seen-rows';
import { asList, operationWherePosition, SELECTION_KEYS } from './arg-shapes';
import { guardQuery } from './query-guard';
import { WhereRewriter } from './rewrite-where';
import { RowReader } from '../write/row-reader';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { ensureSelected, planAt, stripAdded } from '../read/selection';
import { withoutSkips } from './skip';
import { WrittenEnvelopes } from '../write/written-envelopes';
import { type AnyClient, isBypassed } from '../transaction-context';
import { dropMismatches, narrowTruncated } from './truncated-lookup';
import { updateEachRow } from '../write/update-each-row';

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
/** Reads whose full-length blind-index hits are re-checked on the decrypted result (and dropped if they differ). */
const RECHECKED = new Set(['findUnique', 'findFirst', 'findMany']);
/** Reads that must throw when nothing matches: their full-length hits are re-checked before the query. */
const RECHECKED_FIRST = new Set(['findUniqueOrThrow', 'findFirstOrThrow']);
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

/** How many times an update is read and sent while its row keeps moving to another scope. */
const MAX_ATTEMPTS = 3;

/** An update narrowed to the id and scope read before it (see {@link RowReader.context}). */
interface Guarded {
  /** The where without the guard: names the row wherever it moved. */
  readonly where: Args;
  readonly guard: Args;
  /** The read found no row: the guard matches none, and a row found now was created since. */
  readonly absent?: true;
}

/** An operation's rewritten arguments, and what its result is checked or retried by. */
interface Prepared {
  readonly args: Args;
  readonly given?: GivenContext;
  readonly recalled?: string;
  readonly guarded?: Guarded;
  readonly encryptor: DataEncryptor;
}

/** One write operation being prepared: its arguments, their rewritten copy and its encryptor. */
interface WriteStep {
  readonly model: ModelMeta;
  readonly args: Args;
  /** The rewritten arguments being built (modified in place). */
  readonly out: Args;
  readonly encryptor: DataEncryptor;
  readonly batch: boolean;
  readonly fluent: boolean;
  /** Whether an update may take a row's scope from {@link KnownScopes}. */
  readonly recall: boolean;
}

/** Prisma's "record not found" (P2025), e.g. an update whose where matched no row. */
function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2025';
}

/** Runs model operations through hushfield. */
export class OperationHandler {
  private readonly reader: RowReader;
  private readonly known = new KnownScopes();

  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly decryptor: ResultDecryptor,
    private readonly base: AnyClient,
  ) {
    this.reader = new RowReader(view, decryptor, base);
  }

  private encryptorFor(rewriter: WhereRewriter, written?: WrittenEnvelopes): DataEncryptor {
    return new DataEncryptor(
      this.view,
      this.crypto,
      (model, where, position) => rewriter.where(model, where, position),
      (model, where) => this.reader.nestedContext(model, where),
      written,
      (model, where, fields) => this.reader.fields(model, where, fields),
    );
  }

  /**
   * The `$allOperations` hook.
   * @param recall - whether an update may take a row's scope from {@link KnownScopes}
   * @param attempt - how many times this operation was sent before (its row had moved)
   * @throws RowMovedError when an update's row (or a nested update's) moved to another scope
   *   between the read of its scope and the write, {@link MAX_ATTEMPTS} times
   */
  async handle(params: QueryParams, recall = true, attempt = 1): Promise<unknown> {
    const model = this.view.model(params.model);
    if (isBypassed() || model === undefined || !this.view.isSensitive(model)) return params.query(params.args);
    const { operation } = params;
    // `Prisma.skip` means "not given": taken out before anything reads the arguments.
    const args = withoutSkips(params.args ?? {});
    const batch = params.__internalParams?.transaction?.kind === 'batch';
    guardQuery(this.view, model, operation, args, batch);
    const rewriter = new WhereRewriter(this.view, this.crypto, (m, column, candidates, also) =>
      this.reader.storedIndexValue(m, column, candidates, also),
    );
    const returnsRows = RETURNS_ROWS.has(operation);
    // A write that returns rows gets its own envelopes back: they are not decrypted again.
    const written = returnsRows ? new WrittenEnvelopes() : undefined;
    const dataPath = params.__internalParams?.dataPath ?? [];
    const fluent = dataPath.length > 0;
    const prepared = await this.prepare(model, operation, args, rewriter, { batch, fluent, written, recall });
    if ('result' in prepared) return prepared.result;
    const { given, recalled, guarded } = prepared;
    // Full-length index hits of a read are compared with the decrypted values (see dropMismatches).
    const recheck =
      RECHECKED.has(operation) && !fluent && rewriter.fullLength.length > 0 ? rewriter.fullLength : undefined;
    const extra = [...(given?.fields ?? []), ...(recheck === undefined ? [] : this.recheckFields(model, recheck))];
    const { args: queryArgs, strip } = returnsRows
      ? ensureSelected(this.view, model, prepared.args, extra)
      : { args: prepared.args, strip: undefined };
    let result: unknown;
    try {
      result = await params.query(queryArgs);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      if (recalled !== undefined) {
        // The row moved to another scope (or is gone): forget it and read it the usual way.
        this.known.forget(model, recalled);
        return this.handle(params, false);
      }
      // Not in a batch, which cannot be sent again, nor when no row read first has moved since.
      if (batch) throw error;
      const moved = await this.movedRow(model, guarded, prepared.encryptor);
      if (moved === undefined) throw error;
      // In an interactive transaction Prisma runs a write's nested parts on the transaction's
      // connection without a savepoint: those that ran before the guard failed (a nested row's,
      // or the operation's own after a nested create its foreign key needs) stay applied, and
      // sending the write again would apply them twice. The caller's transaction must roll back.
      const interactive = params.__internalParams?.transaction?.kind === 'itx';
      const written = args.data ?? args.update;
      const nestedWrites = isPlainObject(written) && this.writesRelations(model, written);
      if (attempt >= MAX_ATTEMPTS || (interactive && nestedWrites)) throw rowMoved(moved.name, operation, attempt);
      return this.handle(params, false, attempt + 1);
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

  /** Rewritten arguments, or (for expanded updateMany) the finished result. */
  private async prepare(
    model: ModelMeta,
    operation: string,
    args: Args,
    rewriter: WhereRewriter,
    {
      batch,
      fluent,
      written,
      recall,
    }: { batch: boolean; fluent: boolean; written: WrittenEnvelopes | undefined; recall: boolean },
  ): Promise<Prepared | { result: unknown }> {
    const out: Args = { ...args };
    const position = operationWherePosition(operation);
    if (args.where !== undefined) out.where = await rewriter.where(model, args.where, position);
    // *OrThrow reads must throw when only a tampered row matched: their full-length hits are
    // checked with the truncated ones, before the query (not in a batch, which cannot side-query).
    const narrowed = [
      ...(RECHECKED_FIRST.has(operation) && !batch && !fluent && this.view.idField(model) !== undefined
        ? [...rewriter.truncated, ...rewriter.fullLength]
        : rewriter.truncated),
      ...rewriter.matches,
    ];
    if (narrowed.length > 0) {
      out.where = await narrowTruncated({
        view: this.view,
        decryptor: this.decryptor,
        base: this.base,
        model,
        where: out.where,
        conditions: narrowed,
        batch,
      });
    }
    await this.rewriteReads(model, out, rewriter);
    const step: WriteStep = {
      model,
      args,
      out,
      encryptor: this.encryptorFor(rewriter, written),
      batch,
      fluent,
      recall,
    };
    switch (operation) {
      case 'create':
        out.data = await step.encryptor.create(model, args.data);
        return { args: out, encryptor: step.encryptor };
      case 'createMany':
      case 'createManyAndReturn':
        if (Array.isArray(args.data)) {
          // The rows' scope keys looked up together, not once a scope.
          await this.crypto.prefetchScopes(step.encryptor.givenScopes(model, args.data));
          out.data = await Promise.all(args.data.map((row) => step.encryptor.create(model, row)));
        } else {
          out.data = await step.encryptor.create(model, args.data);
        }
        return { args: out, encryptor: step.encryptor };
      case 'update':
        return this.prepareUpdate(step);
      case 'upsert':
        return this.prepareUpsert(step);
      case 'updateMany':
      case 'updateManyAndReturn':
        return this.prepareUpdateMany(step, operation);
      default:
        return { args: out, encryptor: step.encryptor };
    }
  }

  /**
   * An update. A row this client has seen is not read first: it is written under the scope it
   * last saw, which the update's where checks, and the row the update returns is checked too
   * (not in a batch, not through the fluent API). Not with nested writes: a retry after "not
   * found" must be the first attempt's twin. Any other row is read first, and the update is
   * narrowed to the id and scope read.
   */
  private async prepareUpdate({ model, args, out, encryptor, batch, fluent, recall }: WriteStep): Promise<Prepared> {
    let given: GivenContext | undefined;
    let recalled: string | undefined;
    let guarded: Guarded | undefined;
    const direct = !batch && !fluent && isPlainObject(args.data) && encryptor.writesEncrypted(model, args.data);
    const remembered =
      direct && recall && !this.writesRelations(model, args.data as Args)
        ? rememberedContext(this.view, model, out.where, args.data, this.known)
        : undefined;
    if (remembered !== undefined) {
      ({ given } = remembered);
      out.where = remembered.where;
      recalled = given.context.rowId ?? exactValue((out.where as Args)[this.view.idField(model) as string]);
    }
    const context =
      given !== undefined
        ? { row: given.context, data: args.data, guard: undefined }
        : await this.reader.context(model, out.where as Args, args.data);
    // Read first: the update must still find the row with the id and scope its values are sealed for.
    if (context.guard !== undefined) {
      guarded = { where: out.where as Args, guard: context.guard, absent: context.absent };
      out.where = { ...guarded.where, AND: [...asList(guarded.where.AND), context.guard] };
    }
    // Through the where without the guard: a row the first read did not find may be there now.
    const unguarded = (guarded?.where ?? out.where) as Args;
    const locate = (relation: string, target: ModelMeta) =>
      this.reader.relatedContext(model, unguarded, relation, target);
    out.data = await encryptor.update(
      model,
      context.data,
      context.row,
      'update',
      locate,
      encryptor.updatedRow(model, out.where),
    );
    return { args: out, given, recalled, guarded, encryptor };
  }

  /**
   * An upsert. Its where cannot be narrowed to the scope read (it would create a row instead):
   * the row it returns is checked, and re-sealed if it moved in between (see checkGivenContext).
   */
  private async prepareUpsert({ model, args, out, encryptor, batch, fluent }: WriteStep): Promise<Prepared> {
    const created = isPlainObject(args.create) ? encryptor.draft(model, args.create) : undefined;
    out.create = await encryptor.create(model, args.create, created);
    const context = await this.reader.context(model, out.where as Args, args.update);
    const id = this.view.idField(model);
    let given: GivenContext | undefined;
    // Checked whether or not a row was read: one another client creates between the read and
    // the upsert takes the update branch, sealed for no row (no id, the default scope).
    if (!batch && !fluent && id !== undefined && (model.scopeField !== undefined || model.bindRowId)) {
      given = { context: context.row, fields: model.scopeField === undefined ? [id] : [id, model.scopeField] };
    }
    // Nested creates under the update take their scope from the row, or (none yet) the created one.
    const row = encryptor.updatedRow(model, out.where, created);
    out.update = await encryptor.update(model, context.data, context.row, 'upsert', undefined, row);
    return { args: out, given, encryptor };
  }

  /** An updateMany: row by row when its values depend on each row's id or scope, else at once. */
  private async prepareUpdateMany(
    { model, args, out, encryptor, batch }: WriteStep,
    operation: string,
  ): Promise<Prepared | { result: unknown }> {
    if (isPlainObject(args.data) && this.needsPerRow(model, args.data, encryptor)) {
      if (batch) throw unsupported('rowContext', model.name, this.firstWritten(model, args.data), 'batch $transaction');
      return {
        result: await updateEachRow(
          { view: this.view, decryptor: this.decryptor, reader: this.reader, encryptor, base: this.base },
          model,
          operation,
          { ...out, data: args.data },
        ),
      };
    }
    out.data = await encryptor.update(model, args.data, { scope: 'default' }, operation);
    return { args: out, encryptor };
  }

  /** Rewrites cursors and the wheres of nested reads (include/select at any depth, `_count`). */
  private async rewriteReads(model: ModelMeta, args: Args, rewriter: WhereRewriter): Promise<void> {
    if (args.cursor !== undefined) args.cursor = await rewriter.where(model, args.cursor, 'unique');
    for (const key of SELECTION_KEYS) {
      const selection = args[key];
      if (!isPlainObject(selection)) continue;
      const copy: Args = { ...selection };
      for (const [field, value] of Object.entries(selection)) {
        if (field === '_count' && isPlainObject(value) && isPlainObject(value.select)) {
          const counts: Args = { ...value.select };
          for (const [relation, countArgs] of Object.entries(value.select)) {
            const target = this.view.relationTarget(model, relation);
            if (target === undefined || !isPlainObject(countArgs) || countArgs.where === undefined) continue;
            counts[relation] = { ...countArgs, where: await rewriter.where(target, countArgs.where, 'nested') };
          }
          copy[field] = { ...value, select: counts };
          continue;
        }
        const target = this.view.relationTarget(model, field);
        if (target === undefined || !isPlainObject(value) || !this.view.isSensitive(target)) continue;
        const nested: Args = { ...value };
        if (value.where !== undefined) nested.where = await rewriter.where(target, value.where, 'nested');
        await this.rewriteReads(target, nested, rewriter);
        copy[field] = nested;
      }
      args[key] = copy;
    }
  }

  /** The fields a re-check reads: the conditions' source fields, and the id they are bound to. */
  private recheckFields(model: ModelMeta, conditions: readonly { field: string }[]): string[] {
    const fields = conditions.map((condition) => condition.field);
    const id = this.view.idField(model);
    if (model.bindRowId && id !== undefined) fields.push(id);
    return fields;
  }

  /** Whether `data` writes through a relation field (nested writes). */
  private writesRelations(model: ModelMeta, data: Args): boolean {
    for (const key of Object.keys(data)) if (model.fields[key]?.kind === 'object') return true;
    return false;
  }

  /** Remembers the id and scope of a one-row result of a scoped model. */
  private remember(model: ModelMeta, row: unknown): void {
    const id = this.view.idField(model);
    if (id === undefined || model.scopeField === undefined || !isPlainObject(row)) return;
    const rowId = exactValue(row[id]);
    const scope = scopeValue(row[model.scopeField]);
    if (rowId !== undefined && scope !== undefined) this.known.remember(model, rowId, scope);
  }

  private needsPerRow(model: ModelMeta, data: Args, encryptor: DataEncryptor): boolean {
    if (!encryptor.needsRowContext(model)) return false;
    const movesScope = model.scopeField !== undefined && data[model.scopeField] !== undefined;
    return encryptor.writesEncrypted(model, data) || (movesScope && Object.keys(model.encrypted).length > 0);
  }

  private firstWritten(model: ModelMeta, data: Args): string {
    return Object.keys(model.encrypted).find((name) => data[name] !== undefined) ?? model.scopeField ?? '?';
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
