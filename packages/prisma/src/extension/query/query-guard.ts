/**
 * Fail-closed checks, run synchronously over the whole argument tree BEFORE anything else
 * (before key lookups, which are queries too), so a refused query sends nothing at all.
 * Refused: any filter on an encrypted field other than equality/in/notIn/not through a blind
 * index (contains, ranges, mode, search...), equality with no blind index, ordering,
 * distinct, groupBy or aggregates over ciphertext, ordering by a blind-index column,
 * truncated-index lookups where false positives cannot be removed, writes to a
 * blind-index column, and values to write or look up that cannot be encrypted (lone
 * surrogates, over the size cap).
 */
import { checkBytes, checkPlaintext, codePointLength, queryGrams, type MatchKind } from '@hushfield/core';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { isPrismaNull, jsonText } from '../../typed-values';
import { isComputedPlaceholder } from '../computed-index';
import { blindIndexWrite, matchIndexWrite, notString, notTyped, scopeRequired, unsupported } from '../messages';
import {
  AGGREGATES,
  asList,
  EQUALITY_OPERATORS,
  isLogicalKey,
  isRootPosition,
  logicalPosition,
  MATCH_OPERATORS,
  NESTED_WRITE_OPERATIONS,
  nestedWriteParts,
  operationWherePosition,
  RELATION_FILTERS,
  SELECTION_KEYS,
  type WherePosition,
} from './arg-shapes';
import { type Args, isPerScopeIndex, isPlainObject, pickMatchIndex, type SchemaView } from '../schema-view';
import { scopeOfWhere } from './where-scope';

/** Validates the arguments of one model operation; throws `UnsupportedQueryError` on the first problem. */
export function guardQuery(view: SchemaView, model: ModelMeta, operation: string, args: Args, batch = false): void {
  new Guard(view, batch).operation(model, operation, args);
}

