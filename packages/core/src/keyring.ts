/**
 * The keyring contract: the root of the key hierarchy. A keyring wraps and unwraps the
 * 256-bit scope and index keys under a root key it never reveals (a KMS key, or for
 * development a local key). Every call carries an encryption context that the keyring must
 * bind to the wrapped bytes: a wrapped key presented with another context must be refused.
 */

/** Key/value pairs bound to a wrapped key (AWS KMS "encryption context"). Never secret. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A freshly generated key: the plaintext (caller zeroes it) and its wrapped form. */
export interface GeneratedKey {
  /** 32 random bytes. The caller owns this buffer and zeroes it when done. */
  readonly plaintextKey: Buffer;
  /** Opaque bytes only the same keyring (or one sharing its root key) can unwrap. */
  readonly wrappedKey: Buffer;
}

/**
 * A root-key provider. Implementations: `LocalKeyring` (development and tests),
 * `AwsKmsKeyring` (`@hushfield/kms-aws`). A keyring for another KMS implements these methods
 * and nothing else changes.
 */
export interface Keyring {
  /**
   * Stable identifier recorded next to every key it wraps (e.g. `local:3f9a1c0e`,
   * `aws-kms:arn:aws:kms:eu-west-1:111122223333:key/...`). Contains no secret.
   */
  readonly id: string;
  /**
   * Wraps `plaintextKey` under the root key, binding `context`.
   * @throws KeyringError when the root key is unreachable or refuses.
   */
  wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer>;
  /**
   * Unwraps bytes produced by {@link Keyring.wrapKey} or {@link Keyring.generateKey} with the
   * same `context`. The caller owns (and zeroes) the returned buffer.
   * @throws KeyringError when the context differs, the bytes were tampered with, or the root
   *   key is unreachable, disabled or deleted.
   */
  unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer>;
  /** Optional: generate a random 256-bit key inside the KMS and return both forms. */
  generateKey?(context: EncryptionContext): Promise<GeneratedKey>;
}
