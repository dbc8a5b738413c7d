/**
 * Which AWS accounts' keys `AwsKmsKeyring.unwrapKey` may call `Decrypt` with. A wrapped key
 * names its KMS key ARN; without this check, anyone able to write the key-store table could
 * point the application at a KMS key they control (and then read what it encrypts).
 */
import { InvalidArgumentError } from '@hushfield/core';

/** The accounts, given up front or learned once (from a KMS answer, or by asking). */
export class TrustedAccounts {
  #accounts: Promise<ReadonlySet<string>> | undefined;

  /**
   * @param configured - explicit account ids, or `undefined` to learn the configured key's
   * @param discover - resolves the configured key's account (e.g. with `DescribeKey`)
   * @throws InvalidArgumentError when `configured` is empty or not 12-digit account ids
   */
  constructor(
    configured: readonly string[] | undefined,
    private readonly discover: () => Promise<string>,
  ) {
    if (configured !== undefined) {
      if (
        !Array.isArray(configured) ||
        configured.length === 0 ||
        !configured.every((id) => /^\d{12}$/.test(String(id)))
      ) {
        throw new InvalidArgumentError(
          'trustedAccountIds must be a non-empty array of 12-digit AWS account ids',
          'trustedAccountIds',
        );
      }
      this.#accounts = Promise.resolve(new Set(configured));
    }
  }

  /** Records the configured key's account when it was not known yet (first answer wins). */
  learn(accountId: string): void {
    this.#accounts ??= Promise.resolve(new Set([accountId]));
  }

  /** Whether `accountId` is trusted; asks `discover` once when nothing is known (retried after a failure). */
  async has(accountId: string): Promise<boolean> {
    if (this.#accounts === undefined) {
      const discovered = this.discover().then((id) => new Set([id]) as ReadonlySet<string>);
      this.#accounts = discovered;
      discovered.catch(() => {
        if (this.#accounts === discovered) this.#accounts = undefined;
      });
    }
    return (await this.#accounts).has(accountId);
  }
}
