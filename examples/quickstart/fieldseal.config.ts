/**
 * Configuration of the `fieldseal` CLI for the quick start, for running it by hand:
 *
 *   cd examples/quickstart && pnpm exec fieldseal status
 *
 * (after `pnpm demo` has created the database and the key; not while the demo runs: PGlite
 * serves one process at a time).
 */
import { PGlite } from '@electric-sql/pglite';
import { LocalKeyring } from '@fieldseal/core';
import { clinicConfig } from './src/fieldseal-config';
import { dataDir, keyFile } from './src/paths';

export default clinicConfig(
  () => PGlite.create(dataDir()),
  () => LocalKeyring.fromFile(keyFile()),
);
