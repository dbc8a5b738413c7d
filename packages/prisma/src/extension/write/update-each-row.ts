/**
 * updateMany / updateManyAndReturn on a bound or scoped model that writes encrypted fields
 * (or moves rows to another scope): each row needs its own data key, id and scope, so the
 * matching rows are listed and updated one by one, all in one transaction (the caller's
 * interactive transaction, or a new one on the base client).
 */
import type { FieldCrypto } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import type { ResultDecryptor } from '../read/decrypt-result';
import type { DataEncryptor } from './encrypt-data';
import { asList } from '../query/arg-shapes';
import { rowMoved, unsupported } from '../messages';
import { type RowReader, updateGuard } from './row-reader';
import { plainOf } from './row-sealer';
import { scopeString } from './relation-scope';
import type { Args, SchemaView } from '../schema-view';
import { ensureSelected, stripAdded } from '../read/selection';
import { type AnyClient, currentTransaction, delegate, inTransaction, sideQuery } from '../transaction-context';

/** Collaborators of {@link updateEachRow}. */
export interface UpdateEachRowDeps {
  readonly view: SchemaView;
  readonly crypto: FieldCrypto;
  readonly decryptor: ResultDecryptor;
  readonly reader: RowReader;
  readonly encryptor: DataEncryptor;
  readonly base: AnyClient;
  /**
   * Checks a row's write before it is sent (in the transaction), given the where naming the row
   * and its scope: the unique check of a per-scope index (`unique-across-versions.ts`).
   */
  readonly checkRow?: (where: Args, scope: string) => Promise<void>;
}

/** How many times a row is read and updated while it keeps moving to another scope. */
const MAX_ATTEMPTS = 3;

/**
 * Timeout of the transaction opened here, in milliseconds, unless the client's
 * `transactionOptions` name another than Prisma's default (5 s, {@link PRISMA_DEFAULT_TIMEOUT_MS}).
 * That default is meant for callbacks that may leak; this one ends when its rows are written,
 * and thousands of rows take longer than that. A caller who needs more opens an interactive
 * transaction of their own, or sets the client's timeout.
 */
const OWN_TRANSACTION_TIMEOUT_MS = 10 * 60_000;

/** The interactive-transaction timeout Prisma gives a client whose `transactionOptions` set none. */
const PRISMA_DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The timeout of the transaction opened here: the client's own (`transactionOptions.timeout`,
 * which Prisma keeps in `_engineConfig`) when it set one, else {@link OWN_TRANSACTION_TIMEOUT_MS}.
 */
function ownTimeout(base: AnyClient): number {
  const config = (base as { _engineConfig?: { transactionOptions?: { timeout?: unknown } } })._engineConfig;
  const timeout = config?.transactionOptions?.timeout;
  return typeof timeout === 'number' && timeout > 0 && timeout !== PRISMA_DEFAULT_TIMEOUT_MS
    ? timeout
    : OWN_TRANSACTION_TIMEOUT_MS;
}

