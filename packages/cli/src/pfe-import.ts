/**
 * Reads values written by `prisma-field-encryption`, which stores `@47ng/cloak` strings
 * (`v1.aesgcm256.<key fingerprint>.<iv>.<ciphertext>`) encrypted under keys the user holds
 * (`k1.aesgcm256.<base64 key>`, given with `--from-pfe-key`). Decryption is cloak's own code
 * (AES-256-GCM from node:crypto); this file only picks the key and types the failures.
 */
import { makeKeychainSync, decryptStringSync, parseCloakedString } from '@47ng/cloak';
import type { CloakKeychain } from '@47ng/cloak';
import { DecryptionError, InvalidArgumentError } from '@hushfield/core';
import type { ValueLocation } from '@hushfield/core';
import { isCloakCiphertext } from '@hushfield/prisma';
import { messages } from './messages';

const KEY_PREFIX = 'k1.aesgcm256.';

/**
 * Whether a stored value claims to be in cloak's format: the extension's own test
 * (`isCloakCiphertext`), so the two never disagree. The prefix alone decides: a damaged cloak
 * value then fails to import (a per-row failure) instead of being encrypted as if it were plaintext.
 */
export const isPfeValue: (value: string) => boolean = isCloakCiphertext;

/** Decrypts prisma-field-encryption values with the keys it was given. Prints no key. */
export class PfeImporter {
  private readonly keychain: CloakKeychain;

  /**
   * @param keys cloak keys (`k1.aesgcm256.…`), e.g. the app's `PRISMA_FIELD_ENCRYPTION_KEY`
   *   and `PRISMA_FIELD_DECRYPTION_KEYS`.
   * @throws InvalidArgumentError when a key is not a cloak key (the key is not echoed).
   */
  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new InvalidArgumentError(messages.pfe.noKeys(), 'from-pfe-key');
    for (const [i, key] of keys.entries()) {
      if (!key.startsWith(KEY_PREFIX)) {
        throw new InvalidArgumentError(messages.pfe.notCloakKey(i + 1), 'from-pfe-key');
      }
    }
    try {
      this.keychain = makeKeychainSync([...keys]);
    } catch (error) {
      throw new InvalidArgumentError(messages.pfe.unparsableKey((error as Error).name), 'from-pfe-key');
    }
  }

  /** Number of keys held. */
  get size(): number {
    return Object.keys(this.keychain).length;
  }

  /**
   * Decrypts one cloak value.
   * @throws DecryptionError when no given key has its fingerprint or authentication fails.
   */
  decrypt(value: string, location: ValueLocation): string {
    const parsed = parseCloakedString(value);
    if (parsed === false) throw new DecryptionError(messages.pfe.notCloakValue(), location);
    const entry = this.keychain[parsed.groups.fingerprint];
    if (!entry) throw new DecryptionError(messages.pfe.noKeyForFingerprint(parsed.groups.fingerprint), location);
    try {
      return decryptStringSync(value, entry.key);
    } catch {
      // cloak's own messages may quote the input: report only where it failed.
      throw new DecryptionError(messages.pfe.authenticationFailed(), location);
    }
  }

  /**
   * The keys' cloak fingerprints (the first 8 bytes of each key's SHA-256, in hex), sorted: what
   * every cloak value stores in the clear to name its key, so they reveal nothing the database
   * does not hold already. A scaled-out run records them to check the keys of a joining process.
   */
  get fingerprints(): string[] {
    return Object.keys(this.keychain).sort();
  }

  /** Never prints keys. */
  toJSON(): { keys: number } {
    return { keys: this.size };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PfeImporter { keys: ${this.size} }`;
  }
}
