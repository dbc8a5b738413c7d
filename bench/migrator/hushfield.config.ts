/**
 * The `hushfield.config.ts` the migrator benchmark runs `hushfield reencrypt` with: the test
 * schema, a local root key from `HUSHFIELD_BENCH_KEY` (base64, set by the benchmark) and the
 * scratch database from `DATABASE_URL`. Imports are relative so the CLI's config loader (jiti)
 * finds them without a workspace link; core is the built one (`dist/`), as the CLI's own.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { LocalKeyring } from '../../packages/core/dist/index';
import { PrismaClient } from '../../prisma/generated/client/client';
import { hushfieldSchema } from '../../prisma/generated/hushfield/index';

export default {
  schema: hushfieldSchema,
  keyring: () => LocalKeyring.fromEnv('HUSHFIELD_BENCH_KEY'),
  prisma: () => new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL as string }) }),
  cache: { ttlMs: 30 * 60_000 },
};
