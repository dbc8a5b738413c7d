// Builders of generator metadata for the unit tests beside the code. Not compiled into dist
// (tsconfig excludes `*.fixture.ts`), and Jest runs only `*.test.ts`.
import type { FieldMeta } from './metadata';

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
