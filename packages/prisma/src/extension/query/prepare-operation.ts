/**
 * An operation's arguments made ready to send, before its query runs (`operations.ts` runs it
 * and reads the result): its where rewritten to blind indexes, truncated- and match-index hits
 * (and an *OrThrow read's full-length ones) first narrowed to the rows that really match,
 * cursors and the wheres of nested reads rewritten, and its write data sealed operation by
 * operation: a create's rows, an update's for the id and scope read first (or remembered from
 * an earlier result), an upsert's for the row it may update, an updateMany's at once or row by
 * row.
 */
import { boundField } from '../../value-context';
import { type FieldCrypto, KeyDestroyedError, settleAll } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import type { ResultDecryptor } from '../read/decrypt-result';
import { DataEncryptor, type RowContext } from '../write/encrypt-data';
import type { CreateDraft, ExistingRow } from '../write/relation-scope';
import { unsupported } from '../messages';
import { exactValue, type GivenContext, type KnownScopes, rememberedContext } from '../write/seen-rows';
import { asList, narrowed, operationWherePosition, SELECTION_KEYS } from './arg-shapes';
import type { WhereRewriter } from './rewrite-where';
import { type RowReader, updateGuard } from '../write/row-reader';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import type { WrittenEnvelopes } from '../write/written-envelopes';
import type { AnyClient } from '../transaction-context';
import { narrowTruncated } from './truncated-lookup';
import { updateEachRow } from '../write/update-each-row';
import { createdRowContext, pinnedUpsert } from '../write/upsert-pin';
import { givenScope, hasPerScopeUnique, mayHold, writesIndexedUnique } from '../write/indexed-uniques';
import { checkCreatedRows, checkUniqueAcrossVersions, mayCheckAcrossVersions } from '../write/unique-across-versions';
import { nulRefusal } from '../../text-nul';

/** Reads that must throw when nothing matches: their full-length hits are re-checked before the query. */
const RECHECKED_FIRST = new Set(['findUniqueOrThrow', 'findFirstOrThrow']);

/** An update narrowed to the id and scope read before it (see {@link RowReader.context}). */
export interface Guarded {
  /** The where without the guard: names the row wherever it moved. */
  readonly where: Args;
  readonly guard: Args;
  /** The read found no row: the guard matches none, and a row found now was created since. */
  readonly absent?: true;
  /**
   * The scope an update moves the row to. The row it returns must have it: on MySQL Prisma
   * selects the row first, then updates it by id under the guard, and returns the row even when
   * the guard no longer matched (a write committed in between), so no "not found" tells.
   */
  readonly movesTo?: { readonly field: string; readonly scope: string };
}

/** An operation's rewritten arguments, and what its result is checked or retried by. */
export interface Prepared {
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

/** Whether `data` writes through a relation field (nested writes). */
export function writesRelations(model: ModelMeta, data: Args): boolean {
  for (const key of Object.keys(data)) if (model.fields[key]?.kind === 'object') return true;
  return false;
}

/** Rewrites an operation's arguments and seals its write data; one per client, shared by its operations. */
export class OperationPreparer {
  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly decryptor: ResultDecryptor,
    private readonly base: AnyClient,
    private readonly reader: RowReader,
    /** The handler's remembered scopes: an update may take its row's scope from them. */
    private readonly known: KnownScopes,
  ) {}

  private encryptorFor(rewriter: WhereRewriter, written?: WrittenEnvelopes): DataEncryptor {
    return new DataEncryptor(
      this.view,
      this.crypto,
      (model, where, position) => rewriter.where(model, where, position),
      (model, where) => this.reader.nestedContext(model, where),
      written,
      (model, where, fields) => this.reader.fields(model, where, fields),
      nulRefusal(this.base),
    );
  }

