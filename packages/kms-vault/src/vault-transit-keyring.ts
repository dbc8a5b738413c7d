/**
 * The Vault (and OpenBao) Transit keyring: scope and index keys are wrapped with Transit
 * `encrypt` and unwrapped with `decrypt`; the root key never leaves Vault. The encryption
 * context from core is bound on every call: as the derivation `context` of a derived Transit
 * key (default), or as `associated_data` of an AEAD key (Vault 1.13+/OpenBao), both the
 * base64 of `encodeContext` (see `context-encoding.ts`).
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  checkOptionsObject,
  checkAuditOptions,
  InvalidArgumentError,
  type ActorContext,
  type AuditSink,
  type EncryptionContext,
  type Keyring,
} from '@hushfield/core';
import { contextParameter } from './context-encoding';
import { messages } from './messages';
import { resolveRetryOptions, type RetryOptions } from './retry';
import { checkMount, createTokenSource, type VaultAuthOptions } from './vault-auth';
import {
  auditRefusal,
  callVault,
  unexpectedResponse,
  type TokenSource,
  type VaultCallSettings,
  type VaultRequest,
} from './vault-call';
import { VaultKeyringError } from './vault-error';
import { ciphertextVersion, decodeWrappedKey, encodeWrappedKey, MAX_KEY_NAME_BYTES } from './wrapped-key-format';

/** Options of {@link VaultTransitKeyring}. */
export interface VaultTransitKeyringOptions {
  /** Vault's address, e.g. `https://vault.example.com:8200`. `http:` only for loopback addresses unless {@link VaultTransitKeyringOptions.allowInsecureHttp}. */
  readonly address: string;
  /** The Transit key's name. */
  readonly keyName: string;
  /** Where the Transit engine is mounted. Default `transit`. */
  readonly mount?: string;
  /** Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace` on every request. */
  readonly namespace?: string;
  /** Token or AppRole authentication. */
  readonly auth: VaultAuthOptions;
  /**
   * How the encryption context is bound:
   * - `'derived'` (default): sent as `context`; the Transit key must be created with
   *   `derived=true` (Vault then refuses calls without it). A non-derived key would ignore
   *   `context`: the first call checks, and fails with `vaultCode: 'KeyNotDerived'` on one.
   * - `'associated-data'`: sent as `associated_data` (AES-GCM / ChaCha20 keys, Vault 1.13+, OpenBao).
   */
  readonly contextBinding?: 'derived' | 'associated-data';
  /**
   * Migration only, default `false`. With the `derived` binding on a Transit key created without
   * `derived=true`, keys wrapped by releases before the first-use check were bound to nothing
   * (Vault ignored the context), and the check now refuses them (`KeyNotDerived`). `true` lets
   * {@link VaultTransitKeyring.unwrapKey} open them as they are, so that `hushfield keys rewrap
   * --to-keyring` can move them to a keyring on a derived key; `wrapKey` stays refused.
   */
  readonly unwrapUnboundKeys?: boolean;
  /**
   * Pins the key version new keys are wrapped under (`key_version` on `encrypt`). Default: the
   * latest. Unwrapping always uses the version recorded in each ciphertext.
   */
  readonly keyVersion?: number;
  /** Per-attempt timeout in milliseconds (`AbortSignal.timeout`). Default 5,000. */
  readonly timeoutMs?: number;
  /**
   * Retry policy for sealed/standby/throttled/5xx/network/timeout failures (default 4 attempts,
   * 50 ms base, 2 s cap).
   */
  readonly retry?: RetryOptions;
  /** Receives one event per keyring operation (latency, attempts, outcome). */
  readonly audit?: AuditSink;
  /** The caller's actor context, added to audit events. */
  readonly actor?: () => ActorContext | undefined;
  /** Overrides the keyring id (default `vault-transit:[<namespace>/]<mount>/<keyName>`). Keep it stable. */
  readonly id?: string;
  /** Allows a plain `http:` address that is not loopback (the token would cross the network in clear). */
  readonly allowInsecureHttp?: boolean;
  /** The `fetch` to use. Default: Node's global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Clock for token lease bookkeeping (tests). Default `Date.now`. */
  readonly now?: () => number;
}

/** What {@link VaultTransitKeyring.describeKey} reports (`GET <mount>/keys/<name>`). No secret. */
export interface VaultTransitKeyDescription {
  readonly name: string;
  /** `aes256-gcm96`, `chacha20-poly1305`, ... */
  readonly type: string;
  readonly derived: boolean;
  readonly latestVersion: number;
  readonly minDecryptionVersion: number;
  readonly minEncryptionVersion: number;
  readonly supportsEncryption: boolean;
  readonly supportsDecryption: boolean;
}

