import { existsSync } from 'node:fs';

/**
 * Chooses the PostgreSQL every test file uses, once per Jest run:
 * 1. `TEST_DATABASE_URL` if set (CI points it at the machine's PostgreSQL);
 * 2. else a PostgreSQL container through testcontainers, where a Docker engine answers;
 * 3. else embedded PGlite (each test file gets its own in-memory instance), with a notice.
 * Test files then create their own database (or PGlite instance) through `database.ts`.
 * For the `mysql` project (jest.config.js): `TEST_MYSQL_URL` if set, else a MariaDB container.
 */
export default async function globalSetup(): Promise<void> {
  // SoftHSM reads SOFTHSM2_CONF from the real environment, which test files cannot set.
  (await import('../keyrings/pkcs11/softhsm')).prepareSoftHsm();
  await chooseMysql();
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

/** Starts a MariaDB container for the `mysql` project when no TEST_MYSQL_URL names a server. */
async function chooseMysql(): Promise<void> {
  const chosen = process.env.HUSHFIELD_TEST_PROVIDER;
  if (process.env.TEST_MYSQL_URL || (chosen && chosen !== 'mysql')) return;
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return;
  const { MariaDbContainer } = await import('@testcontainers/mariadb');
  const container = await new MariaDbContainer('mariadb:10.11').withRootPassword('hushfield').start();
  (globalThis as { __hushfieldMariadb?: unknown }).__hushfieldMariadb = container;
  process.env.TEST_MYSQL_URL = `mysql://root:hushfield@${container.getHost()}:${container.getPort()}`;
  process.stdout.write(`\nhushfield tests: MariaDB container at ${container.getHost()}:${container.getPort()}\n`);
}
