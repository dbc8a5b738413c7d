/**
 * The row key of a model without an `@id`: the unique criterion the CLI walks, resumes, splits
 * and writes its rows by (see `ModelMeta.rowKeyFields`).
 */
import type { DmmfField, DmmfModel } from './dmmf';

/**
 * Types whose Prisma filters order values (`gt`, `lt`): keyset pagination needs them. Enums,
 * `Boolean` and `Bytes` filters only test equality.
 */
const ORDERED_TYPES = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'DateTime']);

/**
 * The first unique criterion of `model` (its `@unique` fields in declaration order, then its
 * `@@unique`s) whose every field is a required, ordered scalar that keeps its value while the
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
    ORDERED_TYPES.has(field.type) &&
    !rewritten.has(field.name);
  const candidates = [
    ...model.fields.filter((field) => field.isUnique).map((field) => [field.name]),
    ...model.uniqueIndexes.map((unique) => [...unique.fields]),
  ];
  return candidates.find((fields) => fields.every((name) => stable(byName.get(name)))) ?? [];
}
