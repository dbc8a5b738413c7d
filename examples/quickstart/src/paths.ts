/**
 * Where the quick start keeps its state: the embedded database (`.data/`) and the local root
 * key (`.hushfield-key`), both git-ignored. `QUICKSTART_STATE_DIR` moves them elsewhere (the
 * end-to-end test points it at a temporary directory).
 */
import { join, resolve } from 'node:path';

/** The example's directory (where `prisma/` and `hushfield.config.ts` live). */
export const EXAMPLE_DIR = resolve(__dirname, '..');

/** The directory holding `.data/` and `.hushfield-key`. */
export function stateDir(): string {
  return resolve(process.env.QUICKSTART_STATE_DIR ?? EXAMPLE_DIR);
}

/** PGlite's data directory. */
export function dataDir(): string {
  return join(stateDir(), '.data');
}

/** The local keyring's root key file (base64, mode 0600). */
export function keyFile(): string {
  return join(stateDir(), '.hushfield-key');
}

/** The SQL migrations, one directory per migration. */
export const MIGRATIONS_DIR = join(EXAMPLE_DIR, 'prisma', 'migrations');