  /** Rewritten arguments, or (for expanded updateMany) the finished result. */
  async prepare(
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
    const candidates = [
      ...(RECHECKED_FIRST.has(operation) && !batch && !fluent && this.view.idField(model) !== undefined
        ? [...rewriter.truncated, ...rewriter.fullLength]
        : rewriter.truncated),
      ...rewriter.matches,
    ];
    if (candidates.length > 0) {
      out.where = await narrowTruncated({
        view: this.view,
        decryptor: this.decryptor,
        base: this.base,
        model,
        where: out.where,
        conditions: candidates,
        batch,
      });
    }
    await this.rewriteReads(model, out, rewriter);
    // During an index-key rotation a `@unique` index's constraint sees one version only.
    const unique = {
      view: this.view,
      crypto: this.crypto,
      decryptor: this.decryptor,
      base: this.base,
      model,
      operation,
      args,
      where: out.where,
    };
    if (mayCheckAcrossVersions(this.crypto, operation)) await checkUniqueAcrossVersions(unique);
    const step: WriteStep = {
      model,
      args,
      out,
      encryptor: this.encryptorFor(rewriter, written),
      batch,
      fluent,
      recall,
    };
    const prepared = await this.prepareWrite(step, operation);
    // A per-scope one's after a rotation of the scope's key, now that the updated row's scope is known.
    // (An upsert that finds no row to update: the scope its create gives.)
    const scopes = step.encryptor.updatedScopes.filter((row) => row.model === model).map((row) => row.scope);
    if (operation === 'upsert' && scopes.length === 0 && isPlainObject(args.create) && hasPerScopeUnique(model)) {
      const given = givenScope(model, args.create);
      if (given !== undefined) scopes.push(given);
    }
    if (!('result' in prepared) && scopes.length === 1 && this.crypto.cachedScopeIndexVersionCount(scopes[0]) !== 1) {
      await checkUniqueAcrossVersions({ ...unique, scope: scopes[0] });
    }
    // Its nested updates, under the live versions of their index keys (none queried with one).
    if (!('result' in prepared)) await this.checkNestedUpdates(step.encryptor);
    // Its creates (nested ones too), during a rotation: the constraint sees one version only.
    const { created } = step.encryptor;
    if (created.length > 0 && !('result' in prepared) && created.some((row) => mayHold(this.crypto, row))) {
      const skipDuplicates = args.skipDuplicates === true;
      const check = { view: this.view, crypto: this.crypto, base: this.base };
      const dropped = await checkCreatedRows(check, created, skipDuplicates);
      if (dropped.size > 0 && Array.isArray(out.data)) out.data = out.data.filter((row) => !dropped.has(row as Args));
      if (dropped.size > 0) step.encryptor.dropCreated(dropped);
    }
    return prepared;
  }

  /**
   * Checks each nested update of a unique blind-index constraint's values (see
   * `DataEncryptor.updatedNested`) as a top-level update of its rows: a shared index's while
   * several index root versions are live, a per-scope one's while the row's scope has several.
   */
  private async checkNestedUpdates(encryptor: DataEncryptor): Promise<void> {
    for (const { model, data, where, scope } of encryptor.updatedNested) {
      const check = {
        view: this.view,
        crypto: this.crypto,
        decryptor: this.decryptor,
        base: this.base,
        model,
        operation: 'update',
        args: { data },
        where,
      };
      if (this.crypto.cachedIndexVersionCount() !== 1) await checkUniqueAcrossVersions(check);
      if (scope !== undefined && hasPerScopeUnique(model) && this.crypto.cachedScopeIndexVersionCount(scope) !== 1) {
        await checkUniqueAcrossVersions({ ...check, scope });
      }
    }
  }

