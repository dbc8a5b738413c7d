/**
 * Every message `@hushfield/kms-gcp` puts in an error that is not a failed Cloud KMS call
 * (those are worded by `describeGcpFailure`). Messages name the keyring and resource names,
 * which are not secret; never key material, plaintext, ciphertext or the service's text.
 */

/** Error messages of this package, by situation. */
export const messages = {
  malformedWrappedKey: (keyringId: string, reason: string) =>
    `keyring ${keyringId} cannot unwrap: the wrapped key is malformed (${reason})`,
  wrongKey: (keyringId: string, storedVersion: string) =>
    `keyring ${keyringId} cannot unwrap: the key was wrapped by ${JSON.stringify(storedVersion)}, a version of another CryptoKey`,
} as const;
