/**
 * The Azure Key Vault keyring: hushfield's scope and index keys are wrapped by a Key Vault or
 * Managed HSM key through the official SDK (`CryptographyClient.wrapKey`/`unwrapKey`), with
 * `A256KW` (an `oct-HSM` key in a Managed HSM) or `RSA-OAEP-256` (an RSA key in Key Vault).
 * Key Vault's wrap has no associated data, so what it wraps is a context-bound blob
 * (key-blob.ts): the key with a SHA-256 digest of the encryption context, checked on unwrap.
 *
 * Retries, timeouts and audit are core's (`callRemoteKeyring`); the SDK's own retry policy is
 * turned off so that attempts are not multiplied. Wraps use the key's latest version (or the
 * pinned `keyVersion`), and the version Key Vault reports (`kid`) is stored with the wrapped
 * key, so unwrap asks that exact version after the key is rotated.
 */
import { inspect } from 'node:util';
import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import {
  checkOptionsObject,
  callRemoteKeyring,
  checkAuditOptions,
  InvalidArgumentError,
  KeyringError,
  resolveKeyringRetry,
  resolveKeyringTimeout,
  type ActorContext,
  type AuditSink,
  type EncryptionContext,
  type Keyring,
  type KeyringFailure,
  type KeyringRetryOptions,
  type RemoteCallTarget,
  type RemoteKeyringSettings,
} from '@hushfield/core';
import {
  AzureKeyringError,
  classifyAzureError,
  describeAzureFailure,
  ResultRejected,
  type AzureErrorCode,
} from './azure-errors';
import { ciphertextLengthFits, decodeWrappedKey, encodeWrappedKey, type AzureWrapAlgorithm } from './azure-wrapped-key';
import { contextDigest, KEY_BYTES, openBlob, sealBlob } from './key-blob';
import { checkVaultUrl, isKeyName, isKeyVersion, parseKeyId } from './key-identifier';
import { messages } from './messages';

/** Options of {@link AzureKeyVaultKeyring}. */
export interface AzureKeyVaultKeyringOptions {
  /** `https://<vault>.vault.azure.net` or `https://<hsm>.managedhsm.azure.net`. */
  readonly vaultUrl: string;
  /** The Key Vault key's name (not its full id). */
  readonly keyName: string;
  /**
   * `A256KW` for an `oct-HSM` key in a Managed HSM (recommended: only the key's holders can wrap,
   * so a wrapped key's origin is authenticated), or `RSA-OAEP-256` for an `RSA`/`RSA-HSM` key
   * (anyone with the public key can wrap: see the README).
   */
  readonly algorithm: AzureWrapAlgorithm;
  /** An `@azure/identity` credential (`DefaultAzureCredential`, a managed identity, ...). */
  readonly credential: TokenCredential;
  /** Wrap with this key version rather than the latest. Unwrap always uses the stored version. */
  readonly keyVersion?: string;
  /** Overrides the keyring id (default `azure-kv:<vault host>/<keyName>`). */
  readonly id?: string;
  /** Per-attempt timeout in milliseconds, token acquisition included. Default 5,000. */
  readonly timeoutMs?: number;
  /** Retries of throttling, 5xx, timeouts and network failures (default 4 attempts, 50 ms base, 2 s cap). */
  readonly retry?: KeyringRetryOptions;
  /** Receives one event per keyring operation (latency, attempts, outcome). */
  readonly audit?: AuditSink;
  /** The caller's actor context, added to audit events. */
  readonly actor?: () => ActorContext | undefined;
  /**
   * Passed to every `CryptographyClient` (proxy, `tlsOptions`, `agent`, `serviceVersion`,
   * `disableChallengeResourceVerification`, ...). `retryOptions` is always replaced by
   * `{ maxRetries: 0 }`: this keyring retries, the SDK does not.
   */
  readonly clientOptions?: CryptographyClientOptions;
}

/** Clients kept per key version (each has its own pipeline and token cache). */
const MAX_CACHED_CLIENTS = 32;
const LATEST = '';

/**
 * A {@link Keyring} backed by an Azure Key Vault or Managed HSM key.
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from '@azure/identity';
 * const keyring = new AzureKeyVaultKeyring({
 *   vaultUrl: 'https://contoso-hsm.managedhsm.azure.net',
 *   keyName: 'hushfield-root',
 *   algorithm: 'A256KW',
 *   credential: new DefaultAzureCredential(),
 * });
 * ```
 */
