/**
 * The quick start's root key: a `LocalKeyring` whose 256-bit key is generated on first run
 * into `.hushfield-key` (mode 0600, git-ignored). LocalKeyring is for development: in
 * production the root key lives in a KMS (`@hushfield/kms-aws`) and never leaves it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LocalKeyring } from '@hushfield/core';

/** Loads the keyring from `file`, generating the key file first when it does not exist. */
export function loadKeyring(file: string): { keyring: LocalKeyring; created: boolean } {
  const created = !existsSync(file);
  if (created) {
    mkdirSync(dirname(file), { recursive: true });
    LocalKeyring.generateKeyFile(file);
  }
  return { keyring: LocalKeyring.fromFile(file), created };
}
