// The unit tests beside the code in packages/: no database, no KMS emulator, no global setup.
// `pnpm test:unit` runs them in seconds; `pnpm test` runs them again with everything else.
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/packages'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
