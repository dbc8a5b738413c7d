/**
 * The extension sometimes needs a query of its own before (or instead of) the caller's:
 * reading a row's id and scope before an update, listing candidates of a truncated-index
 * lookup. Those queries must run in the caller's interactive transaction when there is one
 * (same snapshot, same connection: on a single-connection driver such as PGlite anything else
 * would wait for the transaction forever) and must not be rewritten a second time.
 *
 * The extended client's `$transaction` runs the callback inside an AsyncLocalStorage context
 * holding the transaction client; queries issued here while `bypass` is set pass through
 * the extension untouched. Outside interactive transactions no context is entered (the
 * extension's own queries go to the client it was applied to), so an application that opens
 * none pays nothing for it; an updateMany that re-seals row by row opens its own transaction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A Prisma client or transaction client, seen structurally. */
export type AnyClient = Record<string, unknown>;

/** The async context of one interactive transaction of the extended client. */
export interface TransactionScope {
  /** The transaction client Prisma handed to the callback. */
  readonly tx: AnyClient;
  /**
   * The client the extension was applied to, whose `$transaction` opened it. Only that client's
   * own queries join the transaction: an operation of another client started inside the
   * callback (and not awaited there) runs on its own connection, as it would without hushfield.
   */
  readonly owner: AnyClient;
  /**
   * The crypto of the extension that opened it: key lookups join it only when they are that
   * crypto's (shared with other clients or not), never those of another `fieldEncryption` applied
   * to the same base client.
   */
  readonly crypto: object;
  /** The `isolationLevel` the transaction was opened with, when the caller gave one. */
  readonly isolationLevel?: string;
  /**
   * Scopes that are the ids of rows created in this transaction, generated on the client for
   * them (`scope: id`): no other writer can know one before the transaction commits.
   */
  readonly generatedScopes: Set<string>;
  /** Whether a scope key was created inside this transaction (it vanishes if it rolls back). */
  createdKeys: boolean;
}

interface Context {
  readonly scope?: TransactionScope;
  readonly bypass?: boolean;
}

const storage = new AsyncLocalStorage<Context>();

/**
 * Runs `fn` with `tx`, opened by `owner` through the extension of `crypto` (see {@link
 * TransactionScope}) at `isolationLevel` (when given), as the current transaction.
 */
export function inTransaction<T>(
  tx: AnyClient,
  owner: AnyClient,
  crypto: object,
  fn: (scope: TransactionScope) => T,
  isolationLevel?: string,
): T {
  const scope: TransactionScope = { tx, owner, crypto, isolationLevel, generatedScopes: new Set(), createdKeys: false };
  return storage.run({ scope }, () => fn(scope));
}

/**
 * Notes that `scope` is the id just generated on the client for a row being created in the
 * current interactive transaction, if any (see {@link TransactionScope.generatedScopes}).
 */
export function noteGeneratedScope(scope: string): void {
  storage.getStore()?.scope?.generatedScopes.add(scope);
}

/**
 * The current interactive transaction of any client the extension was applied to: what the key
 * store joins (a `crypto` can serve several clients).
 */
export function anyTransaction(): TransactionScope | undefined {
  return storage.getStore()?.scope;
}

/** The current interactive transaction of `owner`, if the caller is inside one it opened. */
export function currentTransaction(owner: AnyClient): TransactionScope | undefined {
  const scope = storage.getStore()?.scope;
  return scope?.owner === owner ? scope : undefined;
}

/**
 * Runs `fn` outside any transaction context: for an operation started inside a transaction's
 * callback but not sent through the transaction client (`prisma.user...` there, run then or
 * after the transaction). Prisma runs it on its own connection, and so must the extension's own
 * queries for it, key lookups included.
 */
export function outsideTransaction<T>(fn: () => T): T {
  return storage.run({}, fn);
}

/** Whether the current query was issued by the extension itself and must pass through. */
export function isBypassed(): boolean {
  return storage.getStore()?.bypass === true;
}

/**
 * Runs `fn` with a client for the extension's own queries: the current transaction client
 * (bypassing the extension) when inside an interactive transaction `base` opened, else `base`
 * (the client the extension was applied to, which does not run it).
 */
export function sideQuery<T>(base: AnyClient, fn: (client: AnyClient) => Promise<T>): Promise<T> {
  const scope = currentTransaction(base);
  // `base` does not run the extension: no context is needed, and none is entered. On Node 20
  // the first context entered makes every promise of the process call a hook from then on.
  if (scope === undefined) return fn(base);
  // `await` inside the context: Prisma's promises are lazy and run where they are awaited.
  return storage.run({ scope, bypass: true }, async () => await fn(scope.tx));
}

/** The model delegate (`client.user`) of a client, as a map of operations. */
export function delegate(client: AnyClient, name: string): Record<string, (args: unknown) => Promise<unknown>> {
  return client[name] as Record<string, (args: unknown) => Promise<unknown>>;
}