  /** Seals a write's data, operation by operation (see the file comment). */
  private async prepareWrite(step: WriteStep, operation: string): Promise<Prepared | { result: unknown }> {
    const { model, args, out } = step;
    switch (operation) {
      case 'create':
        out.data = await step.encryptor.create(model, args.data);
        return { args: out, encryptor: step.encryptor };
      case 'createMany':
      case 'createManyAndReturn':
        if (Array.isArray(args.data)) {
          // The rows' scope keys looked up together, not once a scope.
          await this.crypto.prefetchScopes(step.encryptor.givenScopes(model, args.data));
          // Every row's work settled before a failure is thrown (see settleAll): a key creation
          // still running would otherwise query the client after the caller's $disconnect.
          out.data = await settleAll(args.data.map((row) => step.encryptor.create(model, row)));
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
      direct && recall && !writesRelations(model, args.data as Args)
        ? rememberedContext(this.view, model, out.where, args.data, this.known)
        : undefined;
    if (remembered !== undefined) {
      ({ given } = remembered);
      out.where = remembered.where;
      recalled = exactValue((out.where as Args)[this.view.idField(model) as string]);
    }
    const context =
      given !== undefined
        ? { row: given.context, data: args.data, guard: undefined }
        : await this.reader.context(model, out.where as Args, args.data);
    // Read first: the update must still find the row with the id and scope its values are sealed for.
    const guard = updateGuard(context);
    if (guard !== undefined) {
      const field = model.scopeField;
      const moves = field !== undefined && guard[field] !== undefined && guard[field] !== null;
      const movesTo =
        moves && String(guard[field]) !== context.row.scope ? { field, scope: context.row.scope } : undefined;
      guarded = { where: out.where as Args, guard, absent: context.absent, movesTo };
      out.where = narrowed(guarded.where, guard);
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
   * In a batch, through the fluent API or without a single id field, where the result cannot
   * be checked, the where is narrowed after all (see pinnedUpsert).
   */
  private async prepareUpsert({ model, args, out, encryptor, batch, fluent }: WriteStep): Promise<Prepared> {
    // As given (not pinned below): the row its update's to-one relations are read through.
    const where = out.where as Args;
    const context = await this.reader.context(model, where, args.update);
    const id = this.view.idField(model);
    let created = isPlainObject(args.create)
      ? encryptor.draft(model, args.create, batch ? undefined : this.upsertedRow(model, out.where as Args, context))
      : undefined;
    // The row the create makes is worked out (createdRowContext, pinnedUpsert) before the create
    // is sealed: sealing replaces the draft's nested writes with their sealed copies, through
    // which a value (an id generated for a nested create) would be worked out again, differently.
    const sealedFor = model.scopeField !== undefined || model.bindRowId;
    let given: GivenContext | undefined;
    let row = context.row;
    // No row to update: the update branch is sealed for the row the create makes (see createdRowContext).
    if (context.absent === true && created !== undefined && sealedFor) {
      row = (await createdRowContext(created, args.update)) ?? row;
    }
    // Checked whether or not a row was read: one another client creates between the read and
    // the upsert takes the update branch, sealed for the row read or the one the create makes.
    if (!batch && !fluent && id !== undefined && sealedFor) {
      const bound = boundField(model);
      const fields = [id, ...(bound !== undefined && bound !== id ? [bound] : [])];
      given = { context: row, fields: model.scopeField === undefined ? fields : [...fields, model.scopeField] };
    } else if (sealedFor) {
      const pinned = await pinnedUpsert(model, args.update, context, created);
      if (pinned !== undefined) {
        if (pinned.context !== undefined) row = pinned.context;
        out.where = { ...where, AND: [...asList(where.AND), pinned.where] };
      }
    }
    ({ data: out.create, draft: created } = await sealStandIn(encryptor, model, args.create, created));
    // Nested creates under the update take their scope from the row, or (none yet) the created one.
    const updated = encryptor.updatedRow(model, out.where, created);
    // Its to-one relations are found as an update's are: through the row (none when it is missing).
    const locate = (relation: string, target: ModelMeta) => this.reader.relatedContext(model, where, relation, target);
    out.update = await encryptor.update(model, context.data, row, 'upsert', locate, updated);
    return { args: out, given, encryptor };
  }

  /**
   * The row an upsert updates, which its create stands in for (see {@link ExistingRow}): a
   * `scope: id` create that leaves its id to the default takes the row's id, so that sealing the
   * create (which runs only once the row is gone) makes no scope key for an id no row will have.
   * The row read for the update's context, else one read, made only when the create asks.
   * `undefined` when the read found no row. Not in a batch: read before the batch runs, the row
   * may be one an earlier write of the batch deletes, whose id the create would then take again.
   */
  private upsertedRow(
    model: ModelMeta,
    where: Args,
    context: { row: RowContext; absent?: true },
  ): ExistingRow | undefined {
    if (context.absent === true) return undefined;
    const id = this.view.idField(model);
    return async (field) => {
      if (field === id && context.row.id !== undefined) return context.row.id;
      const row = await this.reader.fields(model, where, [field]);
      return row?.[field];
    };
  }

  /** An updateMany: row by row when its values depend on each row's id or scope, else at once. */
  private async prepareUpdateMany(
    { model, args, out, encryptor, batch }: WriteStep,
    operation: string,
  ): Promise<Prepared | { result: unknown }> {
    if (isPlainObject(args.data) && this.needsPerRow(model, args.data, encryptor)) {
      if (batch) throw unsupported('rowContext', model.name, this.firstWritten(model, args.data), 'batch $transaction');
      // Each row's per-scope unique index values, under its scope's live versions.
      const data = args.data;
      const checkRow =
        hasPerScopeUnique(model) && writesIndexedUnique(model, data)
          ? async (where: Args, scope: string) => {
              if (this.crypto.cachedScopeIndexVersionCount(scope) === 1) return;
              const check = { view: this.view, crypto: this.crypto, decryptor: this.decryptor, base: this.base, model };
              await checkUniqueAcrossVersions({ ...check, operation: 'update', args: { data }, where, scope });
            }
          : undefined;
      return {
        result: await updateEachRow(
          {
            view: this.view,
            crypto: this.crypto,
            decryptor: this.decryptor,
            reader: this.reader,
            encryptor,
            base: this.base,
            ...(checkRow === undefined ? {} : { checkRow }),
          },
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

  private needsPerRow(model: ModelMeta, data: Args, encryptor: DataEncryptor): boolean {
    if (!encryptor.needsRowContext(model)) return false;
    const movesScope = model.scopeField !== undefined && data[model.scopeField] !== undefined;
    return encryptor.writesEncrypted(model, data) || (movesScope && Object.keys(model.encrypted).length > 0);
  }

  private firstWritten(model: ModelMeta, data: Args): string {
    return Object.keys(model.encrypted).find((name) => data[name] !== undefined) ?? model.scopeField ?? '?';
  }
}

/**
 * Seals a create that may stand in for an existing row (see {@link ExistingRow}). When it took
 * the id of a row that is kept while its scope was shredded, it cannot be sealed for that id;
 * it runs only once the row is gone, so it is drafted again and sealed for a fresh id instead,
 * as a create that stands in for no row.
 */
async function sealStandIn(
  encryptor: DataEncryptor,
  model: ModelMeta,
  data: unknown,
  draft: CreateDraft | undefined,
): Promise<{ data: Args; draft: CreateDraft | undefined }> {
  try {
    return { data: await encryptor.create(model, data, draft, false, true), draft };
  } catch (error) {
    if (!(error instanceof KeyDestroyedError) || draft?.tookExisting !== true) throw error;
    const fresh = encryptor.draft(model, data as Args);
    return { data: await encryptor.create(model, data, fresh, false, true), draft: fresh };
  }
}
