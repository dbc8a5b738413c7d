/**
 * Finds models whose encrypted values could be moved between them: the associated data binds
 * a value to its table and column names (`@@map`, `@map`) but not to the database schema
 * (`@@schema`), so two models whose tables share a name in two schemas, and which both encrypt
 * a column of one name, seal their values under the same names. A value copied from one such
 * column to the other would decrypt there (where both bind the row id, whenever the ids match,
 * as they do when one table's id refers to the other's).
 */
import type { ModelMeta } from '../metadata';
import type { DmmfModel } from './dmmf';
import { messages } from './messages';

/**
 * @param models the DMMF's models, for their `@@schema`
 * @param metas the models' metadata, by Prisma model name
 * @returns one `Model: ...` problem for each pair of models that share a table name and an encrypted column name
 */
export function checkSharedTables(models: readonly DmmfModel[], metas: Readonly<Record<string, ModelMeta>>): string[] {
  const problems: string[] = [];
  const seen: { model: DmmfModel; meta: ModelMeta }[] = [];
  for (const model of models) {
    const meta = metas[model.name];
    if (meta === undefined || model.schema === undefined || model.schema === null) continue;
    for (const earlier of seen) {
      if (earlier.meta.dbName !== meta.dbName || earlier.model.schema === model.schema) continue;
      const columns = new Set(Object.values(earlier.meta.encrypted).map((field) => field.dbName));
      const shared = Object.values(meta.encrypted)
        .map((field) => field.dbName)
        .filter((column) => columns.has(column));
      if (shared.length === 0) continue;
      problems.push(
        `${model.name}: ${messages.sharedTableName(earlier.model.name, meta.dbName, [earlier.model.schema!, model.schema], shared)}`,
      );
    }
    seen.push({ model, meta });
  }
  return problems;
}
