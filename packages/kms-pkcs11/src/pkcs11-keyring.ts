/**
 * The PKCS#11 keyring: the root key is a 256-bit AES key inside a token (an HSM, a cloud HSM's
 * PKCS#11 library, SoftHSM for tests) that is sensitive and never leaves it. Scope and index
 * keys are wrapped with CKM_AES_GCM (96-bit random IV, 128-bit tag) with the encryption
 * context as the GCM associated data, so a wrapped key presented with another context fails
 * inside the token. Calls run in libuv's thread pool (pkcs11js's asynchronous forms), never
 * blocking the event loop.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
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
  type GeneratedKey,
  type Keyring,
  type KeyringRetryOptions,
  type KeyringFailure,
  type RemoteCallTarget,
  type RemoteKeyringSettings,
} from '@hushfield/core';
import { contextAad } from './aad';
import { messages } from './messages';
import { classifyPkcs11Error, describePkcs11Failure, Pkcs11KeyringError, type Pkcs11ErrorCode } from './pkcs11-errors';
import { aesGcm, decrypt, encrypt, type Pkcs11Module } from './pkcs11-module';
import { Pkcs11Token, type PinSource } from './pkcs11-token';
import { decodeWrappedGcm, encodeWrappedGcm, IV_BYTES, MAX_PLAINTEXT_BYTES, TAG_BYTES } from './wrapped-gcm';

/** Options of {@link Pkcs11Keyring}. */
export interface Pkcs11KeyringOptions {
  /**
   * The PKCS#11 module: the path of its library (e.g. `/usr/lib/softhsm/libsofthsm2.so`),
   * loaded and initialised once per process; or a `pkcs11js.PKCS11` you loaded and initialised
   * (you finalise it).
   */
  readonly module: string | Pkcs11Module;
  /** The token's label. */
  readonly tokenLabel: string;
  /** The user PIN, or a function returning it (read when the keyring logs in). */
  readonly pin: PinSource;
  /** CKA_LABEL of the AES key: 256 bits, CKA_SENSITIVE, CKA_ENCRYPT and CKA_DECRYPT. */
  readonly keyLabel: string;
  /** Sessions opened on the token, i.e. concurrent operations. Default 2. */
  readonly sessions?: number;
  /** Overrides the keyring id (default `pkcs11:<tokenLabel>/<keyLabel>`). */
  readonly id?: string;
  /** Per-attempt timeout in milliseconds. Default 5,000. The token call itself cannot be cancelled. */
  readonly timeoutMs?: number;
  /** Retry policy for device and session failures (default 4 attempts, 50 ms base, 2 s cap). */
  readonly retry?: KeyringRetryOptions;
  /** Receives one event per keyring operation (latency, attempts, outcome). */
  readonly audit?: AuditSink;
  /** The caller's actor context, added to audit events. */
  readonly actor?: () => ActorContext | undefined;
}

/** What {@link Pkcs11Keyring.describeKey} reports. No secret. */
export interface Pkcs11KeyDescription {
  readonly tokenLabel: string;
  readonly keyLabel: string;
  /** Key length in bytes (32). */
  readonly valueLength: number;
  readonly sensitive: boolean;
  /** Whether the token lets the key be wrapped out (e.g. for backup to another HSM). */
  readonly extractable: boolean;
}

const GENERATED_KEY_BYTES = 32;

function checkLabel(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value, 'utf8') > 64) {
    throw new InvalidArgumentError(`${argument} must be a string of 1 to 64 bytes`, argument);
  }
  return value;
}

/**
 * A {@link Keyring} backed by an AES key in a PKCS#11 token.
 *
 * @example
 * ```ts
 * const keyring = new Pkcs11Keyring({
 *   module: '/usr/lib/softhsm/libsofthsm2.so',
 *   tokenLabel: 'hushfield',
 *   pin: () => process.env.HSM_PIN!,
 *   keyLabel: 'hushfield-root',
 * });
 * // ... keyring.close() at shutdown
 * ```
 */
export class Pkcs11Keyring implements Keyring {
  /** `pkcs11:<tokenLabel>/<keyLabel>` unless overridden. */
  readonly id: string;
  readonly tokenLabel: string;
  readonly keyLabel: string;
  readonly #token: Pkcs11Token;
  readonly #settings: RemoteKeyringSettings;