export class AzureKeyVaultKeyring implements Keyring {
  /** `azure-kv:<vault host>/<keyName>` unless overridden. */
  readonly id: string;
  /** The vault's origin, `https://<host>[:port]`. */
  readonly vaultUrl: string;
  readonly keyName: string;
  readonly algorithm: AzureWrapAlgorithm;
  /** The pinned wrap version, if any. */
  readonly keyVersion?: string;
  readonly #credential: TokenCredential;
  readonly #clientOptions: CryptographyClientOptions;
  readonly #settings: RemoteKeyringSettings;
  readonly #clients = new Map<string, CryptographyClient>();

  /** @throws InvalidArgumentError naming the bad option */
  constructor(options: AzureKeyVaultKeyringOptions) {
    checkOptionsObject(options, 'AzureKeyVaultKeyring', true);
    checkAuditOptions(options);
    this.vaultUrl = checkVaultUrl(options.vaultUrl).origin;
    if (!isKeyName(options.keyName)) {
      throw new InvalidArgumentError('keyName must be 1 to 127 letters, digits and dashes', 'keyName');
    }
    this.keyName = options.keyName;
    if (options.algorithm !== 'A256KW' && options.algorithm !== 'RSA-OAEP-256') {
      throw new InvalidArgumentError("algorithm must be 'A256KW' or 'RSA-OAEP-256'", 'algorithm');
    }
    this.algorithm = options.algorithm;
    if (options.keyVersion !== undefined) {
      if (!isKeyVersion(options.keyVersion)) {
        throw new InvalidArgumentError('keyVersion must be a Key Vault key version (letters and digits)', 'keyVersion');
      }
      this.keyVersion = options.keyVersion;
    }
    if (typeof options.credential?.getToken !== 'function') {
      throw new InvalidArgumentError('credential must be a TokenCredential (with getToken)', 'credential');
    }
    this.#credential = options.credential;
    if (
      options.id !== undefined &&
      (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > 512)
    ) {
      throw new InvalidArgumentError('id must be a string of 1 to 512 characters', 'id');
    }
    this.id = options.id ?? `azure-kv:${new URL(this.vaultUrl).host}/${this.keyName}`;
    this.#clientOptions = { ...options.clientOptions, retryOptions: { maxRetries: 0 } };
    const timeoutMs = resolveKeyringTimeout(options.timeoutMs);
    this.#settings = {
      keyringId: this.id,
      service: 'Azure Key Vault',
      timeoutMs,
      retry: resolveKeyringRetry(options.retry),
      audit: options.audit,
      actor: options.actor,
      classify: classifyAzureError,
      describe: (code) => describeAzureFailure(code, timeoutMs),
    };
  }

  /**
   * Wraps a 256-bit key with Key Vault `wrapKey`, inside a blob bound to `context`.
   * @throws InvalidArgumentError when `plaintextKey` is not 32 bytes or `context` not an object of strings
   * @throws AzureKeyringError when Key Vault refuses, cannot be reached, or answers unusably
   */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintextKey) || plaintextKey.length !== KEY_BYTES) {
      throw new InvalidArgumentError(`plaintextKey must be a Buffer of ${KEY_BYTES} bytes`, 'plaintextKey');
    }
    const blob = sealBlob(contextDigest(context), plaintextKey);
    const version = this.keyVersion ?? LATEST;
    try {
      return await this.#call('wrap', 'wrapKey', version, context, async (client, signal) => {
        let kid: unknown;
        const result = await client.wrapKey(this.algorithm, blob, {
          abortSignal: signal,
          // The SDK reports the key id it was given; the version used is in the response's `kid`.
          onResponse: (response) => {
            const body = response.parsedBody as { kid?: unknown } | undefined;
            if (response.request.url.includes('/wrapkey') && response.status === 200) kid = body?.kid;
          },
        });
        const ciphertext = Buffer.from(result.result);
        const used = parseKeyId(kid ?? result.keyID, this.vaultUrl);
        if (used === undefined || used.name !== this.keyName) throw new ResultRejected('UnexpectedResponse');
        if (this.keyVersion !== undefined && used.version !== this.keyVersion) {
          throw new ResultRejected('UnexpectedResponse');
        }
        if (!ciphertextLengthFits(this.algorithm, ciphertext.length)) throw new ResultRejected('UnexpectedResponse');
        return encodeWrappedKey({
          algorithm: this.algorithm,
          keyName: this.keyName,
          keyVersion: used.version,
          ciphertext,
        });
      });
    } finally {
      blob.fill(0);
    }
  }

  /**
   * Unwraps with Key Vault `unwrapKey` at the stored key version, then checks that the blob is
   * bound to `context`.
   * @throws AzureKeyringError (`azureCode`): `MalformedWrappedKey`, `WrongKey` or
   *   `AlgorithmMismatch` before any call; `ContextMismatch` when the key was wrapped for another
   *   context; `BadParameter` when tampered with; `KeyDisabled`, `Forbidden`, ... when refused;
   *   retryable codes when throttled, unavailable or unreachable
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    const digest = contextDigest(context);
    const parsed = decodeWrappedKey(wrappedKey);
    if (!parsed.ok) throw this.#refuse(messages.malformedWrappedKey(this.id, parsed.reason), 'MalformedWrappedKey');
    const stored = parsed.value;
    if (stored.keyName !== this.keyName) throw this.#refuse(messages.wrongKey(this.id, stored.keyName), 'WrongKey');
    if (stored.algorithm !== this.algorithm) {
      throw this.#refuse(messages.algorithmMismatch(this.id, stored.algorithm, this.algorithm), 'AlgorithmMismatch');
    }
    return this.#call('unwrap', 'unwrapKey', stored.keyVersion, context, async (client, signal) => {
      const result = await client.unwrapKey(this.algorithm, stored.ciphertext, { abortSignal: signal });
      const blob = Buffer.from(result.result);
      result.result.fill(0);
      try {
        const opened = openBlob(blob, digest);
        if (!opened.ok) throw new ResultRejected(opened.reason);
        return opened.key;
      } finally {
        blob.fill(0);
      }
    });
  }

  /** Prints identifiers only (never the credential or any key). */
  [inspect.custom](): string {
    return `AzureKeyVaultKeyring { id: ${JSON.stringify(this.id)}, algorithm: ${JSON.stringify(this.algorithm)} }`;
  }

  /** JSON form: identifiers only. */
  toJSON(): { id: string; vaultUrl: string; keyName: string; algorithm: AzureWrapAlgorithm; keyVersion?: string } {
    return {
      id: this.id,
      vaultUrl: this.vaultUrl,
      keyName: this.keyName,
      algorithm: this.algorithm,
      ...(this.keyVersion !== undefined ? { keyVersion: this.keyVersion } : {}),
    };
  }

  #refuse(message: string, azureCode: AzureErrorCode): AzureKeyringError {
    return new AzureKeyringError(message, { keyringId: this.id, operation: 'unwrap', azureCode });
  }

  /** The client of one key version ('' for the latest), built once and kept (bounded). */
  #client(version: string): CryptographyClient {
    let client = this.#clients.get(version);
    if (client === undefined) {
      if (this.#clients.size >= MAX_CACHED_CLIENTS) this.#clients.delete(this.#clients.keys().next().value!);
      const keyId = `${this.vaultUrl}/keys/${this.keyName}${version === LATEST ? '' : `/${version}`}`;
      client = new CryptographyClient(keyId, this.#credential, this.#clientOptions);
      this.#clients.set(version, client);
    }
    return client;
  }

  /**
   * One keyring operation through core's retry loop. The failure of the last attempt is kept
   * so that the error thrown names its `azureCode`. A client with a stale token or stale key
   * properties is dropped; after a 401 the attempt goes on once with a new client (a new token).
   */
  async #call<T>(
    operation: 'wrap' | 'unwrap',
    remoteOperation: 'wrapKey' | 'unwrapKey',
    version: string,
    context: EncryptionContext,
    send: (client: CryptographyClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    let last: KeyringFailure | undefined;
    const settings: RemoteKeyringSettings = {
      ...this.#settings,
      classify: (error, timedOut) => (last = classifyAzureError(error, timedOut)),
    };
    const key = `${this.keyName}/${version === LATEST ? 'latest' : version}`;
    const target: RemoteCallTarget = { operation, remoteOperation, key, context };
    try {
      return await callRemoteKeyring(settings, target, async (signal) => {
        for (let renewed = false; ; renewed = true) {
          const client = this.#client(version);
          try {
            return await send(client, signal);
          } catch (error) {
            const code = classifyAzureError(error, false).code;
            // A client whose cached token (401) or key properties (expired, say) are stale is rebuilt:
            // a new one asks the credential and Key Vault again. A 401 is tried once more that way.
            if ((code === 'Unauthorized' || code === 'KeyNotUsable') && this.#clients.get(version) === client) {
              this.#clients.delete(version);
            }
            if (code !== 'Unauthorized' || renewed) throw error;
          }
        }
      });
    } catch (error) {
      if (!(error instanceof KeyringError) || last === undefined) throw error;
      throw new AzureKeyringError(error.message, {
        keyringId: this.id,
        operation,
        azureCode: last.code,
        retryable: error.retryable,
      });
    }
  }
}
