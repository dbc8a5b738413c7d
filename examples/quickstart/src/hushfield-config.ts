/**
 * The quick start's `hushfield` CLI configuration, shared by `hushfield.config.ts` (for
 * running the CLI by hand) and by the demo (which runs the CLI in-process on its own open
 * database: PGlite allows one process per data directory).
 */
import type { PGlite } from '@electric-sql/pglite';
import { defineConfig, type HushfieldConfig } from '@hushfield/cli';
import type { Keyring } from '@hushfield/core';
import { PrismaClient } from '../prisma/generated/client/client';
import { hushfieldSchema } from '../prisma/generated/hushfield';
import { adapterFor } from './database';

/** A CLI configuration on the database `pglite` returns, with `keyring` as the root keyring. */
export function clinicConfig(pglite: () => PGlite | Promise<PGlite>, keyring: () => Keyring): HushfieldConfig {
  return defineConfig({
    schema: hushfieldSchema,
    keyring,
    prisma: async () => new PrismaClient({ adapter: adapterFor(await pglite()) }),
    cache: { ttlMs: 5 * 60_000 },
  });
}
