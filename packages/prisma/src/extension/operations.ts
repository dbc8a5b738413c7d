/**
 * One model operation through the extension: guard (fail closed before any query), rewrite
 * wheres to blind indexes, encrypt write data, make sure the selection carries what
 * decryption needs, run the query, decrypt the result and strip what was added.
 */
import type { FieldCrypto } from '@fieldseal/core';
import type { ModelMeta } from '../metadata';
import type { ResultDecryptor } from './decrypt-result';
import { DataEncryptor, plainOf, type RowContext } from './encrypt-data';
import { unsupported } from './messages';
import { asList, guardQuery } from './query-guard';
import { type Position, WhereRewriter } from './rewrite-where';
import { type Args, isPlainObject, type SchemaView } from './schema-view';
import { ensureSelected, planAt, stripAdded } from './selection';
import { type AnyClient, currentTransaction, delegate, inTransaction, isBypassed, sideQuery } from './side-channel';
import { narrowTruncated } from './truncated-lookup';

/** What Prisma hands a `$allOperations` query extension. */
export interface QueryParams {
  model?: string;
  operation: string;
  args: Args;
  query: (args: Args) => Promise<unknown>;
  __internalParams?: { dataPath?: string[]; transaction?: { kind?: string } };
}

const RETURNS_ROWS = new Set([
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'create',
  'createManyAndReturn', 'update', 'updateManyAndReturn', 'upsert', 'delete',
]);
const UNIQUE_WHERE = new Set(['findUnique', 'findUniqueOrThrow', 'update', 'upsert', 'delete']);

