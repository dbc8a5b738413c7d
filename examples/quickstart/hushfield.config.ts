/**
 * Configuration of the `hushfield` CLI for the quick start, for running it by hand:
 *
 *   cd examples/quickstart && pnpm exec hushfield status
 *
 * (after `pnpm demo` has created the database and the key; not while the demo runs: PGlite
 * serves one process at a time).
 */
import { PGlite } from '@electric-sql/pglite';
import { LocalKeyring } from '@hushfield/core';
import { clinicConfig } from './src/hushfield-config';
import { dataDir, keyFile } from './src/paths';

export default clinicConfig(
  () => PGlite.create(dataDir()),
  () => LocalKeyring.fromFile(keyFile()),
);
