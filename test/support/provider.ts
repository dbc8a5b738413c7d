/**
 * Which Prisma provider a Jest project runs the integration suites on. The root Jest config
 * runs them once per provider (projects `postgresql`, `mysql`, `sqlite`); each project's
 * setup file sets `HUSHFIELD_TEST_PROVIDER`, and its module map points every import of
 * `prisma/generated/...` at that provider's generated client and hushfield schema
 * (`prisma/<provider>/generated/...`, from the schema `scripts/provider-schema.js` derives).
 */
import { join } from 'node:path';

/** A provider the suites run on. */
export type TestProvider = 'postgresql' | 'mysql' | 'sqlite';

/** Every provider, in the order the matrix runs them. */
export const TEST_PROVIDERS: readonly TestProvider[] = ['postgresql', 'mysql', 'sqlite'];

/** The provider this test file runs on (PostgreSQL unless the project says otherwise). */
export function testProvider(): TestProvider {
  const chosen = process.env.HUSHFIELD_TEST_PROVIDER;
  if (chosen === 'mysql' || chosen === 'sqlite') return chosen;
  if (chosen === 'libsql') return 'sqlite';
  return 'postgresql';
}

/** Where the provider's SQL migrations live. */
export function migrationsDir(provider: TestProvider): string {
  const prisma = join(__dirname, '..', '..', 'prisma');
  return provider === 'postgresql' ? join(prisma, 'migrations') : join(prisma, provider, 'migrations');
}

/**
 * `describe` where this file's provider is one of `providers`, else `describe.skip` with the
 * reason in the title: for suites about a feature only some databases have (integer arrays for
 * match indexes, `uuid` columns, PostgreSQL's TLS, ...).
 */
export function describeOn(providers: readonly TestProvider[], reason: string): jest.Describe {
  if (providers.includes(testProvider())) return describe;
  const skip = ((title: string, fn: () => void) =>
    describe.skip(`${title} (not on ${testProvider()}: ${reason})`, fn)) as unknown as jest.Describe;
  return skip;
}