/** Runs model operations through fieldseal. */
export class OperationHandler {
  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly decryptor: ResultDecryptor,
    private readonly base: AnyClient,
  ) {}

  private encryptorFor(rewriter: WhereRewriter): DataEncryptor {
    return new DataEncryptor(
      this.view,
      this.crypto,
      (model, where, position) => rewriter.where(model, where, position),
      (model, where) => this.nestedRowContext(model, where),
    );
  }

  /** Id and scope of the row a nested write's unique where names (read only when not given). */
  private async nestedRowContext(model: ModelMeta, where: Args): Promise<RowContext> {
    const id = this.view.idField(model);
    const givenId = id !== undefined && typeof where[id] === 'string' ? (where[id] as string) : undefined;
    if (model.scopeField === undefined && (givenId !== undefined || !model.bindRowId)) {
      return { scope: 'default', rowId: givenId };
    }
    return (await this.rowContext(model, where, Object.fromEntries(
      Object.keys(model.encrypted).map((name) => [name, null]),
    ))).row;
  }

  /** The `$allOperations` hook. */
  async handle(params: QueryParams): Promise<unknown> {
    const model = this.view.model(params.model);
    if (isBypassed() || model === undefined || !this.view.isSensitive(model)) return params.query(params.args);
    const { operation } = params;
    const args = params.args ?? {};
    const batch = params.__internalParams?.transaction?.kind === 'batch';
    guardQuery(this.view, model, operation, args, batch);
    const rewriter = new WhereRewriter(this.view, this.crypto, (m, column, candidates) =>
      this.storedIndexValue(m, column, candidates),
    );
    const prepared = await this.prepare(model, operation, args, rewriter, batch);
    if ('result' in prepared) return prepared.result;
    const { args: queryArgs, strip } = RETURNS_ROWS.has(operation)
      ? ensureSelected(this.view, model, prepared.args)
      : { args: prepared.args, strip: undefined };
    const result = await params.query(queryArgs);
    if (!RETURNS_ROWS.has(operation)) return result;
    const dataPath = params.__internalParams?.dataPath ?? [];
    const target = this.modelAt(model, dataPath);
    if (target !== undefined) await this.decryptor.decrypt(target, result);
    const plan = strip === undefined ? undefined : planAt(strip, dataPath);
    if (plan !== undefined) stripAdded(result, plan);
    return result;
  }

  /** Rewritten arguments, or (for expanded updateMany) the finished result. */
  private async prepare(
    model: ModelMeta,
    operation: string,
    args: Args,
    rewriter: WhereRewriter,
    batch: boolean,
  ): Promise<{ args: Args } | { result: unknown }> {
    const out: Args = { ...args };
    const position = UNIQUE_WHERE.has(operation) ? 'uniqueRoot' : 'root';
    if (args.where !== undefined) out.where = await rewriter.where(model, args.where, position);
    if (rewriter.truncated.length > 0) {
      out.where = await narrowTruncated({
        view: this.view, decryptor: this.decryptor, base: this.base, model,
        where: out.where, conditions: rewriter.truncated, batch,
      });
    }
    await this.rewriteReads(model, out, rewriter);
    const encryptor = this.encryptorFor(rewriter);
    switch (operation) {
      case 'create':
        out.data = await encryptor.create(model, args.data);
        break;
      case 'createMany':
      case 'createManyAndReturn':
        out.data = Array.isArray(args.data)
          ? await Promise.all(args.data.map((row) => encryptor.create(model, row)))
          : await encryptor.create(model, args.data);
        break;
      case 'update': {
        const context = await this.rowContext(model, out.where as Args, args.data);
        out.data = await encryptor.update(model, context.data, context.row, operation);
        break;
      }
      case 'upsert': {
        out.create = await encryptor.create(model, args.create);
        const context = await this.rowContext(model, out.where as Args, args.update);
        out.update = await encryptor.update(model, context.data, context.row, operation);
        break;
      }
      case 'updateMany':
      case 'updateManyAndReturn':
        if (isPlainObject(args.data) && this.needsPerRow(model, args.data, encryptor)) {
          if (batch) throw unsupported('rowContext', model.name, this.firstWritten(model, args.data), 'batch $transaction');
          return { result: await this.updateEachRow(model, operation, out, encryptor) };
        }
        out.data = await encryptor.update(model, args.data, { scope: 'default' }, operation);
        break;
      default:
        break;
    }
    return { args: out };
  }

  /** Rewrites cursors and the wheres of nested reads (include/select at any depth, `_count`). */
  private async rewriteReads(model: ModelMeta, args: Args, rewriter: WhereRewriter): Promise<void> {
    if (args.cursor !== undefined) args.cursor = await rewriter.where(model, args.cursor, 'unique');
    for (const key of ['select', 'include'] as const) {
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

  /**
   * The id and scope of the one row an update or upsert touches, read only when needed (the
   * model is bound or scoped and encrypted fields or the scope field are written). When the
   * scope changes, the row's other encrypted values are decrypted and re-encrypted under the
   * new scope, in the same update.
   */
  private async rowContext(
    model: ModelMeta,
    where: Args,
    data: unknown,
  ): Promise<{ row: RowContext; data: unknown }> {
    if (!isPlainObject(data)) return { row: { scope: 'default' }, data };
    const scopeField = model.scopeField;
    const movesScope = scopeField !== undefined && plainOf(data[scopeField]) !== undefined;
    const writes = Object.keys(model.encrypted).some((name) => data[name] !== undefined);
    if (!writes && !movesScope) return { row: { scope: 'default' }, data };
    if (!model.bindRowId && scopeField === undefined) return { row: { scope: 'default' }, data };
    const id = this.view.idField(model);
    const select: Args = {};
    if (id !== undefined) select[id] = true;
    if (scopeField !== undefined) select[scopeField] = true;
    if (movesScope) for (const name of Object.keys(model.encrypted)) select[name] = true;
    const row = (await sideQuery(this.base, (client) =>
      delegate(client, this.view.delegateName(model)).findUnique({ where, select }),
    )) as Args | null;
    const newScope = movesScope ? String(plainOf(data[scopeField as string])) : undefined;
    if (row === null) return { row: { scope: newScope ?? 'default' }, data }; // Prisma reports the missing row
    const rowId = id !== undefined && row[id] != null ? String(row[id]) : undefined;
    const current = scopeField === undefined ? 'default' : String(row[scopeField]);
    if (newScope === undefined || newScope === current) return { row: { scope: current, rowId }, data };
    await this.decryptor.decrypt(model, row);
    const moved: Args = { ...data };
    for (const name of Object.keys(model.encrypted)) if (moved[name] === undefined) moved[name] = row[name];
    return { row: { scope: newScope, rowId }, data: moved };
  }

  private needsPerRow(model: ModelMeta, data: Args, encryptor: DataEncryptor): boolean {
    if (!encryptor.needsRowContext(model)) return false;
    const movesScope = model.scopeField !== undefined && data[model.scopeField] !== undefined;
    return encryptor.writesEncrypted(model, data) || (movesScope && Object.keys(model.encrypted).length > 0);
  }

  private firstWritten(model: ModelMeta, data: Args): string {
    return Object.keys(model.encrypted).find((name) => data[name] !== undefined) ?? model.scopeField ?? '?';
  }

  /**
   * updateMany on a bound or scoped model: each row needs its own DEK, id and scope, so the
   * matching rows are listed and updated one by one, all in one transaction (the caller's
   * interactive transaction, or a new one).
   */
  private async updateEachRow(model: ModelMeta, operation: string, args: Args, encryptor: DataEncryptor): Promise<unknown> {
    const id = this.view.idField(model);
    if (id === undefined) throw unsupported('rowContext', model.name, this.firstWritten(model, args.data as Args), operation);
    const name = this.view.delegateName(model);
    const shaped = operation === 'updateManyAndReturn' ? ensureSelected(this.view, model, args) : undefined;
    if (shaped !== undefined) args = shaped.args;
    const run = async (client: AnyClient): Promise<unknown> => {
      const rows = (await delegate(client, name).findMany({ where: args.where, select: { [id]: true } })) as Args[];
      const returned: unknown[] = [];
      let count = 0;
      for (const row of rows) {
        const where = { [id]: row[id] };
        const context = await this.rowContext(model, where, args.data);
        const data = await encryptor.update(model, context.data, context.row, operation);
        const single: Args = { ...args, where: { AND: [...asList(args.where), where] }, data };
        if (operation === 'updateMany') count += ((await delegate(client, name).updateMany(single)) as { count: number }).count;
        else returned.push(...((await delegate(client, name).updateManyAndReturn(single)) as unknown[]));
      }
      if (operation === 'updateMany') return { count };
      await this.decryptor.decrypt(model, returned);
      if (shaped !== undefined) stripAdded(returned, shaped.strip);
      return returned;
    };
    if (currentTransaction() !== undefined) return sideQuery(this.base, run);
    const transaction = this.base.$transaction as (fn: (tx: AnyClient) => Promise<unknown>) => Promise<unknown>;
    return transaction.call(this.base, (tx) => inTransaction(tx, () => sideQuery(this.base, run)));
  }

  /** During an index rotation: the index value a unique input must name (the row's own), else the current one. */
  private async storedIndexValue(model: ModelMeta, column: string, candidates: readonly string[]): Promise<string> {
    const row = (await sideQuery(this.base, (client) =>
      delegate(client, this.view.delegateName(model)).findFirst({
        where: { [column]: { in: candidates } },
        select: { [column]: true },
      }),
    )) as Args | null;
    return typeof row?.[column] === 'string' ? (row[column] as string) : candidates[0];
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

export type { Position };