  /**
   * @throws InvalidArgumentError for `options` that are not an object, bad labels, session count
   *   or timeout/retry settings; whatever loading the library throws
   */
  constructor(options: Pkcs11KeyringOptions) {
    checkOptionsObject(options, 'Pkcs11Keyring', true);
    this.tokenLabel = checkLabel(options.tokenLabel, 'tokenLabel');
    this.keyLabel = checkLabel(options.keyLabel, 'keyLabel');
    checkAuditOptions(options);
    const sessions = options.sessions ?? 2;
    if (!Number.isSafeInteger(sessions) || sessions < 1 || sessions > 64) {
      throw new InvalidArgumentError('sessions must be an integer from 1 to 64', 'sessions');
    }
    if (
      typeof options.pin !== 'function' &&
      (typeof options.pin !== 'string' || options.pin.length === 0 || options.pin.length > 256)
    ) {
      throw new InvalidArgumentError('pin must be a string of 1 to 256 characters or a function returning one', 'pin');
    }
    if (typeof options.module !== 'string' && (typeof options.module !== 'object' || options.module === null)) {
      throw new InvalidArgumentError('module must be a library path or a loaded pkcs11js module', 'module');
    }
    if (
      options.id !== undefined &&
      (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > 512)
    ) {
      throw new InvalidArgumentError('id must be a string of 1 to 512 characters', 'id');
    }
    this.id = options.id ?? `pkcs11:${this.tokenLabel}/${this.keyLabel}`;
    const timeoutMs = resolveKeyringTimeout(options.timeoutMs);
    this.#settings = {
      keyringId: this.id,
      service: 'PKCS#11',
      timeoutMs,
      retry: resolveKeyringRetry(options.retry),
      audit: options.audit,
      actor: options.actor,
      classify: classifyPkcs11Error,
      describe: (code) => describePkcs11Failure(code, timeoutMs),
    };
    this.#token = new Pkcs11Token({
      module: options.module,
      tokenLabel: this.tokenLabel,
      pin: options.pin,
      keyLabel: this.keyLabel,
      sessions,
      pinTimeoutMs: timeoutMs,
    });
  }

  /**
   * Wraps a key with CKM_AES_GCM inside the token, binding `context` as associated data.
   * @throws InvalidArgumentError for an empty or oversized key or a non-string context value
   * @throws Pkcs11KeyringError when the token refuses or is unavailable
   */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintextKey) || plaintextKey.length === 0 || plaintextKey.length > MAX_PLAINTEXT_BYTES) {
      throw new InvalidArgumentError(
        `plaintextKey must be a Buffer of 1 to ${MAX_PLAINTEXT_BYTES} bytes`,
        'plaintextKey',
      );
    }
    return this.#wrap(plaintextKey, context, 'wrap');
  }

  /**
   * Generates a 256-bit key with `crypto.randomBytes` and wraps it in the token. (A token's
   * C_GenerateKey would make a key object that must then be extracted; the host's CSPRNG is
   * used instead, as `LocalKeyring` does.)
   * @throws Pkcs11KeyringError when the token refuses or is unavailable
   */
  async generateKey(context: EncryptionContext): Promise<GeneratedKey> {
    const plaintextKey = randomBytes(GENERATED_KEY_BYTES);
    try {
      return { plaintextKey, wrappedKey: await this.#wrap(plaintextKey, context, 'generate') };
    } catch (error) {
      plaintextKey.fill(0);
      throw error;
    }
  }

  /**
   * Unwraps with CKM_AES_GCM inside the token; the tag check covers the context.
   * @throws Pkcs11KeyringError when the bytes are malformed or tampered with, the context differs,
   *   or the token refuses or is unavailable
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    const aad = contextAad(context);
    const parsed = decodeWrappedGcm(wrappedKey);
    if (!parsed.ok) {
      throw new Pkcs11KeyringError(messages.malformedWrappedKey(this.id, parsed.reason), {
        keyringId: this.id,
        operation: 'unwrap',
        pkcs11Code: 'MalformedWrappedKey',
      });
    }
    const { iv, sealed } = parsed.value;
    const target: RemoteCallTarget = {
      operation: 'unwrap',
      remoteOperation: 'C_Decrypt',
      key: this.#keyName(),
      context,
    };
    const plaintext = await this.#call(target, (signal) =>
      this.#token.run(
        signal,
        (module, session, key) => decrypt(module, session, key, aesGcm(iv, aad), sealed, sealed.length),
        (late) => late.fill(0),
      ),
    );
    if (plaintext.length !== sealed.length - TAG_BYTES) {
      plaintext.fill(0);
      throw new Pkcs11KeyringError(messages.unexpectedOutput(this.id, 'C_Decrypt'), {
        keyringId: this.id,
        operation: 'unwrap',
        pkcs11Code: 'UnexpectedOutput',
      });
    }
    return plaintext;
  }

  /**
   * The key's token, label and attributes, e.g. for `hushfield doctor`; logs in if needed.
   * @throws Pkcs11KeyringError (operation `describe`) when the token, the PIN or the key is refused
   */
  async describeKey(): Promise<Pkcs11KeyDescription> {
    const target: RemoteCallTarget = {
      operation: 'describe',
      remoteOperation: 'C_GetAttributeValue',
      key: this.#keyName(),
    };
    const attributes = await this.#call(target, (signal) => this.#token.attributes(signal));
    return {
      tokenLabel: this.tokenLabel,
      keyLabel: this.keyLabel,
      valueLength: attributes.valueLength,
      sensitive: attributes.sensitive,
      extractable: attributes.extractable,
    };
  }

  /** Closes the sessions and, with a library path, finalises the module when no other keyring uses it. */
  close(): void {
    this.#token.close();
  }

  /** Prints identifiers only (never the PIN or any key). */
  [inspect.custom](): string {
    return `Pkcs11Keyring { id: ${JSON.stringify(this.id)} }`;
  }

  /** JSON form: identifiers only. */
  toJSON(): { id: string; tokenLabel: string; keyLabel: string } {
    return { id: this.id, tokenLabel: this.tokenLabel, keyLabel: this.keyLabel };
  }

  /**
   * One operation through core's retry loop. An attempt that timed out while the token waited
   * for the PIN function is that function's failure, final (`PinSourceTimeout`), not the
   * token's retryable `Timeout`: retrying would wait for it again.
   */
  async #call<T>(target: RemoteCallTarget, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let signal: AbortSignal | undefined;
    let last: KeyringFailure | undefined;
    const settings: RemoteKeyringSettings = {
      ...this.#settings,
      classify: (error, timedOut) =>
        (last =
          timedOut && signal !== undefined && this.#token.gaveUpOnPin(signal)
            ? { code: 'PinSourceTimeout', retryable: false }
            : classifyPkcs11Error(error, timedOut)),
    };
    try {
      return await callRemoteKeyring(settings, target, (attempt) => {
        signal = attempt;
        return send(attempt);
      });
    } catch (error) {
      if (!(error instanceof KeyringError) || last === undefined) throw error;
      throw new Pkcs11KeyringError(error.message, {
        keyringId: this.id,
        operation: target.operation,
        pkcs11Code: last.code as Pkcs11ErrorCode,
        retryable: error.retryable,
      });
    }
  }

  #keyName(): string {
    return `${this.tokenLabel}/${this.keyLabel}`;
  }

  async #wrap(plaintextKey: Buffer, context: EncryptionContext, operation: 'wrap' | 'generate'): Promise<Buffer> {
    const aad = contextAad(context);
    const iv = randomBytes(IV_BYTES);
    const target: RemoteCallTarget = { operation, remoteOperation: 'C_Encrypt', key: this.#keyName(), context };
    const sealed = await this.#call(target, (signal) =>
      this.#token.run(signal, (module, session, key) =>
        encrypt(module, session, key, aesGcm(iv, aad), plaintextKey, plaintextKey.length + TAG_BYTES),
      ),
    );
    if (sealed.length !== plaintextKey.length + TAG_BYTES) {
      throw new Pkcs11KeyringError(messages.unexpectedOutput(this.id, 'C_Encrypt'), {
        keyringId: this.id,
        operation,
        pkcs11Code: 'UnexpectedOutput',
      });
    }
    return encodeWrappedGcm(iv, sealed);
  }
}
