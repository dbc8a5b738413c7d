/**
 * The client the key store queries: the application's PrismaClient without any of its
 * extensions. A query extension the application added before fieldEncryption (a tenant filter
 * or a soft delete on `$allModels`) is written for its own models; run on the key store's
 * model (`HushfieldKey`), it would add fields that model lacks and fail, or hide keys.
 *
 * Prisma's `$parent` names the client an extended client was made from, and the root client
 * is its own `$parent`. A transaction client of an extended client has a `$parent` too: the
 * transaction client, bound to the same transaction, of the client one extension down. So
 * the root's transaction client is as many `$parent` steps below the transaction client as
 * the client that opened the transaction is above the root.
 */
import type { AnyClient } from './transaction-context';

/** How far up a chain of `$extends` is searched; no application stacks this many. */
const MAX_DEPTH = 256;

/** A client without extensions, and how many `$extends` it sits below the client it came from. */
export interface Unextended {
  readonly client: AnyClient;
  readonly depth: number;
}

function parentOf(client: AnyClient): AnyClient | undefined {
  const parent = client.$parent;
  return parent !== null && typeof parent === 'object' ? (parent as AnyClient) : undefined;
}

/**
 * The root PrismaClient below `client` (`client` itself when it has no extensions), or
 * `undefined` when `client` does not lead to one through `$parent` (not a Prisma client, a
 * transaction client, or a Prisma version without `$parent`).
 */
export function unextendedClient(client: AnyClient): Unextended | undefined {
  let current = client;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = parentOf(current);
    if (parent === undefined) return undefined;
    if (parent === current) return { client: current, depth };
    current = parent;
  }
  return undefined;
}

/**
 * The transaction client of the root PrismaClient bound to the transaction of `tx`, a
 * transaction client of the client fieldEncryption made (its `$hushfield` marks it) or of one
 * extended from it or below it; `depth`: how many `$extends` the client fieldEncryption was
 * applied to sits above the root ({@link unextendedClient}). `undefined` when a step has no
 * `$parent`, or the client reached is not bound to the same transaction as `tx`.
 */
export function unextendedTransaction(tx: AnyClient, depth: number): AnyClient | undefined {
  let current: AnyClient | undefined = tx;
  // Down to the transaction client of the client fieldEncryption was applied to...
  for (let step = 0; current !== undefined && current.$hushfield !== undefined; step++) {
    current = step < MAX_DEPTH ? parentOf(current) : undefined;
  }
  // ...then as many steps as that client is above the root.
  for (let step = 0; step < depth && current !== undefined; step++) current = parentOf(current);
  // Only a client of the same transaction: anything else would read outside it (and on one
  // connection wait for it).
  return current !== undefined && transactionId(current) !== undefined && transactionId(current) === transactionId(tx)
    ? current
    : undefined;
}

/** Where Prisma keeps a transaction client's transaction (a registered symbol). */
const TRANSACTION_SCOPE = Symbol.for('prisma.client.transaction.scope_context');

/** The id of the transaction a transaction client is bound to, or `undefined`. */
function transactionId(client: AnyClient): unknown {
  return ((client as Record<symbol, unknown>)[TRANSACTION_SCOPE] as { txId?: unknown } | undefined)?.txId;
}
