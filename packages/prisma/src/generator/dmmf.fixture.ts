/**
 * DMMF builders for the generator's unit tests (kept out of `dist` with every `*.fixture.ts`):
 * a field with Prisma's defaults for a required `String`, a model of such fields, and the key
 * store model the generator requires beside the models it reads.
 */
import type { DmmfField, DmmfModel } from './dmmf';

/** What a test gives of a field: its name and what differs from a required `String`. */
export type FieldInit = Partial<DmmfField> & { name: string };

/** A scalar field: a required `String` unless `init` says otherwise (`hasDefaultValue` follows `default`). */
export function dmmfField(init: FieldInit): DmmfField {
  return {
    kind: 'scalar',
    type: 'String',
    isList: false,
    isRequired: true,
    isUnique: false,
    isId: false,
    hasDefaultValue: init.default !== undefined,
    ...init,
  };
}

/** A model named `name` with `fields`, no `@@id` and no `@@unique` unless `extra` gives them. */
export function dmmfModel(name: string, fields: FieldInit[], extra: Partial<DmmfModel> = {}): DmmfModel {
  return { name, dbName: null, fields: fields.map(dmmfField), primaryKey: null, uniqueIndexes: [], ...extra };
}

/** The key store model as the README's schema declares it, named `name`. */
export function keyStoreModel(name = 'HushfieldKey'): DmmfModel {
  return dmmfModel(
    name,
    [
      { name: 'id', isId: true, default: { name: 'uuid', args: [] } },
      { name: 'keyId' },
      { name: 'kind' },
      { name: 'scope' },
      { name: 'version', type: 'Int' },
      { name: 'state' },
      { name: 'wrappedKey', isRequired: false },
      { name: 'keyringId' },
      { name: 'createdAt', type: 'DateTime', default: { name: 'now', args: [] } },
      { name: 'updatedAt', type: 'DateTime', isUpdatedAt: true },
    ],
    {
      uniqueIndexes: [
        { name: null, fields: ['kind', 'scope', 'version'] },
        { name: null, fields: ['keyId', 'version'] },
      ],
    },
  );
}
