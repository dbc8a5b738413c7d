/**
 * The row key of a model: the fields every walk, cursor, checkpoint, range and compare-and-swap
 * write of the CLI goes by. Its `@id` when it has one; else the unique criterion the generator
 * chose (`ModelMeta.rowKeyFields`). A model with neither is refused before any row is read:
 * walking it by nothing would stop after the first batch and report success.
 */
import { ConfigError } from '@hushfield/core';
import type { ModelMeta } from '@hushfield/prisma';
import { messages } from './messages';

/**
 * The fields the CLI keys `model`'s rows by, in key order.
 * @throws ConfigError naming the model when it has no `@id` and no unique criterion it can be
 * walked by, or when its metadata was generated before such criteria were recorded.
 */
export function rowKeyOf(model: ModelMeta): readonly string[] {
  if (model.idFields.length > 0) return model.idFields;
  if (model.rowKeyFields === undefined) throw new ConfigError(messages.walk.rowKeyNotGenerated(model.name));
  if (model.rowKeyFields.length === 0) throw new ConfigError(messages.walk.noRowKey(model.name));
  return model.rowKeyFields;
}

/**
 * Checks every model has a row key (see {@link rowKeyOf}) before a command touches any row.
 * @throws ConfigError naming the first model that has none.
 */
export function assertRowKeys(models: readonly ModelMeta[]): void {
  for (const model of models) rowKeyOf(model);
}
