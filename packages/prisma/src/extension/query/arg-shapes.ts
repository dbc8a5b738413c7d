/**
 * Prisma's argument shapes, described once: the keys of a where clause and what position
 * their values take, the relation filters, the keys of a nested read, and what each
 * nested-write operation under a relation field holds. The guard (synchronous, first), the
 * where rewriter and the write and read walks all read these descriptions, so a shape Prisma
 * adds is taught to every walk in one place.
 */
import { type Args, isPlainObject } from '../schema-view';

/**
 * Where a where clause sits, which decides what it may use:
 * - `root`: the where of a list or first-row read, count, or many-row write: its top-level
 *   conjuncts may go through truncated indexes (candidates are re-checked after decryption);
 * - `uniqueRoot`: the where of findUnique, update, upsert or delete: its own keys form a
 *   unique input (single-valued), its AND conjuncts are a `root`;
 * - `unique`: a unique input elsewhere (cursor, connect, nested upsert...): single-valued;
 * - `nested`: anywhere else (under OR or NOT, relation filters, nested reads and writes).
 */
export type WherePosition = 'root' | 'uniqueRoot' | 'unique' | 'nested';

/** Operations whose `where` is a unique input. */
const UNIQUE_WHERE = new Set(['findUnique', 'findUniqueOrThrow', 'update', 'upsert', 'delete']);

/** The position of an operation's own `where`. */
export function operationWherePosition(operation: string): WherePosition {
  return UNIQUE_WHERE.has(operation) ? 'uniqueRoot' : 'root';
}

/** Whether truncated-index candidates found at `position` can be re-checked (root conjuncts only). */
export function isRootPosition(position: WherePosition): boolean {
  return position === 'root' || position === 'uniqueRoot';
}

/** The logical combinators of a where clause. */
export type LogicalKey = 'AND' | 'OR' | 'NOT';

/** Whether `key` is a logical combinator (`AND`, `OR`, `NOT`). */
export function isLogicalKey(key: string): key is LogicalKey {
  return key === 'AND' || key === 'OR' || key === 'NOT';
}

/**
 * The position of the clauses under a logical key: `AND` keeps a root (a unique root's
 * conjuncts are an ordinary root), `OR` and `NOT` make everything nested.
 */
export function logicalPosition(key: LogicalKey, position: WherePosition): WherePosition {
  if (key !== 'AND') return 'nested';
  return position === 'uniqueRoot' ? 'root' : position;
}

/** Wrappers of a relation filter: `some`/`every`/`none` on lists, `is`/`isNot` on to-one. */
export const RELATION_FILTERS: ReadonlySet<string> = new Set(['some', 'every', 'none', 'is', 'isNot']);

/** Filter operators the extension answers on an encrypted field, through a blind index. */
export const EQUALITY_OPERATORS: ReadonlySet<string> = new Set(['equals', 'in', 'notIn', 'not']);

/** String filters a match index answers (with candidates re-checked after decryption). */
export const MATCH_OPERATORS: ReadonlySet<string> = new Set(['contains', 'startsWith', 'endsWith']);

/** Aggregate keys of orderBy, groupBy and aggregate. */
export const AGGREGATES: ReadonlySet<string> = new Set(['_count', '_min', '_max', '_avg', '_sum']);

/** The selection keys of read arguments that can hold nested reads. */
export const SELECTION_KEYS = ['select', 'include'] as const;

/** `value` as a list (Prisma accepts one item or an array in most places). */
export function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * `where` narrowed by `condition` (both plain where objects): the condition's keys set beside
 * the where's own when each of its values is a string or a number (an id or scope value as the
 * database returned it) that the where does not give, or gives as the very same value;
 * otherwise the condition as one more `AND` conjunct. Both forms filter the same rows, but a
 * unique field set beside must hold a plain value (Prisma's unique input takes no filter
 * object there), hence the first rule. Measured on PostgreSQL, plain Prisma's update whose
 * where carries the scope as an `AND` list costs Prisma itself more CPU than the same where
 * with the scope beside the id (bench/where-shape.ts, bench/FINDINGS.md).
 */
export function narrowed(where: Args, condition: Args): Args {
  // Whether Object.assign copies exactly as a spread would (see below).
  let assignable = Object.getOwnPropertySymbols(where).length === 0;
  for (const key of Object.keys(condition)) {
    const value = condition[key];
    const plain = typeof value === 'string' || typeof value === 'number';
    if (!plain || (where[key] !== undefined && where[key] !== value)) {
      return { ...where, AND: [...asList(where.AND), condition] };
    }
    if (key in Object.prototype) assignable = false;
  }
  // Not `{ ...where, ...condition }`: on Node 20 a spread followed by more keys takes V8's slow
  // path (about 0.7 µs against 0.06 µs for a where of one key). Unlike a spread, assignment goes
  // through whatever Object.prototype holds under the same name (the `__proto__` setter, a
  // setter added by someone else, a frozen built-in), which could drop a key or throw: a where
  // or condition with such a key (or any symbol key) is spread after all.
  // Inherited enumerable keys (only there if Object.prototype has them) make it spread too.
  for (const key in where) if (key in Object.prototype) assignable = false;
  return assignable ? Object.assign({}, where, condition) : { ...where, ...condition };
}

