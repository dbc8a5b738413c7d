/**
 * Where the `X-Vault-Token` comes from.
 *
 * - **Token**: a string, or a function returning one (e.g. reading a Vault Agent sink file);
 *   after a 403 the function is called again once, a plain string is final.
 * - **AppRole**: `auth/<mount>/login` with `role_id` and `secret_id` on first use. The token is
 *   renewed (`auth/token/renew-self`) once two thirds of its lease have passed, and replaced by
 *   a fresh login when renewal fails, the token is not renewable, it expired, or Vault answers
 *   403. Concurrent callers share one login or renewal.
 *
 * Tokens and secret ids never appear in errors, audit events, `inspect` or JSON.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { callVault, type KeyringOperation, type TokenSource, type VaultCallSettings } from './vault-call';
import { SecretSourceTimeout, VaultKeyringError } from './vault-error';
import { messages } from './messages';

/** A secret given directly or by a (possibly async) function, called when it is needed. */
export type SecretSource = string | (() => string | Promise<string>);

/** Token authentication. */
export interface VaultTokenAuth {
  /** The Vault token, or a function returning the current one. */
  readonly token: SecretSource;
}

/** AppRole authentication. */
export interface VaultAppRoleAuth {
  readonly appRole: {
    readonly roleId: string;
    readonly secretId: SecretSource;
    /** Where the AppRole auth method is mounted. Default `approle`. */
    readonly mount?: string;
  };
}

/** How the keyring authenticates to Vault. */
export type VaultAuthOptions = VaultTokenAuth | VaultAppRoleAuth;

/** The secret `source` gives: a function's answer within `timeoutMs`. */
async function resolveSecret(source: SecretSource, timeoutMs: number): Promise<string> {
  if (typeof source !== 'function') return source;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SecretSourceTimeout(timeoutMs)), timeoutMs).unref();
  });
  try {
    return await Promise.race([Promise.resolve(source()), late]);
  } finally {
    clearTimeout(timer);
  }
}

function needsSecret(value: unknown, argument: string): void {
  if (!(typeof value === 'function' || (typeof value === 'string' && value.length > 0))) {
    throw new InvalidArgumentError(`${argument} must be a non-empty string or a function returning one`, argument);
  }
}

/** A path segment for a mount name: no empty segments, no `..`, no query characters. */
export function checkMount(value: unknown, argument: string): string {
  const text = typeof value === 'string' ? value.replace(/^\/+|\/+$/g, '') : '';
  const segments = text.split('/');
  if (
    text.length === 0 ||
    text.length > 255 ||
    segments.some((s) => s === '' || s === '.' || s === '..' || /[?#%\s]/.test(s))
  ) {
    throw new InvalidArgumentError(`${argument} must be a Vault mount path`, argument);
  }
  return text;
}

/** Token source for {@link VaultTokenAuth}. */
class StaticToken implements TokenSource {
  #current: Promise<string> | undefined;
  constructor(
    private readonly source: SecretSource,
    private readonly timeoutMs: number,
  ) {}

  token(): Promise<string> {
    this.#current ??= resolveSecret(this.source, this.timeoutMs).then((token) => {
      if (typeof token !== 'string' || token.length === 0)
        throw new InvalidArgumentError('auth.token returned no token', 'auth.token');
      return token;
    });
    this.#current.catch(() => {
      this.#current = undefined;
    });
    return this.#current;
  }

  invalidate(): boolean {
    if (typeof this.source !== 'function') return false;
    this.#current = undefined;
    return true;
  }
}

interface Lease {
  readonly token: string;
  readonly renewAt: number;
  readonly expiresAt: number;
  readonly renewable: boolean;
}

/** Token source for {@link VaultAppRoleAuth}: login, renew-self, re-login. */
class AppRoleToken implements TokenSource {
  #lease: Lease | undefined;
  #pending: Promise<Lease> | undefined;
  readonly #mount: string;

