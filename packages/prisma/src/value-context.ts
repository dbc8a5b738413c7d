/**
 * Where a stored value lives, as core binds it: the associated-data context of an encrypted
 * field in a row (database names; the row id only when the model's policy binds it, never
 * because the stored value says so), and the client delegate a model is reached through. The
 * extension and the CLI both build them here: values written by one must open under the other.
 */
import type { DecryptItem, FieldContext } from '@hushfield/core';
import { scopeString } from './extension/write/relation-scope';
import type { EncryptedFieldMeta, IdGeneration, ModelMeta } from './metadata';

/**
 * The associated-data context of `field` in a row of `model` whose bound row id is `rowId`
 * (see {@link boundRowId}).
 * @param scope - on a read, the scope of the row the value was read from: a value sealed under
 *   another scope's key then fails to decrypt (see core's `FieldContext.scope`)
 */
export function valueContext(
  model: ModelMeta,
  field: EncryptedFieldMeta,
  rowId: string | undefined,
  scope?: string,
): FieldContext {
  return { model: model.dbName, field: field.dbName, rowId, scope };
}

/**
 * The field whose value `model`'s values are bound to: the one `@encryption(bind: f)` names, else
 * the single id when the model binds its ids; `undefined` when the model binds nothing.
 */
export function boundField(model: ModelMeta): string | undefined {
  if (!model.bindRowId) return undefined;
  if (model.bindField !== undefined) return model.bindField;
  return model.idFields.length === 1 ? model.idFields[0] : undefined;
}

/**
 * Whether values of `model` may be sealed without its binding, so that `migratingBindings` and
 * the CLI's `--rebind` take it: a model with `@encryption(bind: ...)`, added to a model that held
 * values, or one whose bound id is a foreign key (a profile whose id is its user's), whose creates
 * nested under the related row, or connecting it, sealed without the id before the extension
 * took it from that row. Any other bound model has held bound values from its first write.
 */
export function bindingMayBeMissing(model: ModelMeta): boolean {
  if (model.bindField !== undefined) return true;
  const field = boundField(model);
  if (field === undefined) return false;
  return Object.values(model.fields).some((meta) => meta.kind === 'object' && meta.relationFromFields?.includes(field));
}

/** How the value of {@link boundField} is generated when a create gives none. */
export function boundGeneration(model: ModelMeta): IdGeneration {
  return model.bindField !== undefined ? (model.bindGeneration ?? 'none') : model.idGeneration;
}

/**
 * The value `model`'s values are bound to in `row` (its {@link boundField}) as a string, or
 * `undefined` when the model binds nothing or the row does not hold the value.
 */
export function boundRowId(model: ModelMeta, row: Readonly<Record<string, unknown>>): string | undefined {
  const field = boundField(model);
  if (field === undefined) return undefined;
  const value = row[field];
  return value === null || value === undefined ? undefined : String(value);
}

/**
 * `items` as they were sealed before their model's `@encryption(bind: ...)` was added: without
 * the row id. What `migratingBindings` and the CLI's `--rebind` try on a value that fails to
 * open bound, and never anything else.
 */
export function unboundItems(items: readonly DecryptItem[]): DecryptItem[] {
  return items.map((item) => ({ ...item, ctx: { ...item.ctx, rowId: undefined } }));
}

/**
 * The scope a read of `row` (of `model`) checks its values' keys against (`FieldContext.scope`),
 * in the form writes seal under: its scope field's value, for a scoped model; `undefined` for an
 * unscoped model, and for a row whose scope field holds no valid scope or is absent.
 */
export function rowScope(model: ModelMeta, row: Readonly<Record<string, unknown>>): string | undefined {
  if (model.scopeField === undefined) return undefined;
  try {
    return scopeString(model, model.scopeField, row[model.scopeField]);
  } catch {
    // A `@db.Uuid` scope that is not a UUID names no scope.
    return undefined;
  }
}

/** The Prisma client property of a model (`User` → `user`, `APIKey` → `aPIKey`). */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}
