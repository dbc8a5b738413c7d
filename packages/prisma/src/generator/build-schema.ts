/**
 * From the DMMF to the {@link HushfieldSchema} the extension and CLI read: interprets every
 * model's and field's annotations (one model at a time, in `model-builder.ts`) and validates
 * them against the data model. A pure function of its inputs; writing files is `emit.ts`'s job.
 */
import { ConfigError } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '../metadata';
import type { DmmfDocument } from './dmmf';
import { checkKeyStoreModel } from './key-store-model';
import { messages } from './messages';
import { ModelBuilder } from './model-builder';
import { checkSharedTables } from './shared-tables';
import { checkEnums, checkSchemaText } from './stray-annotations';

/** Settings from the `generator hushfield { ... }` block. */
export interface GeneratorSettings {
  /** Prisma model name of the key store; default `HushfieldKey`. */
  readonly keyStoreModel?: string;
  /** The datasource's provider (`postgresql`, `mysql`, `sqlite`...), from the schema; unchecked when absent. */
  readonly provider?: string;
}

/** The default key-store model name. */
export const DEFAULT_KEY_STORE_MODEL = 'HushfieldKey';

/**
 * The outcome of {@link validateSchema}: the schema, or every problem found; and warnings
 * (`Model.field: ...`) about choices that work but are likely wrong, such as bucket sizes.
 */
export type Validation = (
  { readonly schema: HushfieldSchema; readonly problems: [] } | { readonly schema: null; readonly problems: string[] }
) & { readonly warnings: string[] };

/** Parses the generator block's options. */
export function readSettings(config: Readonly<Record<string, string | readonly string[] | undefined>>): {
  settings: GeneratorSettings;
  problems: string[];
} {
  const problems: string[] = [];
  let keyStoreModel: string | undefined;
  for (const [key, value] of Object.entries(config)) {
    if (key !== 'keyStoreModel') problems.push(messages.configUnknown(key));
    else if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(value))
      problems.push(messages.configKeyStoreModel());
    else keyStoreModel = value;
  }
  return { settings: { keyStoreModel }, problems };
}

/**
 * Interprets and validates every annotation of the data model.
 * @param datamodel the schema text (`GeneratorOptions.datamodel`), to find annotations the DMMF
 *   drops: in `//` comments, on `@ignore`d and `Unsupported` fields, `@@ignore`d models, views.
 * @returns the schema, or (with `schema: null`) one `Model.field: ...` message per problem.
 */
export function validateSchema(dmmf: DmmfDocument, settings: GeneratorSettings = {}, datamodel?: string): Validation {
  const keyStoreModel = settings.keyStoreModel ?? DEFAULT_KEY_STORE_MODEL;
  const problems = checkKeyStoreModel(dmmf.datamodel.models, keyStoreModel);
  problems.push(...checkEnums(dmmf.datamodel.enums ?? []));
  if (datamodel !== undefined) problems.push(...checkSchemaText(datamodel));
  const warnings: string[] = [];
  const models: Record<string, ModelMeta> = {};
  for (const model of dmmf.datamodel.models) {
    const builder = new ModelBuilder(model, model.name === keyStoreModel, settings.provider);
    models[model.name] = builder.build();
    problems.push(...builder.problems);
    warnings.push(...builder.warnings);
  }
  problems.push(...checkSharedTables(dmmf.datamodel.models, models));
  if (problems.length > 0) return { schema: null, problems, warnings };
  return { schema: { formatVersion: 1, keyStoreModel, models }, problems: [], warnings };
}

/**
 * Builds the hushfield schema from the DMMF.
 * @throws ConfigError listing every problem, each naming its model and field.
 * @example
 * const schema = buildSchema(options.dmmf, { keyStoreModel: 'HushfieldKey' });
 */
export function buildSchema(dmmf: DmmfDocument, settings: GeneratorSettings = {}): HushfieldSchema {
  const result = validateSchema(dmmf, settings);
  if (result.schema === null) throw new ConfigError(messages.report(result.problems));
  return result.schema;
}
