// One Jest run for the whole repository: package unit tests beside the code, integration
// tests in test/. TypeScript is compiled by swc; workspace packages resolve to their sources
// so that tests never run against a stale build.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test', '<rootDir>/examples', '<rootDir>/bench'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/generated/'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql|pglite-prisma-adapter)/)'],
  moduleNameMapper: {
    '^@hushfield/(core|kms-aws|kms-vault|kms-pkcs11|kms-gcp|kms-azure|prisma|cli)$':
      '<rootDir>/packages/$1/src/index.ts',
    // The prisma-client generator writes relative imports with a .ts extension.
    '^(\\.{1,2}/.*)\\.ts$': '$1',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  testTimeout: 60000,
};