class Guard {
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
    if (operation === 'groupBy') this.groupBy(model, args);
    if (operation === 'aggregate') this.aggregate(model, args);
    const updating = operation.startsWith('update');
    if (args.data !== undefined) for (const row of asList(args.data)) this.data(model, row, updating);
    if (operation === 'upsert') {
      this.data(model, args.create, false);
      this.data(model, args.update, true);
    }
  }

  /**
   * orderBy, cursor, distinct and nested selections of a read (root or nested).
   * @param oneScope - a nested read along a relation whose foreign key holds the scope field:
   *   the rows one parent loads all have the parent's scope
   */
  private read(model: ModelMeta, args: Args, root: boolean, oneScope = false): void {
    if (!root && args.where !== undefined) this.where(model, args.where, 'nested');
    if (args.orderBy !== undefined) this.orderBy(model, args.orderBy);
    if (args.cursor !== undefined) this.where(model, args.cursor, 'unique');
    if (args.distinct !== undefined) this.distinct(model, args.distinct, args.where, oneScope);
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
        this.fieldFilter(model, key, value, position, inScope);
      } else if (this.view.relationTarget(model, key) !== undefined) {
        this.relationFilter(this.view.relationTarget(model, key) as ModelMeta, value);
      } else {
        this.fieldReferences(key, value);
        const compound = model.uniqueIndexes.find((unique) => unique.name === key);
        if (compound !== undefined && isPlainObject(value)) {
          for (const [field, part] of Object.entries(value)) {
            if (this.view.encrypted(model, field) || this.view.blindIndex(model, field)) {
              // A compound unique input takes plain values only; an object would reach Prisma
              // unrewritten and its validation error would echo the plaintext.
              if (typeof part !== 'string')
                throw notString(model.name, this.view.blindIndex(model, field)?.source ?? field);
              this.fieldFilter(model, field, part, 'unique', inScope);
            }
          }
        }
      }
    }
  }

  /**
   * A filter on a plain column comparing it with another column (`prisma.user.fields.email`):
   * refused when that column holds ciphertext or a keyed index, which the comparison would read
   * as is and match nothing, silently.
   */
  private fieldReferences(key: string, filter: unknown): void {
    forEachReference(filter, (value, operation) => {
      const target = this.view.model(value.modelName);
      if (target !== undefined && this.isProtected(target, value.name))
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

  /** A filter on an encrypted field or (meaning its plaintext) on its blind-index column. */
  private fieldFilter(model: ModelMeta, key: string, filter: unknown, position: WherePosition, scoped: boolean): void {
    const typed = this.view.encrypted(model, key);
    if (typed?.type !== undefined) return typedFilter(model, typed, filter);
    const index = this.view.blindIndex(model, key);
    const source = index?.source ?? key;
    const indexes = index !== undefined ? [index] : this.view.indexesOf(model, source);
    const isNullCheck = (value: unknown) => value === null;
    const check = (operation: string, value: unknown): void => {
      if (isNullCheck(value)) return;
      if (indexes.length === 0) throw unsupported('noBlindIndex', model.name, source, operation);
      // Its index values are keyed per scope: computable only for the scope the where names.
      const used = this.view.lookupIndex(model, key);
      if (!scoped && used !== undefined && isPerScopeIndex(used))
        throw scopeRequired(model.name, source, model.scopeField as string);
      const truncated = indexes.every((i) => i.bits < 256);
      if (truncated && (!isRootPosition(position) || operation === 'not' || operation === 'notIn')) {
        throw unsupported('truncated', model.name, source, operation);
      }
      const values = operation === 'in' || operation === 'notIn' ? asList(value) : [value];
      for (const item of values) {
        if (typeof item !== 'string') throw notString(model.name, source);
        // A lone surrogate would be hashed as U+FFFD and match rows holding U+FFFD.
        checkPlaintext(item, `${model.name}.${source}`);
      }
    };
    if (!isPlainObject(filter)) return check('equals', filter);
    if (index === undefined && Object.keys(filter).some((operation) => MATCH_OPERATORS.has(operation))) {
      this.matchFilter(model, source, filter, position);
    }
    for (const [operation, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      if (index === undefined && (MATCH_OPERATORS.has(operation) || operation === 'mode')) {
        if (operation === 'mode' && !Object.keys(filter).some((key) => MATCH_OPERATORS.has(key)))
          throw unsupported('matchMode', model.name, source, 'mode');
        continue;
      }
      if (!EQUALITY_OPERATORS.has(operation)) throw unsupported('operator', model.name, source, operation);
      if (operation === 'not' && isPlainObject(value)) {
        if (Object.values(value).every(isNullCheck)) continue;
        if (indexes.length === 0) throw unsupported('noBlindIndex', model.name, source, 'not');
        this.fieldFilter(model, key, value, isRootPosition(position) ? 'nested' : position, scoped);
        if (indexes.every((i) => i.bits < 256)) throw unsupported('truncated', model.name, source, 'not');
        continue;
      }
      check(operation, value);
    }
  }

  /**
   * contains / startsWith / endsWith (and mode) on an encrypted field: answered through a match
   * index at a root position only, where the candidates can be decrypted and re-checked.
   */
  private matchFilter(model: ModelMeta, source: string, filter: Args, position: WherePosition): void {
    const indexes = this.view.matchSpecs(model, source);
    const insensitive = filter.mode === 'insensitive';
    for (const [operation, value] of Object.entries(filter)) {
      if (value === undefined || !MATCH_OPERATORS.has(operation)) continue;
      if (indexes.length === 0) throw unsupported('noMatchIndex', model.name, source, operation);
      if (!isRootPosition(position)) throw unsupported('matchPosition', model.name, source, operation);
      if (filter.mode !== undefined && filter.mode !== 'default' && !insensitive)
        throw unsupported('matchMode', model.name, source, 'mode');
      // Insensitive equality through a blind index would depend on its normalizers: refused.
      if (insensitive && Object.keys(filter).some((key) => EQUALITY_OPERATORS.has(key)))
        throw unsupported('matchMode', model.name, source, 'mode');
      const chosen = pickMatchIndex(indexes, insensitive);
      if (chosen === undefined) throw unsupported('matchMode', model.name, source, `${operation} (mode: insensitive)`);
      if (typeof value !== 'string') throw notString(model.name, source);
      checkPlaintext(value, `${model.name}.${source}`);
      if (codePointLength(value) > chosen.spec.maxLength)
        throw unsupported('matchTooLong', model.name, source, operation);
      if (queryGrams(chosen.spec, operation as MatchKind, value) === null)
        throw unsupported('matchTooShort', model.name, source, operation);
    }
  }

  private orderBy(model: ModelMeta, orderBy: unknown): void {
    for (const item of asList(orderBy)) {
      if (!isPlainObject(item)) continue;
      for (const [key, value] of Object.entries(item)) {
        if (this.isProtected(model, key)) throw unsupported('ordering', model.name, key, 'orderBy');
        if (key === '_relevance' && isPlainObject(value)) {
          for (const field of asList(value.fields)) {
            if (typeof field === 'string' && this.isProtected(model, field)) {
              throw unsupported('ordering', model.name, field, 'orderBy _relevance');
            }
          }
        }
        if (AGGREGATES.has(key) && isPlainObject(value)) {
          for (const field of Object.keys(value)) {
            if (key !== '_count' && this.isProtected(model, field))
              throw unsupported('ordering', model.name, field, `orderBy ${key}`);
          }
        }
        const target = this.view.relationTarget(model, key);
        if (target !== undefined && !this.view.isListRelation(model, key)) this.orderBy(target, value);
      }
    }
  }

  private distinct(model: ModelMeta, distinct: unknown, where: unknown, oneScope: boolean): void {
    this.grouping(model, asList(distinct), where, 'distinct', oneScope);
  }

  private groupBy(model: ModelMeta, args: Args): void {
    this.grouping(model, asList(args.by), args.where, 'groupBy by');
    if (isPlainObject(args.having)) this.having(model, args.having);
    this.aggregate(model, args);
  }

  /**
   * Fields a read groups rows by (`distinct`, `groupBy` `by`). Never an encrypted field (that
   * groups by ciphertext); a blind-index column only at full length (a truncated one merges
   * groups by collision) and, when it is keyed per scope, only where groups cannot span scopes:
   * the scope field is grouped by too, the where pins one scope, or (`oneScope`) a nested read
   * loads the rows of one parent along the relation that holds the scope. Equal values of different
   * scopes have different per-scope index values, so one group would come back split; and while
   * the index is still `migrating` from the shared one, even within one scope.
   */
  private grouping(
    model: ModelMeta,
    fields: readonly unknown[],
    where: unknown,
    operation: string,
    oneScope = false,
  ): void {
    const scopeField = model.scopeField;
    const withinScope = () =>
      scopeField !== undefined && (oneScope || fields.includes(scopeField) || scopeOfWhere(model, where) !== undefined);
    for (const field of fields) {
      if (typeof field !== 'string') continue;
      if (this.view.encrypted(model, field)) throw unsupported('ordering', model.name, field, operation);
      const index = this.view.blindIndex(model, field);
      if (index === undefined) continue;
      if (index.bits < 256) throw unsupported('truncated', model.name, field, operation);
      // Still moving from the shared index: a scope's rows hold values of either family.
      if (index.perScope === 'migrating') throw unsupported('migratingGroup', model.name, field, operation);
      if (isPerScopeIndex(index) && !withinScope()) throw unsupported('scopeGroup', model.name, field, operation);
    }
  }

  private having(model: ModelMeta, having: Args): void {
    for (const [key, value] of Object.entries(having)) {
      if (key === 'AND' || key === 'OR' || key === 'NOT') {
        for (const item of asList(value)) if (isPlainObject(item)) this.having(model, item);
      } else if (this.isProtected(model, key)) {
        throw unsupported('ordering', model.name, key, 'groupBy having');
      }
    }
  }

  private aggregate(model: ModelMeta, args: Args): void {
    for (const key of ['_min', '_max']) {
      const selection = args[key];
      if (!isPlainObject(selection)) continue;
      for (const [field, on] of Object.entries(selection)) {
        if (on && this.view.encrypted(model, field)) throw unsupported('aggregate', model.name, field, key);
      }
    }
  }

  /**
   * Write data, including nested writes under relations. An update may not change the id of
   * a bound model: its stored ciphertexts name the old id (create a new row instead).
   */
  private data(model: ModelMeta, data: unknown, updating: boolean, nested = false): void {
    if (!isPlainObject(data)) return;
    // Only a top-level update reads the row and re-encrypts it under the new scope.
    const scope = model.scopeField;
    if (
      nested &&
      updating &&
      scope !== undefined &&
      data[scope] !== undefined &&
      Object.keys(model.encrypted).length > 0
    ) {
      throw unsupported('scopeMove', model.name, scope, 'update');
    }
    // Through the relation, the scope changes where the extension cannot see the new value.
    if (updating && scope !== undefined && Object.keys(model.encrypted).length > 0) {
      // Every relation whose foreign key holds the scope, not only the one the scope is taken from.
      for (const relation of this.view.scopeRelations(model)) {
        if (data[relation] !== undefined) throw unsupported('scopeRelation', model.name, relation, 'update');
      }
    }
    for (const [key, value] of Object.entries(data)) {
      if (value === undefined) continue;
      const carried = updating ? this.view.scopeCarriedBy(model, key) : undefined;
      if (carried !== undefined) {
        const scope = carried.child.scopeField as string;
        throw unsupported('scopeCascade', carried.child.name, scope, `updating ${model.name}.${key}`);
      }
      if (this.view.blindIndex(model, key)) {
        if (isComputedPlaceholder(value)) continue;
        throw blindIndexWrite(model.name, key);
      }
      if (this.view.matchIndex(model, key)) throw matchIndexWrite(model.name, key);
      if (updating && model.bindRowId && model.idFields.includes(key) && Object.keys(model.encrypted).length > 0) {
        throw unsupported('rekeyMany', model.name, key, 'update');
      }
      const encrypted = this.view.encrypted(model, key);
      if (encrypted?.type !== undefined) {
        typedWrite(model, encrypted, value);
        continue;
      }
      if (encrypted) {
        const plain = isPlainObject(value) && 'set' in value ? value.set : value;
        if (plain !== null && typeof plain !== 'string') throw notString(model.name, key);
        // Refused here, before the scope's key is read or created for it.
        if (plain !== null) checkPlaintext(plain, `${model.name}.${key}`);
        continue;
      }
      const target = this.view.relationTarget(model, key);
      if (target !== undefined && isPlainObject(value)) {
        this.nestedWrite(target, value, this.movesScope(model, key, target), this.view.isListRelation(model, key));
      }
    }
  }

  /**
   * Whether linking an existing row through `model.relation` sets that row's scope field (the
   * foreign key on the other side carries it): a `connect` or `set` there would move rows to
   * another scope without re-encrypting them.
   */
  private movesScope(model: ModelMeta, relation: string, target: ModelMeta): boolean {
    const scope = target.scopeField;
    if (scope === undefined || Object.keys(target.encrypted).length === 0) return false;
    return this.view.backRelation(model, relation)?.field.relationFromFields?.includes(scope) === true;
  }

  private nestedWrite(target: ModelMeta, ops: Args, movesScope: boolean, list: boolean): void {
    for (const [op, value] of Object.entries(ops)) {
      if (value === undefined) continue;
      // A misspelt operation would reach Prisma, whose validation error prints the arguments.
      if (!NESTED_WRITE_OPERATIONS.has(op) && this.view.isSensitive(target)) {
        throw unsupported('nestedOperation', target.name, '', op);
      }
      if (movesScope && (op === 'connect' || op === 'set'))
        throw unsupported('scopeLink', target.name, target.scopeField as string, op);
      for (const item of asList(value)) {
        // To-one `{ data, ...fields }` is the target's own data only if it has a field `data`.
        if (op === 'update' && !list && isPlainObject(item) && 'data' in item && target.fields.data === undefined) {
          if (Object.keys(item).some((key) => key !== 'data' && key !== 'where'))
            throw unsupported('nestedUpdateShape', target.name, '', op);
        }
        const parts = nestedWriteParts(op, item, list);
        if (parts.where !== undefined) this.where(target, parts.where.value, parts.where.position);
        for (const row of parts.creates) this.data(target, row, false);
        if (parts.update !== undefined) this.data(target, parts.update, true, true);
      }
    }
  }

  /** Whether `field` stores ciphertext, a blind index or a match index: ordering or aggregating it is meaningless. */
  private isProtected(model: ModelMeta, field: string): boolean {
    return (
      this.view.encrypted(model, field) !== undefined ||
      this.view.blindIndex(model, field) !== undefined ||
      this.view.matchIndex(model, field) !== undefined
    );
  }
}

/** Calls `visit` with each field reference a column's filter compares the column with, and the operation. */
function forEachReference(
  filter: unknown,
  visit: (reference: { modelName: string; name: string }, operation: string) => void,
): void {
  if (isFieldReference(filter)) visit(filter, 'equals');
  if (!isPlainObject(filter)) return;
  for (const [operation, value] of Object.entries(filter)) {
    if (operation === 'not' && isPlainObject(value)) forEachReference(value, visit);
    else for (const item of asList(value)) if (isFieldReference(item)) visit(item, operation);
  }
}

/** A Prisma field reference (`prisma.<model>.fields.<field>`), recognised by its shape. */
function isFieldReference(value: unknown): value is { modelName: string; name: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const ref = value as { modelName?: unknown; name?: unknown; typeName?: unknown };
  return typeof ref.modelName === 'string' && typeof ref.name === 'string' && typeof ref.typeName === 'string';
}

/**
 * A filter on an encrypted `Json`, `Bytes` or `String[]` field: its value is sealed whole (a
 * list element by element), so only null checks can be answered: `null` (or `{ equals: null }`,
 * `{ not: null }`) on `Bytes?`, and `Prisma.DbNull` (SQL NULL) on `Json?`. Every other filter
 * (JSON `path`, `array_contains`, `equals` on a value, list `has`/`hasSome`/`hasEvery`/`isEmpty`,
 * JsonNull and AnyNull, which would need to see into the sealed value) is refused.
 */
function typedFilter(model: ModelMeta, field: EncryptedFieldMeta, filter: unknown): void {
  const isNullCheck = (value: unknown) =>
    field.type === 'Json' ? isPrismaNull(value, 'DbNull') : field.type === 'Bytes' && value === null;
  if (filter === null && field.type !== 'Json') return;
  if (!isPlainObject(filter)) throw unsupported('typedFilter', model.name, field.name, 'equals');
  for (const [operation, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if ((operation === 'equals' || operation === 'not') && isNullCheck(value)) continue;
    const named = isPrismaNull(value) ? `${operation} ${String(value)}` : operation;
    throw unsupported('typedFilter', model.name, field.name, named);
  }
}

/**
 * A value written to an encrypted `Json`, `Bytes` or `String[]` field, checked before anything is
 * sent or any key read: a JSON-serializable value (or `Prisma.JsonNull`/`DbNull`) of at most
 * 16 MiB serialized, a `Uint8Array` of at most 16 MiB, a list of strings written whole (`set`;
 * `push` is refused). Plain `null` is left to Prisma, which decides what it means for the field.
 */
function typedWrite(model: ModelMeta, field: EncryptedFieldMeta, value: unknown): void {
  const argument = `${model.name}.${field.name}`;
  switch (field.type) {
    case 'Json': {
      if (value === null || isPrismaNull(value)) return;
      let text: string | undefined;
      try {
        text = jsonText(value);
      } catch {
        text = undefined;
      }
      if (text === undefined) throw notTyped(model.name, field.name, 'a JSON value, Prisma.JsonNull or Prisma.DbNull');
      checkPlaintext(text, argument);
      return;
    }
    case 'Bytes': {
      const plain = isPlainObject(value) && 'set' in value ? value.set : value;
      if (plain === null) return;
      if (!(plain instanceof Uint8Array)) throw notTyped(model.name, field.name, 'bytes (a Uint8Array) or null');
      checkBytes(plain, argument);
      return;
    }
    case 'String[]': {
      if (isPlainObject(value)) {
        const other = Object.keys(value).find((key) => key !== 'set' && value[key] !== undefined);
        if (other !== undefined) throw unsupported('listPush', model.name, field.name, other);
      }
      const plain = isPlainObject(value) ? value.set : value;
      if (plain === null || plain === undefined) return;
      if (!Array.isArray(plain)) throw notTyped(model.name, field.name, 'a list of strings');
      for (const item of plain) {
        if (typeof item !== 'string') throw notTyped(model.name, field.name, 'a list of strings');
        checkPlaintext(item, argument);
      }
      return;
    }
  }
}
