/**
 * Envelopes in columns the schema does not encrypt: what a field whose `/// @encrypted` was
 * removed (instead of leaving through `mode: readonly` and `hushfield decrypt`) leaves behind.
 * The extension then hands the application ciphertext on reads and stores plaintext on writes,
 * and `reencrypt` no longer moves those values off old keys. Found by sampling, without
 * decrypting anything.
 */
import { binaryKeyOf } from '@hushfield/core';
import type { FieldCrypto } from '@hushfield/core';
import type { FieldMeta, HushfieldSchema, ModelMeta } from '@hushfield/prisma';
import { delegateOf } from './walker';

/** A field the schema does not encrypt whose sampled values include envelopes. */
export interface StrayEnvelopes {
  readonly model: string;
  readonly field: string;
  /** Non-null values sampled in the field. */
  readonly sampled: number;
  /** How many of them are (or, for a list, hold) a well-formed envelope. */
  readonly envelopes: number;
}

/** Types an envelope can sit in: the types `/// @encrypted` accepts. */
const CARRIER_TYPES = new Set(['String', 'Json', 'Bytes']);

/**
 * The fields of `model` that could hold an envelope but are neither encrypted nor an index
 * column (the id too: a `String` id is never sealed, but a copied envelope would still show).
 */
export function unencryptedCarriers(model: ModelMeta): FieldMeta[] {
  const indexes = new Set([...Object.keys(model.blindIndexes), ...Object.keys(model.matchIndexes ?? {})]);
  return Object.values(model.fields).filter(
    (field) =>
      field.kind === 'scalar' &&
      CARRIER_TYPES.has(field.type) &&
      (!field.isList || field.type === 'String') &&
      !Object.prototype.hasOwnProperty.call(model.encrypted, field.name) &&
      !indexes.has(field.name),
  );
}

/** Whether a value read from `field` is, or (a list) holds, a well-formed envelope. */
function holdsEnvelope(field: FieldMeta, value: unknown, crypto: FieldCrypto): boolean {
  if (field.type === 'Bytes') return value instanceof Uint8Array && binaryKeyOf(value) !== null;
  const texts = Array.isArray(value) ? value : [value];
  return texts.some((text) => {
    if (typeof text !== 'string' || !crypto.isEnvelope(text)) return false;
    try {
      crypto.describe(text);
      return true;
    } catch {
      return false; // a text that merely starts like one
    }
  });
}

/**
 * Samples up to `take` rows of every model of `schema` (but the key store's) and returns, per
 * unencrypted field, how many sampled values are envelopes, for the fields that hold any.
 * Reads only the ids and those fields; decrypts nothing.
 */
export async function findStrayEnvelopes(
  client: object,
  schema: HushfieldSchema,
  crypto: FieldCrypto,
  take = 100,
): Promise<StrayEnvelopes[]> {
  const found: StrayEnvelopes[] = [];
  for (const model of Object.values(schema.models)) {
    if (model.name === schema.keyStoreModel) continue;
    const carriers = unencryptedCarriers(model);
    if (carriers.length === 0) continue;
    const names = [...model.idFields, ...carriers.map((field) => field.name)];
    const select = Object.fromEntries(names.map((name) => [name, true]));
    const rows = await delegateOf(client, model.name).findMany({ select, take });
    for (const field of carriers) {
      const values = rows.map((row) => row[field.name]).filter((value) => value !== null && value !== undefined);
      const envelopes = values.filter((value) => holdsEnvelope(field, value, crypto)).length;
      if (envelopes > 0) found.push({ model: model.name, field: field.name, sampled: values.length, envelopes });
    }
  }
  return found;
}
