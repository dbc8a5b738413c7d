/**
 * Every message `@hushfield/kms-azure` puts in an error that is not a failed Key Vault call
 * (those are worded by `describeAzureFailure`). Messages name the keyring, the key name and
 * algorithm, which are not secret; never key material, wrapped bytes, blobs or tokens.
 */

/** Error messages of this package, by situation. */
export const messages = {
  malformedWrappedKey: (keyringId: string, reason: string) =>
    `keyring ${keyringId} cannot unwrap: the wrapped key is malformed (${reason})`,
  wrongKey: (keyringId: string, storedKey: string) =>
    `keyring ${keyringId} cannot unwrap: the key was wrapped by Key Vault key ${JSON.stringify(storedKey)}, not this keyring's`,
  algorithmMismatch: (keyringId: string, stored: string, configured: string) =>
    `keyring ${keyringId} cannot unwrap: the key was wrapped with ${stored}, but this keyring uses ${configured}`,
} as const;
