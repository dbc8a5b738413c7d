/**
 * Every message `@hushfield/kms-pkcs11` puts in an error that is not a failed token call
 * (those are worded by `describePkcs11Failure`). Messages name the keyring, token and key
 * labels, which are not secret; never the PIN, key material or wrapped bytes.
 */

/** Error messages of this package, by situation. */
export const messages = {
  malformedWrappedKey: (keyringId: string, reason: string) =>
    `keyring ${keyringId} cannot unwrap: the wrapped key is malformed (${reason})`,
  unexpectedOutput: (keyringId: string, operation: string) =>
    `keyring ${keyringId}: the token's ${operation} output has an unexpected length`,
} as const;
