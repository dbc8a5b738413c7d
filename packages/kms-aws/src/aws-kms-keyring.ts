/**
 * The AWS KMS keyring: scope and index keys are wrapped by a KMS key (`Encrypt`), generated
 * inside KMS (`GenerateDataKey`, AES_256) and unwrapped with `Decrypt` naming the exact key
 * ARN. The encryption context from core is always sent, so KMS binds it to the ciphertext and
 * CloudTrail records which key id, scope and version each call was for.
 */
import { inspect } from 'node:util';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import {
  checkOptionsObject,
  callRemoteKeyring,
  checkAuditOptions,
  InvalidArgumentError,
  KeyringError,
  resolveKeyringTimeout,
  type ActorContext,
  type AuditSink,
  type EncryptionContext,
  type GeneratedKey,
  type Keyring,
  type RemoteCallTarget,
  type RemoteKeyringSettings,
} from '@hushfield/core';
import { arnForRegion, parseKmsArn } from './key-arn';
import { describeFailure, messages } from './messages';
import { classifyKmsError, resolveRetryOptions, type RetryOptions } from './retry';
import { TrustedAccounts } from './trusted-accounts';
import { decodeWrappedKey, encodeWrappedKey } from './wrapped-key-format';

/** Options of {@link AwsKmsKeyring}. */
export interface AwsKmsKeyringOptions {
  /**
   * The KMS key new keys are wrapped under: key ARN (recommended), multi-Region key ARN,
   * alias ARN, alias name (`alias/hushfield`) or key id. Unwrapping always uses the key ARN
   * stored with each wrapped key, so moving an alias never orphans existing keys.
   */
  readonly keyId: string;
  /**
   * A KMS client to use. Its own retry settings still apply (the SDK default is 3 attempts),
   * multiplying with {@link AwsKmsKeyringOptions.retry}; prefer `clientConfig`.
   */
  readonly client?: KMSClient;
  /**
   * Configuration for the client this keyring creates when `client` is not given. The SDK's
   * own retries default to off (`maxAttempts: 1`) because this keyring retries; the Region
   * defaults to the one in `keyId` when it is an ARN.
   */
  readonly clientConfig?: KMSClientConfig;
  /** Retry policy for throttling and transient failures (default 4 attempts, 50 ms base, 2 s cap). */
  readonly retry?: RetryOptions;
  /** Per-attempt timeout in milliseconds, enforced with an AbortController. Default 5,000. */
  readonly timeoutMs?: number;
  /** Receives one event per keyring operation (latency, attempts, outcome). */
  readonly audit?: AuditSink;
  /** The caller's actor context, added to audit events. */
  readonly actor?: () => ActorContext | undefined;
  /**
   * AWS accounts whose keys `unwrapKey` will call `Decrypt` with. Default: the account of
   * `keyId` (from its ARN, or learned from KMS on first use). Stops a key-store row written by
   * someone else from pointing this application at a key they control.
   */
  readonly trustedAccountIds?: readonly string[];
}

/** What {@link AwsKmsKeyring.describeKey} reports. No secret. */
export interface AwsKmsKeyDescription {
  /** The key ARN the configured `keyId` resolves to (an alias's current target). */
  readonly keyArn: string;
  readonly accountId: string;
  readonly region: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, ... as KMS reports it. */
  readonly keyState: string;
  readonly enabled: boolean;
  readonly multiRegion: boolean;
}

/** 256-bit keys, as core's key hierarchy uses; KMS accepts up to 4096 bytes of plaintext. */
const MAX_PLAINTEXT_BYTES = 4096;
const GENERATED_KEY_BYTES = 32;

/**
 * Copies a plaintext key the SDK returned into a Buffer this package owns, then zeroes the
 * SDK's view (its base64 source string cannot be zeroed).
 */
function takePlaintext(sdkPlaintext: Uint8Array | undefined): Buffer | undefined {
  if (sdkPlaintext === undefined) return undefined;
  const owned = Buffer.alloc(sdkPlaintext.length);
  owned.set(sdkPlaintext);
  sdkPlaintext.fill(0);
  return owned;
}

function checkContext(context: EncryptionContext): Record<string, string> {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new InvalidArgumentError('context must be an object of string values', 'context');
  }
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(context)) {
    if (typeof value !== 'string') throw new InvalidArgumentError(`context.${name} must be a string`, 'context');
    copy[name] = value;
  }
  return copy;
}

