// Builders of generator metadata for the unit tests beside the code. Not compiled into dist
// (tsconfig excludes `*.fixture.ts`), and Jest runs only `*.test.ts`.
import type { FieldMeta, ModelMeta } from './metadata';

/**
 * A required `String` column named as its field, with `isId` set for a field called `id`;
 * `extra` overrides any of it.
 */
export const scalarField = (name: string, extra: Partial<FieldMeta> = {}): FieldMeta => ({
  name,
  dbName: name,
  kind: 'scalar',
  type: 'String',
  isList: false,
  isRequired: true,
  isId: name === 'id',
  ...extra,
});

/** A relation field to `target`, a list when `isList`. */
export const relationField = (name: string, target: string, isList: boolean): FieldMeta =>
  scalarField(name, { kind: 'object', type: target, isList, isId: false, relationModel: target });

/**
 * A relation field to `target` of the relation `relationName`: the side holding the foreign key
 * `key` (`[fromFields, toFields]`, a to-one) or, without it, the other side (a list).
 */
export const namedRelationField = (
  name: string,
  target: string,
  relationName: string,
  key?: [string[], string[]],
): FieldMeta => ({
  ...relationField(name, target, key === undefined),
  relationName,
  ...(key ? { relationFromFields: key[0], relationToFields: key[1] } : {}),
});

/**
 * A model named `name` (its table: the name in lower case) with `fields`, keyed by their names,
 * an autoincrement `id` not bound into its rows, and no encrypted field, index or compound unique;
 * `extra` overrides any of it.
 */
export const modelMeta = (name: string, fields: FieldMeta[], extra: Partial<ModelMeta> = {}): ModelMeta => ({
  name,
  dbName: name.toLowerCase(),
  idFields: ['id'],
  idGeneration: 'autoincrement',
  bindRowId: false,
  fields: Object.fromEntries(fields.map((field) => [field.name, field])),
  encrypted: {},
  blindIndexes: {},
  uniqueIndexes: [],
  ...extra,
});