/** What one item of a nested-write operation under a relation field holds. */
export interface NestedWriteParts {
  /** A where clause naming existing rows, with its position. */
  readonly where?: { readonly value: unknown; readonly position: WherePosition };
  /** Data of rows it creates. */
  readonly creates: readonly unknown[];
  /** Data it writes to existing rows (an update). */
  readonly update?: unknown;
}

const NONE: NestedWriteParts = { creates: [] };

/**
 * The parts of one item of the nested-write operation `operation` (`create`, `createMany`,
 * `connect`, `connectOrCreate`, `set`, `disconnect`, `delete`, `deleteMany`, `update`,
 * `updateMany`, `upsert`) under a relation field, to-many when `list`. A to-one `update` item
 * is either the data itself or `{ where, data }`; a to-one `disconnect`/`delete` may be a
 * boolean (no where).
 */
export function nestedWriteParts(operation: string, item: unknown, list: boolean): NestedWriteParts {
  switch (operation) {
    case 'create':
      return { creates: [item] };
    case 'createMany':
      return isPlainObject(item) ? { creates: asList(item.data) } : NONE;
    case 'connect':
    case 'set':
    case 'disconnect':
    case 'delete':
      return isPlainObject(item) ? { where: { value: item, position: 'unique' }, creates: [] } : NONE;
    case 'deleteMany':
      return { where: { value: item, position: 'nested' }, creates: [] };
    case 'connectOrCreate':
      return isPlainObject(item) ? { where: { value: item.where, position: 'unique' }, creates: [item.create] } : NONE;
    case 'upsert':
      if (!isPlainObject(item)) return NONE;
      return {
        where: item.where === undefined ? undefined : { value: item.where, position: list ? 'unique' : 'nested' },
        creates: [item.create],
        update: item.update,
      };
    case 'update': {
      if (!isPlainObject(item)) return NONE;
      // To-many: `{ where, data }`; to-one: the data itself, or `{ where?, data }`, which has no
      // other key (data beside other keys is the target's own field named `data`).
      if (!list && !isToOneUpdateWrapper(item)) return { creates: [], update: item };
      const where =
        item.where === undefined ? undefined : ({ value: item.where, position: list ? 'unique' : 'nested' } as const);
      return { where, creates: [], update: item.data };
    }
    case 'updateMany':
      return isPlainObject(item)
        ? { where: { value: item.where, position: 'nested' }, creates: [], update: item.data }
        : NONE;
    default:
      return NONE;
  }
}

/** Whether a to-one nested `update` item is the `{ where?, data }` form rather than the data itself. */
function isToOneUpdateWrapper(item: Args): boolean {
  return isPlainObject(item.data) && Object.keys(item).every((key) => key === 'data' || key === 'where');
}

/** Every nested-write operation Prisma has under a relation field. */
export const NESTED_WRITE_OPERATIONS = new Set([
  'create',
  'createMany',
  'connect',
  'connectOrCreate',
  'set',
  'disconnect',
  'delete',
  'deleteMany',
  'update',
  'updateMany',
  'upsert',
]);

/** Nested-write operations whose items always create rows (an `upsert`'s create only may). */
const CREATING_OPERATIONS = ['create', 'createMany', 'connectOrCreate'] as const;

/** A row a nested write creates: its data, and for a `connectOrCreate`, the where naming the row it links instead. */
export interface NestedCreate {
  readonly data: Args;
  /** The `connectOrCreate`'s unique where (as given): while it names a row, the create does not run. */
  readonly existing?: Args;
}

/** Every row the nested writes `ops` under one relation field always create (objects only). */
export function nestedCreates(ops: Args, list: boolean): NestedCreate[] {
  const rows: NestedCreate[] = [];
  for (const operation of CREATING_OPERATIONS) {
    for (const item of asList(ops[operation])) {
      const parts = nestedWriteParts(operation, item, list);
      const existing = operation === 'connectOrCreate' ? connectWhere(parts) : undefined;
      for (const data of parts.creates) if (isPlainObject(data)) rows.push(existing ? { data, existing } : { data });
    }
  }
  return rows;
}

/** A `connectOrCreate`'s where, when it is an object. */
function connectWhere(parts: NestedWriteParts): Args | undefined {
  const where = parts.where?.value;
  return isPlainObject(where) ? where : undefined;
}