/**
 * A {@link Keyring} backed by an AWS KMS symmetric key.
 *
 * @example
 * ```ts
 * const keyring = new AwsKmsKeyring({
 *   keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
 *   timeoutMs: 2_000,
 *   retry: { maxAttempts: 4 },
 * });
 * ```
 */
export class AwsKmsKeyring implements Keyring {
  /** `aws-kms:<keyId as configured>`. */
  readonly id: string;
  /** The configured key (ARN, alias or id). */
  readonly keyId: string;
  readonly #client: KMSClient;
  readonly #ownsClient: boolean;
  readonly #settings: RemoteKeyringSettings;
  readonly #trust: TrustedAccounts;
  #region: Promise<string> | undefined;

  /**
   * @throws InvalidArgumentError for `options` that are not an object, an empty `keyId`,
   *   out-of-range timeout/retry settings or a bad `audit`/`actor`
   */
  constructor(options: AwsKmsKeyringOptions) {
    checkOptionsObject(options, 'AwsKmsKeyring', true);
    const keyId = options.keyId;
    if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 2048) {
      throw new InvalidArgumentError('keyId must be a KMS key ARN, alias or key id', 'keyId');
    }
    const timeoutMs = resolveKeyringTimeout(options.timeoutMs);
    checkAuditOptions(options);
    this.keyId = keyId;
    this.id = `aws-kms:${keyId}`;
    const arn = parseKmsArn(keyId);
    const retry = resolveRetryOptions(options.retry);
    this.#trust = new TrustedAccounts(options.trustedAccountIds ?? (arn !== null ? [arn.accountId] : undefined), () =>
      this.#describeAccount(),
    );
    this.#settings = {
      keyringId: this.id,
      service: 'AWS KMS',
      timeoutMs,
      retry,
      audit: options.audit,
      actor: options.actor,
      classify: classifyKmsError,
      describe: (code) => describeFailure(code, timeoutMs),
    };
    this.#ownsClient = options.client === undefined;
    this.#client =
      options.client ??
      new KMSClient({
        ...(arn !== null ? { region: arn.region } : {}),
        ...options.clientConfig,
        maxAttempts: options.clientConfig?.maxAttempts ?? 1,
      });
  }

  /**
   * Wraps a key with KMS `Encrypt`, binding `context`.
   * @throws InvalidArgumentError for an empty or oversized key or a non-string context value
   * @throws KeyringError when KMS refuses or cannot be reached
   */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintextKey) || plaintextKey.length === 0 || plaintextKey.length > MAX_PLAINTEXT_BYTES) {
      throw new InvalidArgumentError(
        `plaintextKey must be a Buffer of 1 to ${MAX_PLAINTEXT_BYTES} bytes`,
        'plaintextKey',
      );
    }
    const encryptionContext = checkContext(context);
    const target: RemoteCallTarget = { operation: 'wrap', remoteOperation: 'Encrypt', key: this.keyId, context };
    const response = await callRemoteKeyring(this.#settings, target, (abortSignal) =>
      this.#client.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: plaintextKey, EncryptionContext: encryptionContext }),
        { abortSignal },
      ),
    );
    return this.#frame(target, response.KeyId, response.CiphertextBlob);
  }

  /**
   * Generates a 256-bit key inside KMS (`GenerateDataKey`, `AES_256`) bound to `context`.
   * @throws KeyringError when KMS refuses or cannot be reached
   */
  async generateKey(context: EncryptionContext): Promise<GeneratedKey> {
    const encryptionContext = checkContext(context);
    const target: RemoteCallTarget = {
      operation: 'generate',
      remoteOperation: 'GenerateDataKey',
      key: this.keyId,
      context,
    };
    const response = await callRemoteKeyring(this.#settings, target, (abortSignal) =>
      this.#client.send(
        new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: encryptionContext }),
        { abortSignal },
      ),
    );
    const plaintextKey = takePlaintext(response.Plaintext);
    if (plaintextKey === undefined || plaintextKey.length !== GENERATED_KEY_BYTES) {
      plaintextKey?.fill(0);
      throw this.#unexpected(target, 'the data key is not 32 bytes');
    }
    try {
      return { plaintextKey, wrappedKey: this.#frame(target, response.KeyId, response.CiphertextBlob) };
    } catch (error) {
      plaintextKey.fill(0);
      throw error;
    }
  }

  /**
   * Unwraps with KMS `Decrypt`, naming the key ARN stored with the wrapped key (the replica in
   * this client's Region for a multi-Region key) and passing `context`.
   * @throws KeyringError when the bytes are malformed, the key is untrusted, disabled, pending
   *   deletion or unreachable, or KMS refuses the context (`InvalidCiphertextException`)
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    const encryptionContext = checkContext(context);
    const parsed = decodeWrappedKey(wrappedKey);
    if (!parsed.ok) {
      throw new KeyringError(messages.malformedWrappedKey(this.id, parsed.reason), {
        keyringId: this.id,
        operation: 'unwrap',
      });
    }
    const storedArn = parsed.value.keyArn;
    const owner = parseKmsArn(storedArn);
    if (owner === null || owner.resourceType !== 'key' || !(await this.#trust.has(owner.accountId))) {
      throw new KeyringError(messages.untrustedKey(this.id, storedArn), { keyringId: this.id, operation: 'unwrap' });
    }
    const keyArn = arnForRegion(storedArn, await this.#clientRegion());
    const target: RemoteCallTarget = { operation: 'unwrap', remoteOperation: 'Decrypt', key: keyArn, context };
    const response = await callRemoteKeyring(this.#settings, target, (abortSignal) =>
      this.#client.send(
        new DecryptCommand({
          KeyId: keyArn,
          CiphertextBlob: parsed.value.ciphertext,
          EncryptionContext: encryptionContext,
        }),
        { abortSignal },
      ),
    );
    const plaintextKey = takePlaintext(response.Plaintext);
    if (plaintextKey === undefined || response.KeyId !== keyArn) {
      plaintextKey?.fill(0);
      throw this.#unexpected(target, 'the plaintext or key ARN is missing or differs from the request');
    }
    return plaintextKey;
  }

  /**
   * Reachability and state of the configured key (`DescribeKey`), e.g. for `hushfield doctor`.
   * Needs `kms:DescribeKey`. Subject to the same timeout and retries as the other calls.
   * @throws KeyringError (operation `describe`) when KMS refuses or cannot be reached
   */
  async describeKey(): Promise<AwsKmsKeyDescription> {
    const target: RemoteCallTarget = { operation: 'describe', remoteOperation: 'DescribeKey', key: this.keyId };
    const response = await callRemoteKeyring(this.#settings, target, (abortSignal) =>
      this.#client.send(new DescribeKeyCommand({ KeyId: this.keyId }), { abortSignal }),
    );
    const metadata = response.KeyMetadata;
    const arn = parseKmsArn(metadata?.Arn ?? '');
    if (metadata === undefined || arn === null || arn.resourceType !== 'key')
      throw this.#unexpected(target, 'no key ARN');
    return {
      keyArn: metadata.Arn as string,
      accountId: arn.accountId,
      region: arn.region,
      keyState: String(metadata.KeyState ?? 'Unknown'),
      enabled: metadata.Enabled === true,
      multiRegion: metadata.MultiRegion === true,
    };
  }

  /** Closes the KMS client's connections if this keyring created the client. */
  destroy(): void {
    if (this.#ownsClient) this.#client.destroy();
  }

  /** Prints identifiers only (never the client, its credentials or any key). */
  [inspect.custom](): string {
    return `AwsKmsKeyring { id: ${JSON.stringify(this.id)} }`;
  }

  /** JSON form: identifiers only. */
  toJSON(): { id: string; keyId: string } {
    return { id: this.id, keyId: this.keyId };
  }

  #frame(target: RemoteCallTarget, keyArn: string | undefined, ciphertext: Uint8Array | undefined): Buffer {
    const arn = keyArn === undefined ? null : parseKmsArn(keyArn);
    if (arn === null || arn.resourceType !== 'key' || ciphertext === undefined) {
      throw this.#unexpected(target, 'no key ARN or ciphertext');
    }
    this.#trust.learn(arn.accountId);
    try {
      return encodeWrappedKey(keyArn as string, ciphertext);
    } catch {
      throw this.#unexpected(target, 'the key ARN or ciphertext exceeds the stored format');
    }
  }

  #unexpected(target: RemoteCallTarget, reason: string): KeyringError {
    return new KeyringError(messages.unexpectedResponse(target.remoteOperation, target.key, reason), {
      keyringId: this.id,
      operation: target.operation,
    });
  }

  /** The configured key's account, from `DescribeKey` (when `keyId` is not an ARN). */
  async #describeAccount(): Promise<string> {
    return (await this.describeKey()).accountId;
  }

  #clientRegion(): Promise<string> {
    // Without a resolvable Region the stored ARN is used as is (and Decrypt reports the problem).
    this.#region ??= Promise.resolve()
      .then(() => this.#client.config.region())
      .then(String, () => '');
    return this.#region;
  }
}
