/**
 * The Google Cloud KMS keyring: scope and index keys are wrapped with `encrypt` on a symmetric
 * CryptoKey (its primary version) and unwrapped with `decrypt` on the same CryptoKey (Cloud
 * KMS reads the version from the ciphertext); the root key never leaves Cloud KMS. The
 * encryption context from core is bound as `additionalAuthenticatedData` (its canonical bytes),
 * so a wrapped key presented with another context fails inside Cloud KMS. Every byte field is
 * CRC32C-checked end to end, as Google's data-integrity guidelines ask.
 */
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { inspect } from 'node:util';
import {
  checkOptionsObject,
  callRemoteKeyring,
  checkAuditOptions,
  encodeEncryptionContext,
  InvalidArgumentError,
  KeyringError,
  resolveKeyringRetry,
  resolveKeyringTimeout,
  type ActorContext,
  type AuditSink,
  type EncryptionContext,
  type Keyring,
  type KeyringRetryOptions,
  type RemoteCallTarget,
  type RemoteKeyringSettings,
  untilAborted,
} from '@hushfield/core';
import { classifyGcpError, describeGcpFailure, GcpResponseError } from './gcp-errors';
import { decodeWrappedKey, encodeWrappedKey, type WrappedGcpKey } from './gcp-wrapped-key';
import { checksum, verifyChecksum, verifyConfirmed } from './integrity';
import { messages } from './messages';
import { parseCryptoKeyName, parseCryptoKeyVersionName } from './resource-names';

/** The options `KeyManagementServiceClient` takes (credentials, endpoint, transport, ...). */
export type GcpKmsClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;

/** Options of {@link GcpKmsKeyring}. */
export interface GcpKmsKeyringOptions {
  /**
   * The symmetric (`ENCRYPT_DECRYPT`) CryptoKey:
   * `projects/<project>/locations/<location>/keyRings/<keyRing>/cryptoKeys/<key>`. Not a
   * version: new keys are wrapped under its primary version, whichever that is.
   */
  readonly keyName: string;
  /**
   * A client to use (you close it). Its own retries still apply to each attempt; prefer
   * `clientOptions`.
   */
  readonly client?: KeyManagementServiceClient;
  /**
   * Options for the client this keyring creates when `client` is not given: credentials
   * (Application Default Credentials by default), `apiEndpoint`, `fallback` for the REST
   * transport, ... The SDK's own retries are turned off per call: this keyring retries.
   */
  readonly clientOptions?: GcpKmsClientOptions;
  /** Per-attempt timeout in milliseconds (also sent as the call's deadline). Default 5,000. */
  readonly timeoutMs?: number;
  /**
   * Retry policy for UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, deadlines, network and checksum
   * failures (default 4 attempts, 50 ms base, 2 s cap).
   */
  readonly retry?: KeyringRetryOptions;
  /** Receives one event per keyring operation (latency, attempts, outcome). */
  readonly audit?: AuditSink;
  /** The caller's actor context, added to audit events. */
  readonly actor?: () => ActorContext | undefined;
  /** Overrides the keyring id (default `gcp-kms:<keyName>`). Keep it stable. */
  readonly id?: string;
}

/** Domain label of the additional authenticated data (see `encodeEncryptionContext` in core). */
export const AAD_DOMAIN = 'hushfield/gcp-kms-aad/v1';

/** 256-bit keys are what core wraps; Cloud KMS takes up to 64 KiB, hushfield never needs more than this. */
const MAX_PLAINTEXT_BYTES = 4096;

/**
 * The additional authenticated data hushfield sends for `context`: core's canonical encoding
 * under {@link AAD_DOMAIN}. Exported so an operator can reproduce it (e.g. to decrypt by hand
 * with `gcloud kms decrypt --additional-authenticated-data-file`).
 * @throws InvalidArgumentError when `context` is not an object of string values or exceeds 8 KiB
 */
export function contextAad(context: EncryptionContext): Buffer {
  return encodeEncryptionContext(AAD_DOMAIN, context);
}