const MAX_PLAINTEXT_BYTES = 4096;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function checkAddress(address: unknown, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(String(address));
  } catch {
    throw new InvalidArgumentError('address must be an http(s) URL', 'address');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidArgumentError('address must be an http(s) URL', 'address');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new InvalidArgumentError('address must not hold credentials, a query or a fragment', 'address');
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new InvalidArgumentError(
      'address must use https (or set allowInsecureHttp for a trusted network)',
      'address',
    );
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function checkKeyName(value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    Buffer.byteLength(value) > MAX_KEY_NAME_BYTES ||
    /[/?#%\s]/.test(value) ||
    value === '.' ||
    value === '..'
  ) {
    throw new InvalidArgumentError(
      'keyName must be a Transit key name (no slashes, spaces or query characters)',
      'keyName',
    );
  }
  return value;
}

function positiveInteger(value: unknown, max: number, argument: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new InvalidArgumentError(`${argument} must be an integer from 1 to ${max}`, argument);
  }
}

/** Decodes a base64 plaintext Vault returned into a Buffer this package owns. */
function decodePlaintext(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 2 * MAX_PLAINTEXT_BYTES) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Refuse non-canonical base64 (Buffer.from skips junk characters silently).
  if (bytes.toString('base64') !== text) {
    bytes.fill(0);
    return undefined;
  }
  return bytes;
}

/**
 * A {@link Keyring} backed by a Vault or OpenBao Transit key.
 *
 * @example
 * ```ts
 * const keyring = new VaultTransitKeyring({
 *   address: 'https://vault.example.com:8200',
 *   keyName: 'hushfield',
 *   auth: {
 *     appRole: {
 *       roleId: process.env.VAULT_ROLE_ID!,
 *       secretId: () => readFile('/run/secrets/vault-secret-id', 'utf8'),
 *     },
 *   },
 * });
 * ```
 */
export class VaultTransitKeyring implements Keyring {
  /** `vault-transit:[<namespace>/]<mount>/<keyName>` unless configured. */
  readonly id: string;
  /** The Transit key name. */
  readonly keyName: string;
  /** The Transit mount. */
  readonly mount: string;
  /** The namespace, if any. */
  readonly namespace?: string;
  readonly #settings: VaultCallSettings;
  readonly #tokens: TokenSource;
  readonly #binding: 'derived' | 'associated-data';
  readonly #unwrapUnbound: boolean;
  readonly #keyVersion?: number;
  /** The first-use check that a `derived` binding is backed by a derived key (see `#checkDerived`). */
  #derivation: Promise<void> | undefined;

  /** @throws InvalidArgumentError naming the bad option */
  constructor(options: VaultTransitKeyringOptions) {
    checkOptionsObject(options, 'VaultTransitKeyring', true);
    checkAuditOptions(options);
    const address = checkAddress(options.address, options.allowInsecureHttp === true);
    this.keyName = checkKeyName(options.keyName);
    this.mount = checkMount(options.mount ?? 'transit', 'mount');
    if (options.namespace !== undefined) this.namespace = checkMount(options.namespace, 'namespace');
    const binding = options.contextBinding ?? 'derived';
    if (binding !== 'derived' && binding !== 'associated-data') {
      throw new InvalidArgumentError("contextBinding must be 'derived' or 'associated-data'", 'contextBinding');
    }
    this.#binding = binding;
    if (options.unwrapUnboundKeys !== undefined && typeof options.unwrapUnboundKeys !== 'boolean') {
      throw new InvalidArgumentError('unwrapUnboundKeys must be a boolean', 'unwrapUnboundKeys');
    }
    this.#unwrapUnbound = options.unwrapUnboundKeys === true;
    if (options.keyVersion !== undefined) positiveInteger(options.keyVersion, 2 ** 31 - 1, 'keyVersion');
    this.#keyVersion = options.keyVersion;
    const timeoutMs = options.timeoutMs ?? 5_000;
    positiveInteger(timeoutMs, 300_000, 'timeoutMs');
    if (options.id !== undefined && (typeof options.id !== 'string' || options.id.length === 0)) {
      throw new InvalidArgumentError('id must be a non-empty string', 'id');
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function')
      throw new InvalidArgumentError('fetch must be a function (Node 20 has a global fetch)', 'fetch');
    this.id =
      options.id ??
      `vault-transit:${this.namespace !== undefined ? `${this.namespace}/` : ''}${this.mount}/${this.keyName}`;
    this.#settings = {
      keyringId: this.id,
      address,
      namespace: this.namespace,
      timeoutMs,
      retry: resolveRetryOptions(options.retry),
      fetch: fetchImpl,
      audit: options.audit,
      actor: options.actor,
    };
    this.#tokens = createTokenSource(options.auth, this.#settings, options.now ?? Date.now);
  }

