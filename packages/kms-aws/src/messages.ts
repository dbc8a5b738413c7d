/**
 * Every message `@hushfield/kms-aws` puts in an error. Messages name keys (ARNs, aliases,
 * keyring ids), operations and AWS error codes, which are not secret; they never receive key
 * material, wrapped bytes or ciphertext.
 */

/** Error messages of this package, by situation. */
export const messages = {
  malformedWrappedKey: (keyringId: string, reason: string) =>
    `keyring ${keyringId} cannot unwrap: the wrapped key is malformed (${reason})`,
  untrustedKey: (keyringId: string, keyArn: string) =>
    `keyring ${keyringId} refuses to unwrap with ${keyArn}: the key is outside the trusted accounts`,
  unexpectedResponse: (kmsOperation: string, key: string, reason: string) =>
    `AWS KMS ${kmsOperation} with key ${key} returned an unexpected response: ${reason}`,
  multiWrapFailed: (keyringId: string, memberId: string, reason: string) =>
    `keyring ${keyringId} failed to wrap under ${memberId}: ${reason}`,
  multiUnwrapFailed: (keyringId: string, failures: readonly string[]) =>
    failures.length === 0
      ? `keyring ${keyringId} cannot unwrap: no configured keyring produced any of the wrapped copies`
      : `keyring ${keyringId} cannot unwrap with any keyring: ${failures.join('; ')}`,
} as const;

/** Why a KMS call failed, in words, by AWS error code or network condition. */
export function describeFailure(code: string, timeoutMs: number): string {
  switch (code) {
    case 'DisabledException':
      return 'the KMS key is disabled (DisabledException)';
    case 'KMSInvalidStateException':
      return 'the KMS key is pending deletion or otherwise unusable (KMSInvalidStateException)';
    case 'NotFoundException':
      return 'the KMS key or alias does not exist (NotFoundException)';
    case 'InvalidCiphertextException':
      return 'the wrapped key was tampered with or presented with another encryption context (InvalidCiphertextException)';
    case 'IncorrectKeyException':
      return 'the wrapped key was made under another KMS key (IncorrectKeyException)';
    case 'AccessDeniedException':
      return 'access denied by the key policy or IAM policy (AccessDeniedException)';
    case 'ThrottlingException':
      return 'throttled by KMS (ThrottlingException)';
    case 'Timeout':
      return `no answer within ${timeoutMs} ms`;
    default:
      return code;
  }
}