/**
 * Which CryptoKeyVersion wrapped a stored key, read from the bytes without calling Cloud KMS
 * (e.g. to find the keys that still depend on a version before disabling it).
 * @returns `undefined` when the bytes are not a Cloud KMS wrapped key
 */
export function wrappedKeyVersion(wrappedKey: Buffer): { cryptoKeyVersion: string; version: number } | undefined {
  const parsed = decodeWrappedKey(wrappedKey);
  return parsed.ok ? { cryptoKeyVersion: parsed.value.cryptoKeyVersion, version: parsed.value.version } : undefined;
}

/** Thrown into an attempt when the keyring's own timer fires first. */
class AttemptAborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}

/**
 * A {@link Keyring} backed by a Google Cloud KMS symmetric CryptoKey.
 *
 * @example
 * ```ts
 * const keyring = new GcpKmsKeyring({
 *   keyName: 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/root',
 *   timeoutMs: 2_000,
 * });
 * ```
 */
export class GcpKmsKeyring implements Keyring {
  /** `gcp-kms:<keyName>` unless overridden. */
  readonly id: string;
  /** The CryptoKey resource name. */
  readonly keyName: string;
  readonly #client: KeyManagementServiceClient;
  readonly #ownsClient: boolean;
  readonly #settings: RemoteKeyringSettings;
  readonly #callOptions: { timeout: number; retry: null };

