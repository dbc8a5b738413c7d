/**
 * Where a stored value lives, as core binds it: the associated-data context of a field in a
 * row (database names; the row id when the model's policy binds it, never because the stored
 * value says so), and the current version of each blind index. Built exactly as the extension
 * builds them, or values written by one would not open under the other.
 */
import type { FieldContext, FieldCrypto } from '@hushfield/core';
import { blindIndexSpec } from '@hushfield/prisma';
import type { EncryptedFieldMeta, ModelMeta } from '@hushfield/prisma';

/** The associated-data context of `field` in `row`. */
export function fieldContext(model: ModelMeta, field: EncryptedFieldMeta, row: Record<string, unknown>): FieldContext {
  const context: FieldContext = { model: model.dbName, field: field.dbName };
  if (model.bindRowId && model.idFields.length === 1) return { ...context, rowId: String(row[model.idFields[0]]) };
  return context;
}

/** The current version of each of the model's blind indexes, by index field name (creates the index root key on first use). */
export async function currentIndexVersions(model: ModelMeta, crypto: FieldCrypto): Promise<Map<string, number | null>> {
  const versions = new Map<string, number | null>();
  for (const index of Object.values(model.blindIndexes)) {
    versions.set(index.name, crypto.blindIndexVersion(await crypto.blindIndex(blindIndexSpec(model, index), 'hushfield-version-probe')));
  }
  return versions;
}
