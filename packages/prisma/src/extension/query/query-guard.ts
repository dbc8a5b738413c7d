/**
 * Fail-closed checks, run synchronously over the whole argument tree BEFORE anything else
 * (before key lookups, which are queries too), so a refused query sends nothing at all.
 * Refused: any filter on an encrypted field other than equality/in/notIn/not through a blind
 * index (contains, ranges, mode, search...), equality with no blind index, ordering,
 * distinct, groupBy or aggregates over ciphertext, ordering by a blind-index column,
 * truncated-index lookups where false positives cannot be removed, writes to a
 * blind-index column, and values to write or look up that cannot be encrypted (lone
 * surrogates, over the size cap).
 *
 * This file walks the tree: the operation's where, relation filters and compound unique
 * inputs, and reads with their nested selections. The checks at its leaves live beside it: a
 * filter on an encrypted field in `filter-guard.ts`, ordering, grouping and aggregates in
 * `ordering-guard.ts`, write data and nested writes in `write-guard.ts`.
 */
import type { ModelMeta } from '../../metadata';
import { notString, unsupported } from '../messages';
import {
  asList,
  isLogicalKey,
  logicalPosition,
  operationWherePosition,
  RELATION_FILTERS,
  SELECTION_KEYS,
  type WherePosition,
} from './arg-shapes';
import { forEachReference, guardFieldFilter } from './filter-guard';
import { guardAggregate, guardDistinct, guardGroupBy, guardOrderBy, isProtected } from './ordering-guard';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { scopeOfWhere } from './where-scope';
import { guardData, type WhereGuard } from './write-guard';

/** Validates the arguments of one model operation; throws `UnsupportedQueryError` on the first problem. */
export function guardQuery(view: SchemaView, model: ModelMeta, operation: string, args: Args, batch = false): void {
  new Guard(view, batch).operation(model, operation, args);
}

class Guard implements WhereGuard {
  /** Whether nested reads load each parent's rows on their own (see {@link Guard.holdsScope}). */
  private perParent = true;

  constructor(
    private readonly view: SchemaView,
    private readonly batch: boolean,
  ) {}

  operation(model: ModelMeta, operation: string, args: Args): void {
    // inside a batch $transaction the extension cannot list truncated-index candidates first
    if (args.where !== undefined)
      this.where(model, args.where, this.batch ? 'nested' : operationWherePosition(operation));
    // Nested reads joined in one query (`relationLoadStrategy: 'join'`) are not relied on to
    // apply a nested `distinct` per parent: only the default strategy is tested to.
    this.perParent = args.relationLoadStrategy !== 'join';
    this.read(model, args, true);
    if (operation === 'groupBy') guardGroupBy(this.view, model, args);
    if (operation === 'aggregate') guardAggregate(this.view, model, args);
    const updating = operation.startsWith('update');
    if (args.data !== undefined) for (const row of asList(args.data)) guardData(this.view, this, model, row, updating);
    if (operation === 'upsert') {
      guardData(this.view, this, model, args.create, false);
      guardData(this.view, this, model, args.update, true);
    }
  }

  /**
   * orderBy, cursor, distinct and nested selections of a read (root or nested).
   * @param oneScope - a nested read along a relation whose foreign key holds the scope field:
   *   the rows one parent loads all have the parent's scope
   */
  private read(model: ModelMeta, args: Args, root: boolean, oneScope = false): void {
    if (!root && args.where !== undefined) this.where(model, args.where, 'nested');
    if (args.orderBy !== undefined) guardOrderBy(this.view, model, args.orderBy);
    if (args.cursor !== undefined) this.where(model, args.cursor, 'unique');
    if (args.distinct !== undefined) guardDistinct(this.view, model, args.distinct, args.where, oneScope);
    for (const key of SELECTION_KEYS) {
      const selection = args[key];
      if (isPlainObject(selection)) this.selection(model, selection);
    }
  }

