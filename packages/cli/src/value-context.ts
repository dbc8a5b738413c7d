/**
 * Where a stored value lives, for the CLI: the associated-data context of a field in a row
 * and the current version of each blind index, from the same definitions the extension uses
 * (`@hushfield/prisma`'s `valueContext` and `boundRowId`, and the key hierarchy).
 */
import type { FieldContext, FieldCrypto } from '@hushfield/core';
import { boundRowId, valueContext } from '@hushfield/prisma';
import type { EncryptedFieldMeta, ModelMeta } from '@hushfield/prisma';

/** The associated-data context of `field` in `row`. */
export function fieldContext(model: ModelMeta, field: EncryptedFieldMeta, row: Record<string, unknown>): FieldContext {
  return valueContext(model, field, boundRowId(model, row));
}

/**
 * The current index root version of each of the model's blind and match indexes, by index field name,
 * as the key hierarchy holds it (creates the index root key on first use).
 */
export async function currentIndexVersions(model: ModelMeta, crypto: FieldCrypto): Promise<Map<string, number | null>> {
  const [current] = await crypto.keys.indexRootVersions();
  const names = [...Object.keys(model.blindIndexes), ...Object.keys(model.matchIndexes ?? {})];
  return new Map(names.map((name) => [name, current?.version ?? null]));
}
