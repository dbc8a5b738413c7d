/** Key rows for the key-store suites (key-store, key-store-isolation). */
import { randomBytes } from 'node:crypto';
import type { NewStoredKey } from '@hushfield/core';

/**
 * Version `version` of the scope key of `scope` (key id `k-<scope>`), its wrapped key random
 * bytes wrapped by `local:test`; `overrides` replaces any of it.
 */
export function newScopeKey(scope: string, version = 1, overrides: Partial<NewStoredKey> = {}): NewStoredKey {
  return {
    keyId: `k-${scope}`,
    kind: 'scope',
    scope,
    version,
    wrappedKey: randomBytes(61).toString('base64'),
    keyringId: 'local:test',
    ...overrides,
  };
}
