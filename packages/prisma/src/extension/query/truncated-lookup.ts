/**
 * Truncated blind indexes (`bits` < 256) collide on purpose: an index match is only a
 * candidate. Before the caller's query runs, the candidates are listed (id and the indexed
 * fields, in the caller's transaction when there is one), decrypted, and compared on the
 * normalized plaintext; the caller's where is then narrowed to the ids that really match (when
 * more than a few hundred do, away from the ids of the candidates that did not: the database
 * caps bind parameters).
 * The caller's own query keeps its orderBy, skip, take, cursor and selection, so findFirst,
 * take/skip pagination, count, updateMany and deleteMany are all exact, and findUnique can
 * never return (or an update touch) a row that only collided; but for one another transaction
 * makes a candidate between the two queries when the where names the rejected candidates.
 * When both lists are past the database's cap, the query fails (Prisma's P2029).
 *
 * Candidates whose scope was shredded are skipped (they cannot match); any other failure to
 * decrypt a candidate throws, as for any read.
 *
 * Cost: one extra query per lookup. Not available inside a batch `$transaction([...])`
 * (the extension cannot issue its own query there), where it fails closed.
 */
import { boundField } from '../../value-context';
import { matchesQuery, normalize } from '@hushfield/core';
import type { ModelMeta } from '../../metadata';
import type { ResultDecryptor } from '../read/decrypt-result';
import { unsupported } from '../messages';
import { asList } from './arg-shapes';
import type { MatchCondition, TruncatedCondition } from './rewrite-where';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { delegate, sideQuery, type AnyClient } from '../transaction-context';

/** Most matching ids a narrowed where names before it names the rejected candidates instead. */
const MAX_NAMED_IDS = 500;

/**
 * Narrows `where` (already rewritten) to the rows whose decrypted values really match: the
 * truncated-index conditions, and the match-index ones (contains / startsWith / endsWith).
 */
export async function narrowTruncated(options: {
  view: SchemaView;
  decryptor: ResultDecryptor;
  base: AnyClient;
  model: ModelMeta;
  where: unknown;
  conditions: readonly (TruncatedCondition | MatchCondition)[];
  batch: boolean;
}): Promise<Args> {
  const { view, decryptor, base, model, conditions } = options;
  const where = isPlainObject(options.where) ? options.where : {};
  const id = view.idField(model);
  const first = conditions[0];
  if (id === undefined || options.batch) {
    const kind = 'kind' in first ? 'matchPosition' : 'truncated';
    throw unsupported(kind, model.name, first.field, options.batch ? 'batch $transaction' : 'compound id');
  }
  const select: Args = { [id]: true };
  for (const condition of conditions) select[condition.field] = true;
  // Each candidate's values are checked against its row's scope, as any read's are.
  const scopeField = view.checkedScopeField(model);
  if (scopeField !== undefined) select[scopeField] = true;
  // And opened bound to their row, as any read's are.
  const bound = boundField(model);
  if (bound !== undefined) select[bound] = true;
  const rows = (await sideQuery(base, (client) =>
    delegate(client, view.delegateName(model)).findMany({ where, select }),
  )) as Args[];
  // A candidate of a shredded scope cannot be a match (its value is gone): skipped, so
  // another scope's lookup that shares its bucket does not fail.
  const destroyed = new Set<Args>();
  await decryptor.decrypt(model, rows, undefined, false, destroyed);
  const ids: unknown[] = [];
  const rejected: unknown[] = [];
  for (const row of rows) {
    const ok = !destroyed.has(row) && conditions.every((condition) => matches(row, condition));
    (ok ? ids : rejected).push(row[id]);
  }
  // Many matches (a common n-gram, a value many rows share) are named by the few candidates
  // that did not match: each id is a bind parameter, and Prisma caps them (SQLite 999,
  // PostgreSQL 32,766). The where still holds the index condition, so this names the same rows
  // (but for one that became a candidate since, as a listed row changed since stays named).
  const narrowing = ids.length > MAX_NAMED_IDS && rejected.length < ids.length ? { notIn: rejected } : { in: ids };
  return { ...where, AND: [...asList(where.AND), { [id]: narrowing }] };
}

/**
 * Drops, from a decrypted read result (one row, null, or a list), the rows whose values do not
 * match the root-level conditions of a full-length index: a hit whose index value was copied
 * from another row in SQL. A row whose value could not be decrypted cannot be confirmed and is
 * dropped too.
 */
export function dropMismatches(result: unknown, conditions: readonly TruncatedCondition[]): unknown {
  const ok = (row: unknown) => isPlainObject(row) && conditions.every((condition) => matches(row, condition));
  if (Array.isArray(result)) {
    const kept = result.filter(ok);
    if (kept.length !== result.length) result.splice(0, result.length, ...kept);
    return result;
  }
  return result === null || result === undefined || ok(result) ? result : null;
}

function matches(row: Args, condition: TruncatedCondition | MatchCondition): boolean {
  const value = row[condition.field];
  if (typeof value !== 'string') return false;
  if ('kind' in condition)
    return matchesQuery(condition.spec, condition.kind, value, condition.query, condition.insensitive);
  const wanted = new Set(condition.values.map((v) => normalize(v, condition.index.normalize)));
  return wanted.has(normalize(value, condition.index.normalize));
}