  /**
   * @throws InvalidArgumentError for `options` that are not an object, a `keyName` that is not a
   *   CryptoKey name, or bad timeout/retry/audit settings
   */
  constructor(options: GcpKmsKeyringOptions) {
    checkOptionsObject(options, 'GcpKmsKeyring', true);
    const keyName = parseCryptoKeyName(options.keyName);
    if (keyName === undefined) {
      throw new InvalidArgumentError(
        'keyName must be a CryptoKey name: projects/<project>/locations/<location>/keyRings/<keyRing>/cryptoKeys/<key>',
        'keyName',
      );
    }
    if (
      options.id !== undefined &&
      (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > 1024)
    ) {
      throw new InvalidArgumentError('id must be a string of 1 to 1024 characters', 'id');
    }
    this.keyName = keyName;
    this.id = options.id ?? `gcp-kms:${keyName}`;
    const timeoutMs = resolveKeyringTimeout(options.timeoutMs);
    checkAuditOptions(options);
    this.#settings = {
      keyringId: this.id,
      service: 'Google Cloud KMS',
      timeoutMs,
      retry: resolveKeyringRetry(options.retry),
      audit: options.audit,
      actor: options.actor,
      classify: classifyGcpError,
      describe: (code) => describeGcpFailure(code, timeoutMs),
    };
    // `retry: null` turns the SDK's own retries off for the call; `timeout` is its deadline.
    this.#callOptions = { timeout: timeoutMs, retry: null };
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? new KeyManagementServiceClient(options.clientOptions);
  }

  /**
   * Wraps a key with Cloud KMS `encrypt` on the CryptoKey's primary version, binding `context`
   * as additional authenticated data, and records which version encrypted it.
   * @throws InvalidArgumentError for an empty or oversized key or a non-string context value
   * @throws KeyringError when Cloud KMS refuses, cannot be reached, or answers with a bad checksum
   */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintextKey) || plaintextKey.length === 0 || plaintextKey.length > MAX_PLAINTEXT_BYTES) {
      throw new InvalidArgumentError(
        `plaintextKey must be a Buffer of 1 to ${MAX_PLAINTEXT_BYTES} bytes`,
        'plaintextKey',
      );
    }
    const aad = contextAad(context);
    const target: RemoteCallTarget = { operation: 'wrap', remoteOperation: 'Encrypt', key: this.keyName, context };
    return callRemoteKeyring(this.#settings, target, async (signal) => {
      const call = this.#client.encrypt(
        {
          name: this.keyName,
          plaintext: plaintextKey,
          additionalAuthenticatedData: aad,
          plaintextCrc32c: checksum(plaintextKey),
          additionalAuthenticatedDataCrc32c: checksum(aad),
        },
        this.#callOptions,
      );
      const [response] = await untilAborted(call, signal, { error: () => new AttemptAborted() });
      const version = parseCryptoKeyVersionName(response.name);
      const ciphertext = response.ciphertext;
      if (version === undefined || version.cryptoKey !== this.keyName || !(ciphertext instanceof Uint8Array)) {
        throw new GcpResponseError('UnexpectedResponse', 'no ciphertext, or a version of another key');
      }
      verifyConfirmed({
        verifiedPlaintextCrc32c: response.verifiedPlaintextCrc32c,
        verifiedAdditionalAuthenticatedDataCrc32c: response.verifiedAdditionalAuthenticatedDataCrc32c,
      });
      verifyChecksum(ciphertext, response.ciphertextCrc32c, 'ciphertext');
      try {
        return encodeWrappedKey(response.name as string, ciphertext);
      } catch {
        throw new GcpResponseError('UnexpectedResponse', 'the ciphertext exceeds the stored format');
      }
    });
  }

  /**
   * Unwraps with Cloud KMS `decrypt` on this keyring's CryptoKey, passing the same additional
   * authenticated data; Cloud KMS picks the version from the ciphertext.
   * @throws KeyringError before any call when the bytes are malformed or name another CryptoKey;
   *   when the ciphertext was tampered with or the context differs (INVALID_ARGUMENT), its
   *   version is disabled or destroyed (FAILED_PRECONDITION), permission is denied, or Cloud
   *   KMS cannot be reached
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    const aad = contextAad(context);
    const stored = this.#parse(wrappedKey);
    const target: RemoteCallTarget = {
      operation: 'unwrap',
      remoteOperation: 'Decrypt',
      key: stored.cryptoKeyVersion,
      context,
    };
    return callRemoteKeyring(this.#settings, target, async (signal) => {
      const call = this.#client.decrypt(
        {
          name: this.keyName,
          ciphertext: stored.ciphertext,
          additionalAuthenticatedData: aad,
          ciphertextCrc32c: checksum(stored.ciphertext),
          additionalAuthenticatedDataCrc32c: checksum(aad),
        },
        this.#callOptions,
      );
      const [response] = await untilAborted(call, signal, {
        error: () => new AttemptAborted(),
        discard: ([late]) => {
          if (late.plaintext instanceof Uint8Array) late.plaintext.fill(0);
        },
      });
      const plaintext = response.plaintext;
      if (!(plaintext instanceof Uint8Array) || plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT_BYTES) {
        if (plaintext instanceof Uint8Array) plaintext.fill(0);
        throw new GcpResponseError('UnexpectedResponse', 'no plaintext of an expected length');
      }
      // Copy into a Buffer this package owns, zero the client's (its JSON or protobuf source cannot be).
      const owned = Buffer.from(plaintext);
      plaintext.fill(0);
      try {
        verifyChecksum(owned, response.plaintextCrc32c, 'plaintext');
      } catch (error) {
        owned.fill(0);
        throw error;
      }
      return owned;
    });
  }

  /** Closes the client's connections if this keyring created the client. */
  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.close();
  }

  /** Prints identifiers only (never the client, its credentials or any key). */
  [inspect.custom](): string {
    return `GcpKmsKeyring { id: ${JSON.stringify(this.id)} }`;
  }

  /** JSON form: identifiers only. */
  toJSON(): { id: string; keyName: string } {
    return { id: this.id, keyName: this.keyName };
  }

  #parse(wrappedKey: Buffer): WrappedGcpKey {
    const parsed = decodeWrappedKey(wrappedKey);
    if (!parsed.ok) {
      throw new KeyringError(messages.malformedWrappedKey(this.id, parsed.reason), {
        keyringId: this.id,
        operation: 'unwrap',
      });
    }
    if (parsed.value.cryptoKey !== this.keyName) {
      // A key-store row must not point this application at a key of someone else's choosing.
      throw new KeyringError(messages.wrongKey(this.id, parsed.value.cryptoKeyVersion), {
        keyringId: this.id,
        operation: 'unwrap',
      });
    }
    return parsed.value;
  }
}
