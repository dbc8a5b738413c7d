// One Jest run for the whole repository: package unit tests beside the code, integration
// tests in test/ (compilation and module mapping: jest.shared.js).
// The integration suites that touch a database run once per provider (Jest projects
// `postgresql`, `mysql`, `sqlite`): everything runs on PostgreSQL; the extension, key-store and
// CLI suites run again on MariaDB/MySQL and on SQLite, with `prisma/generated/...` mapped to
// that provider's generated client (see test/support/provider.ts); the project `libsql` runs
// the extension and key-store suites on SQLite through the libSQL adapter. HUSHFIELD_TEST_PROVIDER
// set in the environment runs that one project only. The MySQL project runs where a server
// answers: TEST_MYSQL_URL, else a container when a Docker engine is there (global-setup.ts),
// else it is left out with a notice.
const { existsSync } = require('node:fs');

const { shared, stripTs, workspace } = require('./jest.shared');

/** The suites that run on every provider. */
const MATRIX = [
  '<rootDir>/test/extension/**/*.test.ts',
  '<rootDir>/test/cli/**/*.test.ts',
  '<rootDir>/test/key-store*.test.ts',
  '<rootDir>/test/provider-schemas.test.ts',
];

/**
 * Matrix suites about what only PostgreSQL has: `uuid` columns that fold any UUID form to lower
 * case; scalar lists (encrypted `String[]`; json-bytes.test.ts covers Json and Bytes everywhere).
 */
const POSTGRES_ONLY = ['/test/extension/uuid-columns.test.ts', '/test/extension/typed-fields.test.ts'];

/** The project running the matrix suites on `provider`. */
function matrixProject(provider) {
  return {
    ...shared,
    displayName: provider,
    testMatch: MATRIX,
    testPathIgnorePatterns: [...shared.testPathIgnorePatterns, ...POSTGRES_ONLY],
    setupFiles: [`<rootDir>/test/support/provider-${provider}.ts`],
    moduleNameMapper: {
      ...workspace,
      '^(?:\\.{1,2}/)+prisma/generated/(.*)$': `<rootDir>/prisma/${provider}/generated/$1`,
      ...stripTs,
    },
  };
}

/**
 * The extension and key-store suites once more on SQLite through @prisma/adapter-libsql (its
 * own adapter name, its own error codes). Not the CLI suites: several migrator workers in one
 * process on one local libSQL file stall on the file lock (see packages/cli/README.md); only
 * the row-key suite, whose runs take one batch at a time.
 */
const libsql = {
  ...matrixProject('sqlite'),
  displayName: 'libsql',
  testMatch: [
    '<rootDir>/test/extension/**/*.test.ts',
    '<rootDir>/test/key-store*.test.ts',
    '<rootDir>/test/cli/rowkey-models.test.ts',
  ],
  setupFiles: ['<rootDir>/test/support/provider-libsql.ts'],
};

/** Whether the MySQL project has a server to run on (see global-setup.ts). */
function mysqlAvailable() {
  if (process.env.TEST_MYSQL_URL) return true;
  if (process.env.DOCKER_HOST || existsSync('/var/run/docker.sock')) return true;
  process.stdout.write('\nhushfield tests: no TEST_MYSQL_URL and no Docker engine: the mysql project is left out.\n');
  return false;
}

const postgresql = {
  ...shared,
  displayName: 'postgresql',
  roots: ['<rootDir>/packages', '<rootDir>/test', '<rootDir>/examples', '<rootDir>/bench'],
  testMatch: ['**/*.test.ts'],
};

const chosen = process.env.HUSHFIELD_TEST_PROVIDER;
const projects = [
  ...(!chosen || chosen === 'postgresql' ? [postgresql] : []),
  ...((!chosen || chosen === 'mysql') && mysqlAvailable() ? [matrixProject('mysql')] : []),
  ...(!chosen || chosen === 'sqlite' ? [matrixProject('sqlite')] : []),
  ...(!chosen || chosen === 'libsql' ? [libsql] : []),
];
// With no project left, Jest would run the root config without its transform and fail on the
// TypeScript of global-setup.ts, naming neither the provider nor what is missing.
if (projects.length === 0) {
  throw new Error(
    chosen === 'mysql'
      ? 'HUSHFIELD_TEST_PROVIDER=mysql needs a server: set TEST_MYSQL_URL (mysql://root@127.0.0.1:3306) or run a Docker engine'
      : `HUSHFIELD_TEST_PROVIDER=${chosen} is not a test provider: use postgresql, mysql, sqlite or libsql`,
  );
}

/** @type {import('jest').Config} */
module.exports = {
  projects,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  testTimeout: 60000,
  // On two cores Jest runs in band (one worker or fewer): every file runs in Jest's own process,
  // so a handle one failed file left open kept the whole run from exiting after its totals (CI,
  // where a MariaDB suite's beforeAll failed, then hung until its 90-minute limit). Jest now exits
  // once the totals are out, with a warning naming --detectOpenHandles to find such a handle.
  forceExit: true,
};
