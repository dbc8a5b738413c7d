/**
 * The quick start's `fieldseal` CLI configuration, shared by `fieldseal.config.ts` (for
 * running the CLI by hand) and by the demo (which runs the CLI in-process on its own open
 * database: PGlite allows one process per data directory).
 */
import type { PGlite } from '@electric-sql/pglite';
import { defineConfig, type FieldsealConfig } from '@fieldseal/cli';
import type { Keyring } from '@fieldseal/core';
import { PrismaClient } from '../prisma/generated/client/client';
import { fieldsealSchema } from '../prisma/generated/fieldseal';
import { adapterFor } from './database';

/** A CLI configuration on the database `pglite` returns, with `keyring` as the root keyring. */
export function clinicConfig(pglite: () => PGlite | Promise<PGlite>, keyring: () => Keyring): FieldsealConfig {
  return defineConfig({
    schema: fieldsealSchema,
    keyring,
    prisma: async () => new PrismaClient({ adapter: adapterFor(await pglite()) }),
    cache: { ttlMs: 5 * 60_000 },
  });
}
