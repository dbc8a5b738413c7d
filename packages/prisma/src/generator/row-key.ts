/**
 * The row key of a model without an `@id`: the unique criterion the CLI walks, resumes, splits
 * and writes its rows by (see `ModelMeta.rowKeyFields`).
 */
import type { DmmfField, DmmfModel } from './dmmf';

/**
 * Types a row key may have: ordered by Prisma's filters (`gt`, `lt`, which keyset pagination
 * needs; enums, `Boolean` and `Bytes` only test equality) and read back exactly, so that a
 * compare-and-swap write by the key read matches its row. `Float` (a `@db.Real` compared with
 * the double read), `DateTime` (Prisma reads milliseconds of a microsecond column) and `Decimal`
 * (compared as a double on MySQL when sent as text) can miss it, and a missed row is taken for
 * one deleted meanwhile.
 */
const KEY_TYPES = new Set(['String', 'Int', 'BigInt']);

/**
 * The first unique criterion of `model` (its `@unique` fields in declaration order, then its
 * `@@unique`s) whose every field is a required `String`, `Int` or `BigInt` scalar that keeps its value while the
 * CLI rewrites the row: not encrypted, not a blind or match index (`rewritten` names those), not
 * `@updatedAt`. `[]` when none qualifies: a walk by any other criterion could miss rows (a NULL
 * is never "after" a cursor) or see a key change under it.
 */
export function chooseRowKey(model: DmmfModel, rewritten: ReadonlySet<string>): string[] {
  const byName = new Map(model.fields.map((field) => [field.name, field]));
  const stable = (field: DmmfField | undefined) =>
    field !== undefined &&
    field.kind === 'scalar' &&
    field.isRequired &&
    !field.isList &&
    field.isUpdatedAt !== true &&
    KEY_TYPES.has(field.type) &&
    !rewritten.has(field.name);
  const candidates = [
    ...model.fields.filter((field) => field.isUnique).map((field) => [field.name]),
    ...model.uniqueIndexes.map((unique) => [...unique.fields]),
  ];
  return candidates.find((fields) => fields.every((name) => stable(byName.get(name)))) ?? [];
}
