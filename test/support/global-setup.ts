/**
 * Chooses the PostgreSQL every test file uses, once per Jest run:
 * 1. `TEST_DATABASE_URL` if set (CI points it at the machine's PostgreSQL);
 * 2. else a PostgreSQL container through testcontainers, where a Docker engine answers;
 * 3. else embedded PGlite (each test file gets its own in-memory instance), with a notice.
 * Test files then create their own database (or PGlite instance) through `database.ts`.
 */
export default async function globalSetup(): Promise<void> {
  // SoftHSM reads SOFTHSM2_CONF from the real environment, which test files cannot set.
  (await import('../keyrings/pkcs11/softhsm')).prepareSoftHsm();
  if (process.env.TEST_DATABASE_URL) {
    process.env.HUSHFIELD_TEST_BACKEND = 'postgres';
    return;
  }
  if (process.env.HUSHFIELD_TEST_BACKEND === 'pglite') return;
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    (globalThis as { __hushfieldContainer?: unknown }).__hushfieldContainer = container;
    process.env.TEST_DATABASE_URL = container.getConnectionUri();
    process.env.HUSHFIELD_TEST_BACKEND = 'container';
    process.stdout.write(`\nhushfield tests: PostgreSQL container at ${container.getHost()}:${container.getPort()}\n`);
  } catch (error) {
    process.env.HUSHFIELD_TEST_BACKEND = 'pglite';
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stdout.write(
      `\nhushfield tests: no TEST_DATABASE_URL and no container runtime (${reason}); ` +
        'running on embedded PGlite.\n',
    );
  }
}
