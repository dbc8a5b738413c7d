/**
 * Prisma's argument keys, sorted by what their values hold, as `echoed-values.ts` tells a value
 * Prisma takes where it stands from one it would refuse (and echo).
 */

/** Prisma's filter and update operators: keys under a sensitive field that are not a JSON value's. */
export const FILTER_KEYS = new Set([
  'equals',
  'not',
  'notIn',
  'contains',
  'startsWith',
  'endsWith',
  'mode',
  'hasSome',
  'hasEvery',
  'isEmpty',
  'push',
  'path',
  'string_contains',
  'string_starts_with',
  'string_ends_with',
  'array_contains',
  'array_starts_with',
  'array_ends_with',
  'isSet',
  'unset',
]);

/**
 * Prisma's own argument names that are not fields: operation arguments, nested writes, relation
 * filters, update operators, ordering and aggregates. A name neither here nor a field of the
 * schema is a mistake (Prisma refuses it), and its value is withheld in case it was meant for an
 * encrypted field.
 */
export const PRISMA_KEYS = new Set([
  ...FILTER_KEYS,
  ...['where', 'data', 'select', 'include', 'omit', 'orderBy', 'cursor', 'take', 'skip', 'distinct'],
  ...['relationLoadStrategy', 'by', 'having', '_count', '_avg', '_sum', '_min', '_max', '_all', '_relevance'],
  ...['create', 'createMany', 'connectOrCreate', 'connect', 'disconnect', 'set', 'update', 'updateMany'],
  ...['upsert', 'delete', 'deleteMany', 'skipDuplicates', 'limit'],
  ...['AND', 'OR', 'NOT', 'some', 'every', 'none', 'is', 'isNot', 'in', 'lt', 'lte', 'gt', 'gte', 'search', 'has'],
  ...['increment', 'decrement', 'multiply', 'divide', 'sort', 'nulls', 'fields'],
]);

/** Prisma's operators on one scalar field's value: taken only under such a field. */
export const SCALAR_OPERATORS = new Set([
  ...FILTER_KEYS,
  ...['in', 'lt', 'lte', 'gt', 'gte', 'has', 'increment', 'decrement', 'multiply', 'divide'],
]);

/**
 * Prisma's keys whose value must be an object (or a list of objects): a string, number or date
 * given there is a misplaced value (`AND: email`), which Prisma echoes, and it is withheld.
 * Used where the operation's model is not known; where it is, only the places listed in
 * `Keeps` in `echoed-values.ts` keep such a value.
 */
export const OBJECT_KEYS = new Set([
  ...['where', 'data', 'cursor', 'having', 'AND', 'OR', 'NOT', 'some', 'every', 'none', 'is', 'isNot'],
  ...['create', 'createMany', 'connectOrCreate', 'connect', 'update', 'updateMany', 'upsert', 'deleteMany'],
]);

/**
 * Prisma's keys whose object holds a model's fields (a where, written data, a unique input; the
 * nested writes that take a where: `deleteMany`, `delete`, `disconnect`, `set`).
 */
export const FIELD_OBJECT_KEYS = new Set([
  ...['where', 'data', 'cursor', 'having', 'AND', 'OR', 'NOT', 'some', 'every', 'none', 'is', 'isNot'],
  ...['create', 'connect', 'deleteMany', 'delete', 'disconnect', 'set'],
]);

/** Prisma's keys whose object names fields to return (or leave out) with `true`, or a relation's arguments. */
export const SELECTION_KEYS = new Set(['select', 'include', 'omit', '_count', '_avg', '_sum', '_min', '_max']);

/** An ordering's keys other than fields: a direction with its nulls, a relation's count, aggregates, relevance. */
export const ORDER_KEYS = new Set(['sort', 'nulls', '_count', '_avg', '_sum', '_min', '_max', '_relevance', 'fields']);

/** The words Prisma takes as values outside a field: directions, where nulls go, a relation load strategy. */
export const WORDS = new Set(['asc', 'desc', 'first', 'last', 'join', 'query']);
