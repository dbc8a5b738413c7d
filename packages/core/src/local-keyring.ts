/**
 * `LocalKeyring`: a root key held in this process. FOR DEVELOPMENT AND TESTS ONLY: the root key
 * sits in an environment variable or a file next to the data it protects, so anyone who can
 * read both reads everything. Production uses a KMS keyring (`@hushfield/kms-aws`).
 *
 * Wrapped key layout (61 bytes for a 32-byte key):
 * `0x01 ‖ nonce (12) ‖ AES-256-GCM ciphertext (32) ‖ tag (16)`, with associated data
 * `lp("hushfield/local-keyring/v1") ‖ u32(pair count) ‖ (lp(name) ‖ lp(value))*` over the
 * encryption context sorted by name, so a wrapped key presented with any other context fails.
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { KEY_BYTES, openPacked, sealPacked } from './aead';
import { isCanonicalBase64 } from './base64url';
import { ConfigError, KeyringError } from './errors';
import type { EncryptionContext, GeneratedKey, Keyring } from './keyring';
import { encodeEncryptionContext } from './canonical-context';
import { messages } from './messages';
import { checkOptionsObject, needs, needsBytes } from './preconditions';

const WRAP_VERSION = 0x01;
const DOMAIN = 'hushfield/local-keyring/v1';

/**
 * Canonical bytes of an encryption context under this keyring's domain label (see
 * {@link encodeEncryptionContext}).
 * @throws InvalidArgumentError when a value is not a string
 */
export function serializeContext(context: EncryptionContext): Buffer {
  return encodeEncryptionContext(DOMAIN, context);
}

/** `0x01 ‖ nonce ‖ AES-256-GCM(rootKey, key) ‖ tag`, associated data {@link serializeContext}. */
function wrapUnder(rootKey: Buffer, plaintextKey: Buffer, context: EncryptionContext, nonce?: Buffer): Buffer {
  needsBytes(plaintextKey, KEY_BYTES, 'plaintextKey');
  const packed = sealPacked(rootKey, plaintextKey, serializeContext(context), nonce);
  return Buffer.concat([Buffer.of(WRAP_VERSION), packed]);
}

/** Decodes a base64 256-bit key, refusing anything else. */
function decodeRootKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!isCanonicalBase64(trimmed)) throw new ConfigError(messages.keyEncoding(source));
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    key.fill(0);
    throw new ConfigError(messages.keyEncoding(source));
  }
  return key;
}

/**
 * A keyring whose root key is a local 256-bit key. Development and tests only (see the module
 * comment). Prints as `LocalKeyring { id: 'local:…' }`; the key is never shown.
 * @example
 * const keyring = LocalKeyring.fromEnv(); // HUSHFIELD_LOCAL_KEY=<base64 of 32 random bytes>
 */
export class LocalKeyring implements Keyring {
  /** `local:` and 8 hex digits of a domain-separated SHA-256 fingerprint of the root key. */
  readonly id: string;
  readonly #rootKey: Buffer;

  /**
   * @param rootKey - 32 bytes; copied, so the caller may zero its buffer
   * @param options.id - overrides the fingerprint-derived id
   * @throws InvalidArgumentError when `rootKey` is not a 32-byte Buffer, `options` is not an object
   *   or `options.id` not a non-empty string
   */
  constructor(rootKey: Buffer, options: { id?: string } = {}) {
    needsBytes(rootKey, KEY_BYTES, 'rootKey');
    checkOptionsObject(options, 'LocalKeyring');
    needs(
      options.id === undefined || (typeof options.id === 'string' && options.id.length > 0),
      'options.id',
      'must be a non-empty string',
    );
    this.#rootKey = Buffer.from(rootKey);
    const fingerprint = createHash('sha256')
      .update(DOMAIN + '/id')
      .update(rootKey)
      .digest('hex');
    this.id = options.id ?? `local:${fingerprint.slice(0, 8)}`;
  }

  /**
   * Reads a base64 root key from an environment variable.
   * @throws ConfigError when the variable is unset or not a base64 256-bit key
   * @throws InvalidArgumentError when `variable` is not a non-empty string
   */
  static fromEnv(variable = 'HUSHFIELD_LOCAL_KEY'): LocalKeyring {
    needs(typeof variable === 'string' && variable.length > 0, 'variable', 'must be a non-empty string');
    const text = process.env[variable];
    if (text === undefined || text === '') throw new ConfigError(messages.envMissing(variable));
    return LocalKeyring.#fromEncoded(text, `environment variable ${variable}`);
  }

  /**
   * Reads a base64 root key from a file (as written by {@link LocalKeyring.generateKeyFile}).
   * @throws ConfigError when the file is unreadable or does not hold a base64 256-bit key
   */
  static fromFile(path: string): LocalKeyring {
    needs(typeof path === 'string' && path.length > 0, 'path', 'must be a non-empty string');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(messages.keyFileRead(path), { cause: error });
    }
    return LocalKeyring.#fromEncoded(text, `key file ${path}`);
  }

  /** A keyring from base64 text; the decoded copy is zeroed once the keyring holds its own. */
  static #fromEncoded(text: string, source: string): LocalKeyring {
    const key = decodeRootKey(text, source);
    try {
      return new LocalKeyring(key);
    } finally {
      key.fill(0);
    }
  }

  /**
   * Writes a fresh random base64 root key to `path` with mode 0600.
   * @throws ConfigError when the file already exists (it is never overwritten)
   */
  static generateKeyFile(path: string): void {
    needs(typeof path === 'string' && path.length > 0, 'path', 'must be a non-empty string');
    const key = randomBytes(KEY_BYTES);
    try {
      writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError(messages.keyFileExists(path));
      throw new ConfigError(messages.keyFileWrite(path), { cause: error });
    } finally {
      key.fill(0);
    }
  }

  /** Wraps a 32-byte key under the root key, binding `context`. */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    return wrapUnder(this.#rootKey, plaintextKey, context);
  }

  /**
   * @internal Test hook: wraps like {@link LocalKeyring.wrapKey} with a fixed nonce, for the
   * published format vectors. Never in production: a nonce reused under the root key breaks GCM.
   */
  unsafeWrapKeyWithNonce(plaintextKey: Buffer, context: EncryptionContext, nonce: Buffer): Buffer {
    return wrapUnder(this.#rootKey, plaintextKey, context, nonce);
  }

  /**
   * Unwraps a key wrapped by this root key with the same `context`.
   * @throws KeyringError when the bytes were tampered with, wrapped under another root key, or
   *   presented with another context
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    needs(Buffer.isBuffer(wrappedKey), 'wrappedKey', 'must be a Buffer');
    const aad = serializeContext(context);
    const key =
      wrappedKey.length === 1 + 12 + KEY_BYTES + 16 && wrappedKey[0] === WRAP_VERSION
        ? openPacked(this.#rootKey, wrappedKey.subarray(1), aad)
        : null;
    if (key === null)
      throw new KeyringError(messages.keyringContext(this.id), { keyringId: this.id, operation: 'unwrap' });
    return key;
  }

  /** Generates a random 256-bit key and returns it with its wrapped form. */
  async generateKey(context: EncryptionContext): Promise<GeneratedKey> {
    const plaintextKey = randomBytes(KEY_BYTES);
    return { plaintextKey, wrappedKey: await this.wrapKey(plaintextKey, context) };
  }

  /** Prints the id only. */
  toJSON(): { id: string } {
    return { id: this.id };
  }

  /** Prints the id only. */
  [inspect.custom](): string {
    return `LocalKeyring { id: '${this.id}' }`;
  }
}
