/**
 * Where a stored value lives, for the CLI: the associated-data context of a field in a row
 * and the current version of each blind index, from the same definitions the extension uses
 * (`@hushfield/prisma`'s `valueContext` and `boundRowId`, and the key hierarchy).
 */
import { binaryKeyOf, DecryptionError, type FieldContext, type FieldCrypto, isBinaryEnvelope } from '@hushfield/core';
import { boundRowId, isCloakCiphertext, valueContext } from '@hushfield/prisma';
import type { EncryptedFieldMeta, ModelMeta } from '@hushfield/prisma';

/**
 * The associated-data context of `field` in `row`.
 * @param scope - on a read, the row's scope (`rowScope` of `@hushfield/prisma`): a value sealed under another
 *   scope's key then fails to decrypt (`DecryptionError` with `otherScope` set)
 */
export function fieldContext(
  model: ModelMeta,
  field: EncryptedFieldMeta,
  row: Record<string, unknown>,
  scope?: string,
): FieldContext {
  return valueContext(model, field, boundRowId(model, row), scope);
}

/**
 * The columns besides the id a row's values are opened with: its scope field, and the field a
 * model's values are bound to when that is not the id (`@encryption(bind: f)`).
 */
export function contextColumns(model: ModelMeta): string[] {
  return [...(model.scopeField ? [model.scopeField] : []), ...(model.bindField ? [model.bindField] : [])];
}

/** Whether a decrypt failed because the value is sealed under another scope's key than its row's. */
export function isOtherScope(error: unknown): boolean {
  return error instanceof DecryptionError && error.otherScope !== undefined;
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

/** What a stored value of an encrypted field holds: envelopes, a prisma-field-encryption value, or plaintext. */
export type StoredSource = 'envelope' | 'pfe' | 'plain';

/**
 * Classifies a stored (non-null) value of `field` by its type: a `String` (or a `Json` value that
 * is a string) by its prefix, `Bytes` by the binary envelope's magic, a `String[]` as sealed when
 * empty or when any element is an envelope (a list half sealed is opened, and fails, rather than
 * sealed twice).
 */
export function classifyStored(field: EncryptedFieldMeta, value: unknown, crypto: FieldCrypto): StoredSource {
  switch (field.type) {
    case 'Bytes':
      return isBinaryEnvelope(value) ? 'envelope' : 'plain';
    case 'String[]':
      // An empty list has nothing to seal: it is as sealed as it can be.
      return Array.isArray(value) &&
        (value.length === 0 || value.some((item) => typeof item === 'string' && crypto.isEnvelope(item)))
        ? 'envelope'
        : 'plain';
    case 'Json':
      if (typeof value !== 'string') return 'plain';
    // falls through: a Json string is classified as text
    default: {
      const text = String(value);
      if (crypto.isEnvelope(text)) return 'envelope';
      return isCloakCiphertext(text) ? 'pfe' : 'plain';
    }
  }
}

/**
 * The scope keys (id and version) the envelopes of a sealed stored value name, without
 * decrypting (one per list element, none for an empty list), or `null` when one is malformed.
 */
export function describeStored(
  field: EncryptedFieldMeta,
  value: unknown,
  crypto: FieldCrypto,
): { keyId: string; version: number }[] | null {
  if (field.type === 'Bytes') {
    const named = value instanceof Uint8Array ? binaryKeyOf(value) : null;
    return named === null ? null : [named];
  }
  const texts = field.type === 'String[]' ? (value as unknown[]) : [value];
  try {
    return texts.map((text) => crypto.describe(text as string));
  } catch {
    return null;
  }
}