  private selection(model: ModelMeta, selection: Args): void {
    for (const [key, value] of Object.entries(selection)) {
      if (key === '_count' && isPlainObject(value) && isPlainObject(value.select)) {
        for (const [relation, countArgs] of Object.entries(value.select)) {
          const target = this.view.relationTarget(model, relation);
          if (target !== undefined && isPlainObject(countArgs) && countArgs.where !== undefined) {
            this.where(target, countArgs.where, 'nested');
          }
        }
        continue;
      }
      const target = this.view.relationTarget(model, key);
      if (target !== undefined && isPlainObject(value)) {
        this.read(target, value, false, this.perParent && this.holdsScope(model, key));
      }
    }
  }

  /**
   * Whether the rows `model`'s relation `relation` loads for one parent share one scope: the
   * related model's side of the relation holds its scope field in its foreign key, so each row
   * has the scope value of the parent's referenced field. (Prisma applies a nested `distinct`
   * per parent; test/extension/per-scope-index.test.ts checks that it still does.)
   */
  private holdsScope(model: ModelMeta, relation: string): boolean {
    const back = this.view.backRelation(model, relation);
    const scopeField = back?.model.scopeField;
    if (back === undefined || scopeField === undefined || !this.view.isListRelation(model, relation)) return false;
    return back.field.relationFromFields?.includes(scopeField) === true;
  }

  /** @param scoped - whether an enclosing where already names the scope (see `where-scope.ts`) */
  where(model: ModelMeta, where: unknown, position: WherePosition, scoped = false): void {
    if (!isPlainObject(where)) return;
    const inScope = scoped || scopeOfWhere(model, where) !== undefined;
    for (const [key, value] of Object.entries(where)) {
      if (value === undefined) continue;
      if (isLogicalKey(key)) {
        for (const item of asList(value)) this.where(model, item, logicalPosition(key, position), inScope);
      } else if (this.view.encrypted(model, key) !== undefined || this.view.blindIndex(model, key) !== undefined) {
        // Compared with another column: the comparison would read this one's ciphertext as is.
        forEachReference(value, (reference, operation) => {
          throw unsupported('fieldReference', model.name, key, `${reference.name} ${operation}`);
        });
        guardFieldFilter(this.view, model, key, value, position, inScope);
      } else if (this.view.relationTarget(model, key) !== undefined) {
        this.relationFilter(this.view.relationTarget(model, key) as ModelMeta, value);
      } else {
        this.fieldReferences(model, key, value);
        const compound = model.uniqueIndexes.find((unique) => unique.name === key);
        if (compound !== undefined && isPlainObject(value)) {
          for (const [field, part] of Object.entries(value)) {
            if (this.view.encrypted(model, field) || this.view.blindIndex(model, field)) {
              // A compound unique input takes plain values only; an object would reach Prisma
              // unrewritten and its validation error would echo the plaintext.
              if (typeof part !== 'string')
                throw notString(model.name, this.view.blindIndex(model, field)?.source ?? field);
              guardFieldFilter(this.view, model, field, part, 'unique', inScope);
            }
          }
        }
      }
    }
  }

  /**
   * A filter on a column that holds no ciphertext comparing it with another column
   * (`prisma.user.fields.email`): refused when either column is a match index, or the other one
   * holds ciphertext or a keyed index, which the comparison would read as is and match nothing,
   * silently.
   */
  private fieldReferences(model: ModelMeta, key: string, filter: unknown): void {
    const matchIndex = this.view.matchIndex(model, key) !== undefined;
    forEachReference(filter, (value, operation) => {
      if (matchIndex) throw unsupported('fieldReference', model.name, key, `${value.name} ${operation}`);
      const target = this.view.model(value.modelName);
      if (target !== undefined && isProtected(this.view, target, value.name))
        throw unsupported('fieldReference', target.name, value.name, `${key} ${operation}`);
    });
  }

  private relationFilter(target: ModelMeta, value: unknown): void {
    if (!isPlainObject(value)) return;
    // Wrapper keys mixed with direct filters are invalid for Prisma, whose error would echo
    // every value: each part is checked (and rewritten) as what it would mean; the direct
    // filters together, as one where (a per-scope lookup finds its scope beside it).
    const direct: Args = {};
    for (const [key, inner] of Object.entries(value)) {
      if (RELATION_FILTERS.has(key)) this.where(target, inner, 'nested');
      else direct[key] = inner;
    }
    if (Object.keys(direct).length > 0) this.where(target, direct, 'nested');
  }
}
