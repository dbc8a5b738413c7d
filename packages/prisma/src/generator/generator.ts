/**
 * The Prisma generator: receives the DMMF from `prisma generate`, builds the hushfield schema
 * and writes it. Any problem rejects, which makes `prisma generate` fail with the message.
 */
import { basename } from 'node:path';
import { ConfigError } from '@hushfield/core';
import type { GeneratorManifest, GeneratorOptions } from '@prisma/generator-helper';
import { buildSchema, readSettings } from './build-schema';
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
 * @throws ConfigError on an invalid generator block or schema annotations.
 */
export async function generate(options: Pick<GeneratorOptions, 'generator' | 'dmmf' | 'schemaPath'>): Promise<void> {
  const output = options.generator.output?.value;
  if (!output) throw new ConfigError(messages.report([messages.noOutput()]));
  const { settings, problems } = readSettings(options.generator.config);
  if (problems.length > 0) throw new ConfigError(messages.report(problems));
  const schema = buildSchema(options.dmmf, settings);
  writeFiles(output, renderFiles(schema, basename(options.schemaPath)));
}
