/**
 * The name SQL reaches a model's table by: its `@@map` name, qualified by its `@@schema` when it
 * has one (a table of one name can be in two schemas, and the connection's default schema
 * holds neither the other one nor, often, either).
 */
import type { ModelMeta } from '@hushfield/prisma';

/**
 * @param model - the model (its `dbName` and `schema`)
 * @param quote - the dialect's identifier quoting (`"x"` or `` `x` ``)
 * @returns `"schema"."table"`, or `"table"` for a model without a schema
 */
export function qualifiedTable(model: Pick<ModelMeta, 'dbName' | 'schema'>, quote: (name: string) => string): string {
  return model.schema === undefined ? quote(model.dbName) : `${quote(model.schema)}.${quote(model.dbName)}`;
}