/** Runs `operation` (rewritten `args`, plaintext `args.data`) row by row; returns what Prisma would. */
export async function updateEachRow(
  deps: UpdateEachRowDeps,
  model: ModelMeta,
  operation: string,
  args: Args,
): Promise<unknown> {
  const { view, decryptor, reader, encryptor, base } = deps;
  const id = view.idField(model);
  const data = args.data as Args;
  if (id === undefined) {
    const field = Object.keys(model.encrypted).find((name) => data[name] !== undefined) ?? model.scopeField ?? '?';
    throw unsupported('rowContext', model.name, field, operation);
  }
  // A new scope its column would not return as written is refused before any row is listed.
  const { scopeField } = model;
  const newScope = scopeField === undefined ? undefined : scopeString(model, scopeField, plainOf(data[scopeField]));
  const name = view.delegateName(model);
  if (scopeField !== undefined && currentTransaction(base) === undefined) {
    // The transaction opened below cannot make a scope key on a single-connection driver (SQLite,
    // PGlite, libSQL: the key is committed on another connection, and there is none), so the keys
    // it seals under are made first: the new scope's, once some row is known to move to it, else
    // those of the matching rows' scopes (a scope whose rows hold no encrypted value has none yet).
    if (newScope !== undefined) {
      const some = await delegate(base, name).findFirst({ where: args.where, select: { [id]: true } });
      if (some !== null) (await deps.crypto.rowEncryptor(newScope)).dispose();
    } else {
      await makeScopeKeys(deps, name, scopeField, args.where);
    }
  }
  const shaped = operation === 'updateManyAndReturn' ? ensureSelected(view, model, args) : undefined;
  const query = shaped?.args ?? args;
  const run = async (client: AnyClient): Promise<unknown> => {
    // `limit` bounds the rows touched: list no more than it allows.
    const take = typeof query.limit === 'number' ? { take: query.limit } : {};
    const rows = (await delegate(client, name).findMany({
      where: query.where,
      select: { [id]: true },
      ...take,
    })) as Args[];
    const returned: unknown[] = [];
    let count = 0;
    for (const row of rows) {
      const where = { [id]: row[id] };
      for (let attempt = 1; ; attempt++) {
        const context = await reader.context(model, where, data);
        const sealed = await encryptor.update(model, context.data, context.row, operation);
        if (deps.checkRow !== undefined) await deps.checkRow(where, context.row.scope);
        // Narrowed to the scope read: a row another client moved since is not sealed under the old one.
        const guard = updateGuard(context);
        const narrowed = [...asList(query.where), where, ...(guard === undefined ? [] : [guard])];
        const single: Args = { ...query, where: { AND: narrowed }, data: sealed };
        delete single.limit;
        let touched: number;
        if (operation === 'updateMany') {
          touched = ((await delegate(client, name).updateMany(single)) as { count: number }).count;
          count += touched;
        } else {
          const rowsBack = (await delegate(client, name).updateManyAndReturn(single)) as unknown[];
          touched = rowsBack.length;
          returned.push(...rowsBack);
        }
        // Nothing matched: the row left the caller's where or is gone (skip it), or it moved (again).
        if (touched > 0 || guard === undefined || !(await reader.moved(model, where, guard, context.absent))) break;
        if (attempt >= MAX_ATTEMPTS) throw rowMoved(model.name, operation, attempt);
      }
    }
    if (operation === 'updateMany') return { count };
    await decryptor.decrypt(model, returned);
    if (shaped !== undefined) stripAdded(returned, shaped.strip);
    return returned;
  };
  if (currentTransaction(base) !== undefined) return sideQuery(base, run);
  const transaction = base.$transaction as (
    fn: (tx: AnyClient) => Promise<unknown>,
    options?: { isolationLevel?: string; timeout?: number },
  ) => Promise<unknown>;
  return transaction.call(base, (tx) => inTransaction(tx, base, deps.crypto, () => sideQuery(base, run)), {
    ...ownIsolation(base),
    timeout: ownTimeout(base),
  });
}

/**
 * Makes (or loads) the active key of every scope a row matching `where` has, outside any
 * transaction: one query for the scopes, one key-store lookup per 100 of them not cached, and a
 * key created for each that has none.
 */
async function makeScopeKeys(deps: UpdateEachRowDeps, name: string, scopeField: string, where: unknown): Promise<void> {
  const rows = (await delegate(deps.base, name).findMany({
    where,
    select: { [scopeField]: true },
    distinct: [scopeField],
  })) as Args[];
  // The row's scope as an update of it is sealed under (see RowReader), never a key for null.
  const scopes = rows.filter((row) => row[scopeField] != null).map((row) => String(row[scopeField]));
  await deps.crypto.prefetchScopes(scopes);
  for (const scope of scopes) await deps.crypto.keys.activeScopeKey(scope);
}

/**
 * The isolation of the transaction the extension opens itself. The re-read that tells a row
 * that moved from one that left the where must see other transactions' commits, as PostgreSQL's
 * default READ COMMITTED does; MySQL's default REPEATABLE READ would re-read the snapshot and
 * skip a row that moved, so there the transaction asks for READ COMMITTED. (Inside the
 * caller's own transaction its isolation stands: under REPEATABLE READ such a row is skipped,
 * never sealed under the scope it left.)
 */
function ownIsolation(base: AnyClient): { isolationLevel: string } | undefined {
  return (base as { _activeProvider?: string })._activeProvider === 'mysql'
    ? { isolationLevel: 'ReadCommitted' }
    : undefined;
}
