// What jest.config.js (the whole suite) and jest.unit.config.js (unit tests only) share: TypeScript
// compiled by swc, workspace packages resolved to their sources so that tests never run against a
// stale build. A file of its own so that the unit config does not evaluate the matrix's set-up.

const workspace = {
  '^@hushfield/(core|kms-aws|kms-vault|kms-pkcs11|kms-gcp|kms-azure|prisma|cli)$': '<rootDir>/packages/$1/src/index.ts',
  // bench/ imports a package's internals from its build (what the benchmarks measure); tests use the sources.
  '^(?:\\.{1,2}/)+packages/([a-z0-9-]+)/dist/(.*)$': '<rootDir>/packages/$1/src/$2',
};
// The prisma-client generator writes relative imports with a .ts extension.
const stripTs = { '^(\\.{1,2}/.*)\\.ts$': '$1' };

/** What every project shares. */
const shared = {
  rootDir: __dirname,
  // Node's, clearing the timers a file leaves armed (see the file).
  testEnvironment: '<rootDir>/test/support/environment.js',
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/generated/'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql|pglite-prisma-adapter)/)'],
  moduleNameMapper: { ...workspace, ...stripTs },
};

module.exports = { shared, stripTs, workspace };