  /**
   * Wraps a key with Transit `encrypt`, binding `context` (and pinning `keyVersion` if set).
   * @throws InvalidArgumentError for an empty or oversized key or a non-string context value
   * @throws VaultKeyringError when Vault refuses or cannot be reached; `KeyNotDerived` when the
   *   binding is `derived` and the Transit key is not
   */
  async wrapKey(plaintextKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintextKey) || plaintextKey.length === 0 || plaintextKey.length > MAX_PLAINTEXT_BYTES) {
      throw new InvalidArgumentError(
        `plaintextKey must be a Buffer of 1 to ${MAX_PLAINTEXT_BYTES} bytes`,
        'plaintextKey',
      );
    }
    const bound = contextParameter(context);
    await this.#checkDerived('wrap', context);
    const request = this.#request('wrap', 'encrypt', context, () =>
      this.#body(
        {
          plaintext: plaintextKey.toString('base64'),
          ...(this.#keyVersion !== undefined ? { key_version: this.#keyVersion } : {}),
        },
        bound,
      ),
    );
    const data = (await callVault(this.#settings, request)).data as
      { ciphertext?: unknown; key_version?: unknown } | undefined;
    const ciphertext = data?.ciphertext;
    const version = typeof ciphertext === 'string' ? ciphertextVersion(ciphertext) : undefined;
    if (typeof ciphertext !== 'string' || version === undefined)
      throw unexpectedResponse(this.#settings, request, 'no vault:v<N>: ciphertext');
    if (this.#keyVersion !== undefined && version !== this.#keyVersion) {
      throw unexpectedResponse(
        this.#settings,
        request,
        `the ciphertext is version ${version}, not the pinned ${this.#keyVersion}`,
      );
    }
    try {
      return encodeWrappedKey(this.keyName, ciphertext);
    } catch {
      throw unexpectedResponse(this.#settings, request, 'the ciphertext exceeds the stored format');
    }
  }

  /**
   * Unwraps with Transit `decrypt`, passing the same `context`.
   * @throws VaultKeyringError (`vaultCode`): `MalformedWrappedKey` or `WrongKey` before any call;
   *   `InvalidCiphertext` when tampered or presented with another context; `KeyVersionRetired`
   *   below `min_decryption_version`; `KeyNotDerived` when the binding is `derived` and the
   *   Transit key is not; retryable codes when Vault is sealed, throttled or unreachable
   */
  async unwrapKey(wrappedKey: Buffer, context: EncryptionContext): Promise<Buffer> {
    const bound = contextParameter(context);
    const parsed = decodeWrappedKey(wrappedKey);
    if (!parsed.ok) {
      throw new VaultKeyringError(messages.malformedWrappedKey(this.id, parsed.reason), {
        keyringId: this.id,
        operation: 'unwrap',
        vaultCode: 'MalformedWrappedKey',
      });
    }
    if (parsed.value.keyName !== this.keyName) {
      throw new VaultKeyringError(messages.wrongKey(this.id, parsed.value.keyName), {
        keyringId: this.id,
        operation: 'unwrap',
        vaultCode: 'WrongKey',
      });
    }
    await this.#checkDerived('unwrap', context, parsed.value.ciphertext);
    const request = this.#request('unwrap', 'decrypt', context, () =>
      this.#body({ ciphertext: parsed.value.ciphertext }, bound),
    );
    const data = (await callVault(this.#settings, request)).data as { plaintext?: unknown } | undefined;
    const plaintextKey = decodePlaintext(data?.plaintext);
    if (plaintextKey === undefined) throw unexpectedResponse(this.#settings, request, 'no base64 plaintext');
    return plaintextKey;
  }

  /**
   * Reads the Transit key's configuration (`GET <mount>/keys/<name>`, needs `read` on that
   * path), e.g. for `hushfield doctor` or to check that the key is `derived`.
   * @throws VaultKeyringError (operation `describe`) when Vault refuses or cannot be reached
   */
  async describeKey(): Promise<VaultTransitKeyDescription> {
    const request: VaultRequest = {
      operation: 'describe',
      method: 'GET',
      path: `${this.mount}/keys/${this.keyName}`,
      auth: this.#tokens,
    };
    const data = (await callVault(this.#settings, request)).data as Record<string, unknown> | undefined;
    const latest = data?.latest_version;
    if (data === undefined || typeof latest !== 'number')
      throw unexpectedResponse(this.#settings, request, 'no latest_version');
    return {
      name: typeof data.name === 'string' ? data.name : this.keyName,
      type: typeof data.type === 'string' ? data.type : 'unknown',
      derived: data.derived === true,
      latestVersion: latest,
      minDecryptionVersion: typeof data.min_decryption_version === 'number' ? data.min_decryption_version : 1,
      minEncryptionVersion: typeof data.min_encryption_version === 'number' ? data.min_encryption_version : 0,
      supportsEncryption: data.supports_encryption !== false,
      supportsDecryption: data.supports_decryption !== false,
    };
  }

  /** Prints identifiers only (never the token, secret id or any key). */
  [inspect.custom](): string {
    return `VaultTransitKeyring { id: ${JSON.stringify(this.id)} }`;
  }

  /** JSON form: identifiers only. */
  toJSON(): { id: string; keyName: string; mount: string; namespace?: string } {
    return {
      id: this.id,
      keyName: this.keyName,
      mount: this.mount,
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
    };
  }

  #request(
    operation: 'wrap' | 'unwrap',
    endpoint: 'encrypt' | 'decrypt',
    context: EncryptionContext,
    body: () => Buffer,
  ): VaultRequest {
    return {
      operation,
      method: 'POST',
      path: `${this.mount}/${endpoint}/${this.keyName}`,
      body,
      auth: this.#tokens,
      audit: { context, vaultKey: this.keyName },
    };
  }

  /**
   * With the `derived` binding, checks once (per keyring) that the Transit key is derived: a
   * key that is not ignores `context`, and every wrapped key would be bound to nothing. The
   * check is the same call without a context, which a derived key refuses (`ContextRequired`)
   * whatever the caller's policy lets it read: `encrypt` of a throwaway key before the first
   * wrap, `decrypt` of the stored ciphertext before the first unwrap (whatever it returns is
   * zeroed). A key that answers (or, for `decrypt`, tries and fails to authenticate) is refused
   * for good (`KeyNotDerived`: derivation is fixed when a key is created); any other failure is
   * thrown as the call's own, and the check runs again.
   * A passed check is no audit event of its own (Vault's audit device sees it); a failed one is
   * the call's failure event.
   */
  #checkDerived(operation: 'wrap' | 'unwrap', context: EncryptionContext, ciphertext?: string): Promise<void> {
    if (this.#binding !== 'derived') return Promise.resolve();
    // Opening keys wrapped unbound before the check existed, to move them (unwrapUnboundKeys).
    if (operation === 'unwrap' && this.#unwrapUnbound) return Promise.resolve();
    const check = (this.#derivation ??= this.#probeDerived(operation, context, ciphertext));
    check.catch((error: unknown) => {
      const verdict = error instanceof VaultKeyringError && error.vaultCode === 'KeyNotDerived';
      if (!verdict && this.#derivation === check) this.#derivation = undefined;
    });
    return check;
  }

  async #probeDerived(
    operation: 'wrap' | 'unwrap',
    context: EncryptionContext,
    ciphertext: string | undefined,
  ): Promise<void> {
    const started = performance.now();
    const throwaway = randomBytes(32);
    const request: VaultRequest = {
      audit: { context, vaultKey: this.keyName },
      check: { expected: ['ContextRequired', 'InvalidCiphertext'] },
      operation,
      method: 'POST',
      path: `${this.mount}/${ciphertext === undefined ? 'encrypt' : 'decrypt'}/${this.keyName}`,
      body: () =>
        Buffer.from(
          JSON.stringify(ciphertext === undefined ? { plaintext: throwaway.toString('base64') } : { ciphertext }),
          'utf8',
        ),
      auth: this.#tokens,
    };
    try {
      const answer = await callVault(this.#settings, request);
      const plaintext = (answer.data as { plaintext?: unknown } | undefined)?.plaintext;
      if (typeof plaintext === 'string') decodePlaintext(plaintext)?.fill(0);
    } catch (error) {
      if (!(error instanceof VaultKeyringError)) throw error;
      if (error.vaultCode === 'ContextRequired') return;
      // A derived key refuses a call without a context before it tries to decrypt: one that
      // tried (and failed, as for a key wrapped with associated data) is not derived either.
      if (error.vaultCode !== 'InvalidCiphertext' || ciphertext === undefined) throw error;
    } finally {
      throwaway.fill(0);
    }
    auditRefusal(this.#settings, request, 'KeyNotDerived', performance.now() - started);
    throw new VaultKeyringError(messages.keyNotDerived(this.id, this.keyName), {
      keyringId: this.id,
      operation,
      vaultCode: 'KeyNotDerived',
    });
  }

  #body(fields: Record<string, unknown>, bound: string): Buffer {
    const binding = this.#binding === 'derived' ? { context: bound } : { associated_data: bound };
    return Buffer.from(JSON.stringify({ ...fields, ...binding }), 'utf8');
  }
}