  constructor(
    private readonly options: VaultAppRoleAuth['appRole'],
    private readonly settings: VaultCallSettings,
    private readonly now: () => number,
  ) {
    this.#mount = checkMount(options.mount ?? 'approle', 'auth.appRole.mount');
  }

  async token(operation: KeyringOperation): Promise<string> {
    const lease = this.#lease;
    const now = this.now();
    if (lease !== undefined && now < lease.renewAt) return lease.token;
    this.#pending ??= this.#refresh(lease, now, operation).finally(() => {
      this.#pending = undefined;
    });
    return (await this.#pending).token;
  }

  invalidate(token: string): boolean {
    if (this.#lease?.token === token) this.#lease = undefined;
    return true;
  }

  async #refresh(lease: Lease | undefined, now: number, operation: KeyringOperation): Promise<Lease> {
    if (lease !== undefined && lease.renewable && now < lease.expiresAt) {
      try {
        this.#lease = await this.#call(operation, 'auth/token/renew-self', () => Buffer.from('{}'), lease.token);
        return this.#lease;
      } catch {
        // An expired or revoked token cannot be renewed: log in again.
      }
    }
    const secretId = await resolveSecret(this.options.secretId, this.settings.timeoutMs);
    this.#lease = await this.#call(operation, `auth/${this.#mount}/login`, () =>
      Buffer.from(JSON.stringify({ role_id: this.options.roleId, secret_id: secretId })),
    );
    return this.#lease;
  }

  async #call(operation: KeyringOperation, path: string, body: () => Buffer, token?: string): Promise<Lease> {
    const started = this.now();
    const auth: TokenSource | undefined =
      token === undefined ? undefined : { token: async () => token, invalidate: () => false };
    let response: Record<string, unknown>;
    try {
      response = await callVault(this.settings, { operation, method: 'POST', path, body, auth });
    } catch (error) {
      if (error instanceof VaultKeyringError && !error.retryable) {
        throw new VaultKeyringError(error.message, {
          keyringId: this.settings.keyringId,
          operation,
          vaultCode: 'AuthFailed',
          httpStatus: error.httpStatus,
        });
      }
      throw error;
    }
    const result = response.auth as
      { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } | undefined;
    const clientToken = result?.client_token;
    const seconds = result?.lease_duration;
    if (typeof clientToken !== 'string' || clientToken.length === 0 || typeof seconds !== 'number' || !(seconds >= 0)) {
      throw new VaultKeyringError(messages.unexpectedResponse(path, 'no client token or lease duration'), {
        keyringId: this.settings.keyringId,
        operation,
        vaultCode: 'AuthFailed',
      });
    }
    // A lease of 0 never expires (root-like tokens).
    const expiresAt = seconds === 0 ? Number.POSITIVE_INFINITY : started + seconds * 1000;
    const renewAt = seconds === 0 ? Number.POSITIVE_INFINITY : started + (seconds * 1000 * 2) / 3;
    return { token: clientToken, renewAt, expiresAt, renewable: result?.renewable === true };
  }
}

/**
 * The token source for `auth`.
 * @throws InvalidArgumentError naming the bad setting
 */
export function createTokenSource(auth: VaultAuthOptions, settings: VaultCallSettings, now: () => number): TokenSource {
  if (auth !== null && typeof auth === 'object' && 'appRole' in auth) {
    const appRole = auth.appRole;
    if (typeof appRole?.roleId !== 'string' || appRole.roleId.length === 0) {
      throw new InvalidArgumentError('auth.appRole.roleId must be a non-empty string', 'auth.appRole.roleId');
    }
    needsSecret(appRole.secretId, 'auth.appRole.secretId');
    return new AppRoleToken(appRole, settings, now);
  }
  if (auth !== null && typeof auth === 'object' && 'token' in auth) {
    needsSecret(auth.token, 'auth.token');
    return new StaticToken(auth.token, settings.timeoutMs);
  }
  throw new InvalidArgumentError('auth must be { token } or { appRole: { roleId, secretId } }', 'auth');
}
