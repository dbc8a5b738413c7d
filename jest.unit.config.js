// The unit tests beside the code in packages/: no database, no KMS emulator, no global setup.
// `pnpm test:unit` runs them in seconds; `pnpm test` runs them again with everything else.
const { shared } = require('./jest.shared');

/** @type {import('jest').Config} */
module.exports = {
  ...shared,
  roots: ['<rootDir>/packages'],
  testMatch: ['**/*.test.ts'],
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  testTimeout: 60000,
};
