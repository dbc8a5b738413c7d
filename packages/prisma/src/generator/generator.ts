/**
 * The Prisma generator: receives the DMMF from `prisma generate`, builds the hushfield schema
 * and writes it. Any problem rejects, which makes `prisma generate` fail with the message.
 */
import { basename } from 'node:path';
import { ConfigError } from '@hushfield/core';
import type { GeneratorManifest, GeneratorOptions } from '@prisma/generator-helper';
import { readSettings, validateSchema } from './build-schema';
import { renderFiles, writeFiles } from './emit';
import { messages } from './messages';

/** Package version, reported to Prisma. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json is outside rootDir
const VERSION: string = (require('../../package.json') as { version: string }).version;

/** What the generator tells Prisma about itself. */
export function manifest(): GeneratorManifest {
  return { prettyName: 'hushfield schema', version: VERSION };
}

/**
 * Builds and writes `<output>/index.ts` and `<output>/schema.json`.
 * Warnings (likely mistakes that still work, such as bucket sizes) are printed, not thrown.
 * @throws ConfigError on an invalid generator block or schema annotations.
 */
export async function generate(
  options: Pick<GeneratorOptions, 'generator' | 'dmmf' | 'schemaPath'> &
    Partial<Pick<GeneratorOptions, 'datasources' | 'datamodel'>>,
): Promise<void> {
  const output = options.generator.output?.value;
  if (!output) throw new ConfigError(messages.report([messages.noOutput()]));
  const { settings, problems } = readSettings(options.generator.config);
  if (problems.length > 0) throw new ConfigError(messages.report(problems));
  const provider = options.datasources?.[0]?.activeProvider;
  const result = validateSchema(
    options.dmmf,
    provider === undefined ? settings : { ...settings, provider },
    options.datamodel,
  );
  // Prisma passes a generator's stdout through (stderr carries its JSON-RPC).
  if (result.warnings.length > 0) process.stdout.write(`${messages.warnings(result.warnings)}\n`);
  if (result.schema === null) throw new ConfigError(messages.report(result.problems));
  writeFiles(output, renderFiles(result.schema, basename(options.schemaPath)));
}
