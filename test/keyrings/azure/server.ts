/**
 * A loopback HTTPS server that follows the Azure Key Vault keys REST API as documented (key
 * get, wrapkey, unwrapkey; challenge-based bearer auth; `{"error":{...}}` errors), for
 * `@hushfield/kms-azure` tested through the official `@azure/keyvault-keys` SDK. It is a test
 * double, not Key Vault: see README.md in this folder for what it follows and leaves out.
 *
 * Crypto is node:crypto: RSA-OAEP with SHA-256 (`RSA-OAEP-256`) on RSA keys, AES key wrap
 * (`id-aes256-wrap`, RFC 3394, for `A256KW`) on `oct-HSM` keys. The certificate is made by
 * `openssl req -x509` at start; clients trust it through an agent (see {@link AzureFake.agent}).
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type AgentOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LookupFunction, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { AzureKeyVaultKeyringOptions } from '@hushfield/kms-azure';

/** Key types the fake holds: RSA (Key Vault) and oct-HSM (Managed HSM). */
export type FakeKeyType = 'RSA' | 'oct-HSM';

/** Operations a token may be allowed (Key Vault data-plane permissions). */
export type FakePermission = 'get' | 'wrapKey' | 'unwrapKey';

interface KeyVersion {
  readonly version: string;
  readonly rsa?: { readonly publicKey: KeyObject; readonly privateKey: KeyObject };
  readonly aes?: Buffer;
  enabled: boolean;
  /** `exp` attribute, Unix seconds. */
  expires?: number;
}

interface FakeKey {
  readonly type: FakeKeyType;
  readonly versions: KeyVersion[]; // the last is the current version
}

/** A fault the next matching requests get instead of an answer. */
export type AzureFault =
  | { readonly status: 401 | 403 | 429 | 500 | 503; readonly retryAfter?: number }
  | { readonly hangMs: number }
  | { readonly reset: true };

/** One request as the server saw it (no body values: they may hold keys). */
export interface SeenRequest {
  readonly method: string;
  /** The path without the query, e.g. `/keys/hushfield/0a1b.../wrapkey`. */
  readonly path: string;
  readonly apiVersion: string | null;
  readonly hadToken: boolean;
  readonly alg?: string;
  readonly status: number;
}

/** A running fake. */
export interface AzureFake {
  /** `https://hushfield.<kind>.localhost:<port>`. */
  readonly vaultUrl: string;
  /** The challenge's `resource` (`https://vault.localhost` or `https://managedhsm.localhost`). */
  readonly resource: string;
  /** The server's self-signed certificate (PEM), to trust. */
  readonly certificate: string;
  readonly requests: SeenRequest[];
  /** Tokens handed out by {@link AzureFake.credential} so far. */
  readonly tokensIssued: number;
  /**
   * An https agent that trusts only this fake's certificate and resolves only `*.localhost`
   * names, to 127.0.0.1 (the vault's name must end with the challenge resource's host).
   */
  agent(options?: AgentOptions): Agent;
  /**
   * Options of an `AzureKeyVaultKeyring` on this fake: its URL, the key `hushfield`, the
   * algorithm of its kind (`A256KW` on a Managed HSM, `RSA-OAEP-256` on a vault), a credential
   * with `permissions`, and an agent trusting the fake; `overrides` last.
   */
  keyringOptions(
    overrides?: Partial<AzureKeyVaultKeyringOptions> & { readonly permissions?: readonly FakePermission[] },
  ): AzureKeyVaultKeyringOptions;
  /** A TokenCredential whose tokens carry `permissions` (default: wrapKey and unwrapKey). */
  credential(permissions?: readonly FakePermission[]): TokenCredential & { readonly calls: string[][] };
  /** Creates a key with one version; returns that version. */
  createKey(name: string, type: FakeKeyType): string;
  /** Adds a version, which becomes the current one; returns it. */
  rotateKey(name: string): string;
  /** Enables or disables a version. */
  setEnabled(name: string, version: string, enabled: boolean): void;
  /** Sets a version's `exp` attribute (Unix seconds), as `az keyvault key set-attributes --expires` does. */
  setExpires(name: string, version: string, expires: number): void;
  /** The versions of a key, oldest first. */
  versions(name: string): string[];
  /** Refuses every token issued so far (as after a revoked role assignment): 401. */
  revokeTokens(): void;
  /** Answers the next `count` requests (those whose path contains `pathIncludes`) with `fault`. */
  inject(fault: AzureFault, count: number, pathIncludes?: string): void;
  /** Requests whose path ends with `suffix` and that carried a token. */
  count(suffix: string): number;
  /** Clears faults and the request log. */
  reset(): void;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly inner?: string,
  ) {
    super(message);
  }
}

const IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
/** Key Vault's API versions: `7.0` ... `7.6`, then dated (`2025-07-01`), optionally `-preview`. */
const API_VERSION = /^(7\.\d|\d{4}-\d{2}-\d{2})(-preview(\.\d+)?)?$/;

function makeCertificate(hosts: readonly string[]): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-azure-fake-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-sha256',
        '-days',
        '1',
        '-subj',
        '/CN=hushfield-azure-fake',
        '-addext',
        `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (!hostname.endsWith('.localhost')) {
    const error = Object.assign(new Error(`not a test host: ${hostname}`), { code: 'ENOTFOUND' });
    (callback as (e: Error) => void)(error);
    return;
  }
  if ((options as { all?: boolean }).all) {
    (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
      { address: '127.0.0.1', family: 4 },
    ]);
  } else callback(null, '127.0.0.1', 4);
};

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > 64 * 1024) throw new HttpError(413, 'BadParameter', 'request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function base64url(value: unknown): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HttpError(400, 'BadParameter', 'Property value is required');
  }
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value.replace(/=+$/, '')) {
    throw new HttpError(400, 'BadParameter', 'value is not base64url');
  }
  return bytes;
}

/** Starts the fake on an ephemeral loopback port. */
export async function startAzureFake(
  options: { kind?: 'vault' | 'managedhsm'; resource?: string } = {},
): Promise<AzureFake> {
  const kind = options.kind ?? 'vault';
  const host = `hushfield.${kind}.localhost`;
  const resource = options.resource ?? `https://${kind}.localhost`;
  const { key: tlsKey, cert } = makeCertificate([host]);
  const keys = new Map<string, FakeKey>();
  const tokens = new Map<string, ReadonlySet<FakePermission>>();
  const faults: Array<{ fault: AzureFault; left: number; pathIncludes?: string }> = [];
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let issued = 0;
  let vaultUrl = '';

  const newVersion = (type: FakeKeyType): KeyVersion => {
    const version = randomBytes(16).toString('hex');
    if (type === 'RSA') return { version, rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }), enabled: true };
    return { version, aes: randomBytes(32), enabled: true };
  };
  const keyOf = (name: string): FakeKey => {
    const key = keys.get(name);
    if (!key) throw new HttpError(404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault.`);
    return key;
  };
  const versionOf = (key: FakeKey, name: string, version: string): KeyVersion => {
    const found = version === '' ? key.versions.at(-1) : key.versions.find((v) => v.version === version);
    if (!found) {
      throw new HttpError(
        404,
        'KeyNotFound',
        `A key with (name/id) ${name}/${version} was not found in this key vault.`,
      );
    }
    return found;
  };
  const kid = (name: string, version: string) => `${vaultUrl}/keys/${name}/${version}`;

  const bundle = (name: string, key: FakeKey, version: KeyVersion) => {
    const jwk: Record<string, unknown> = {
      kid: kid(name, version.version),
      kty: key.type,
      key_ops: ['wrapKey', 'unwrapKey'],
    };
    if (version.rsa) {
      const { n, e } = version.rsa.publicKey.export({ format: 'jwk' });
      Object.assign(jwk, { n, e });
    }
    const attributes = { enabled: version.enabled, created: 1_700_000_000, recoveryLevel: 'Recoverable' };
    return {
      key: jwk,
      attributes: version.expires === undefined ? attributes : { ...attributes, exp: version.expires },
    };
  };

  const wrap = (key: FakeKey, version: KeyVersion, alg: unknown, value: Buffer): Buffer => {
    if (key.type === 'RSA' && alg === 'RSA-OAEP-256') {
      return publicEncrypt(
        { key: version.rsa!.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        value,
      );
    }
    if (key.type === 'oct-HSM' && alg === 'A256KW') {
      if (value.length < 16 || value.length % 8 !== 0) throw new HttpError(400, 'BadParameter', 'Invalid key length');
      const cipher = createCipheriv('id-aes256-wrap', version.aes!, IV);
      return Buffer.concat([cipher.update(value), cipher.final()]);
    }
    throw new HttpError(400, 'BadParameter', `Algorithm ${String(alg)} is not supported for key type ${key.type}`);
  };

  const unwrap = (key: FakeKey, version: KeyVersion, alg: unknown, value: Buffer): Buffer => {
    try {
      if (key.type === 'RSA' && alg === 'RSA-OAEP-256') {
        return privateDecrypt(
          { key: version.rsa!.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          value,
        );
      }
      if (key.type === 'oct-HSM' && alg === 'A256KW') {
        const decipher = createDecipheriv('id-aes256-wrap', version.aes!, IV);
        return Buffer.concat([decipher.update(value), decipher.final()]);
      }
    } catch {
      throw new HttpError(400, 'BadParameter', 'The parameter is incorrect.');
    }
    throw new HttpError(400, 'BadParameter', `Algorithm ${String(alg)} is not supported for key type ${key.type}`);
  };

  const authorize = (request: IncomingMessage, permission: FakePermission) => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const granted = token === undefined ? undefined : tokens.get(token);
    if (granted === undefined) {
      throw new HttpError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
    }
    if (!granted.has(permission)) {
      throw new HttpError(
        403,
        'Forbidden',
        `The user, group or application does not have keys ${permission} permission on key vault.`,
        'ForbiddenByPolicy',
      );
    }
  };

  async function handle(request: IncomingMessage, url: URL): Promise<{ status: number; body: unknown; alg?: string }> {
    if (!API_VERSION.test(url.searchParams.get('api-version') ?? '')) {
      throw new HttpError(400, 'BadParameter', 'The api-version query parameter is missing or unsupported.');
    }
    const parts = url.pathname.split('/').filter((part) => part !== '');
    if (parts[0] !== 'keys' || parts.length < 2 || parts.length > 4) throw new HttpError(404, 'NotFound', 'Not found');
    const name = decodeURIComponent(parts[1]);
    const last = parts.at(-1)!;
    const operation = last === 'wrapkey' || last === 'unwrapkey' ? last : undefined;
    const version = decodeURIComponent((operation ? parts.slice(2, -1) : parts.slice(2))[0] ?? '');
    const body = await readBody(request);
    if (request.method === 'GET' && operation === undefined) {
      authorize(request, 'get');
      const key = keyOf(name);
      return { status: 200, body: bundle(name, key, versionOf(key, name, version)) };
    }
    if (request.method !== 'POST' || operation === undefined) {
      throw new HttpError(405, 'BadParameter', 'Method not allowed');
    }
    authorize(request, operation === 'wrapkey' ? 'wrapKey' : 'unwrapKey');
    let parsed: { alg?: unknown; value?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as { alg?: unknown; value?: unknown };
    } catch {
      throw new HttpError(400, 'BadParameter', 'The request body is not JSON.');
    }
    const alg = typeof parsed.alg === 'string' ? parsed.alg : undefined;
    const key = keyOf(name);
    const keyVersion = versionOf(key, name, version);
    const value = base64url(parsed.value);
    if (operation === 'unwrapkey' && !keyVersion.enabled) {
      throw new HttpError(403, 'Forbidden', 'Operation unwrapKey is not allowed on a disabled key.', 'KeyDisabled');
    }
    const result = operation === 'wrapkey' ? wrap(key, keyVersion, alg, value) : unwrap(key, keyVersion, alg, value);
    value.fill(0);
    const answer = { kid: kid(name, keyVersion.version), value: result.toString('base64url') };
    result.fill(0);
    return { status: 200, body: answer, alg };
  }

  function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-ms-keyvault-service-version': '1.9.0.0',
      ...headers,
    });
    response.end(text);
  }

  // Every 401 carries the challenge, as Key Vault's do.
  const challenge = {
    'www-authenticate': `Bearer authorization="https://login.localhost/00000000-0000-0000-0000-00000000f00d", resource="${resource}"`,
  };

  const server = createServer({ key: tlsKey, cert }, (request, response) => {
    const url = new URL(request.url ?? '/', `https://${host}`);
    const record = (status: number, alg?: string) =>
      requests.push({
        method: request.method ?? '',
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        hadToken: request.headers.authorization !== undefined,
        ...(alg !== undefined ? { alg } : {}),
        status,
      });
    // Challenge first, as Key Vault does: a request without a token learns the authority and resource.
    if (request.headers.authorization === undefined) {
      request.resume();
      record(401);
      send(
        response,
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        challenge,
      );
      return;
    }
    const fault = faults.find(
      (f) => f.left > 0 && (f.pathIncludes === undefined || url.pathname.includes(f.pathIncludes)),
    );
    if (fault) {
      fault.left--;
      request.resume();
      const f = fault.fault;
      if ('hangMs' in f) {
        record(0);
        const timer = setTimeout(
          () => send(response, 503, { error: { code: 'ServiceUnavailable', message: 'late' } }),
          f.hangMs,
        );
        response.on('close', () => clearTimeout(timer));
        return;
      }
      if ('reset' in f) {
        record(0);
        request.socket.destroy();
        return;
      }
      record(f.status);
      const code = {
        401: 'Unauthorized',
        403: 'Forbidden',
        429: 'Throttled',
        500: 'InternalServerError',
        503: 'ServiceUnavailable',
      }[f.status];
      send(
        response,
        f.status,
        { error: { code, message: `injected ${code}` } },
        {
          ...(f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}),
          ...(f.status === 401 ? challenge : {}),
        },
      );
      return;
    }
    handle(request, url).then(
      ({ status, body, alg }) => {
        record(status, alg);
        send(response, status, body);
      },
      (error: unknown) => {
        const e = error instanceof HttpError ? error : new HttpError(500, 'InternalServerError', 'fake failed');
        record(e.status);
        send(
          response,
          e.status,
          { error: { code: e.code, message: e.message, ...(e.inner ? { innererror: { code: e.inner } } : {}) } },
          e.status === 401 ? challenge : {},
        );
      },
    );
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  vaultUrl = `https://${host}:${port}`;

  return {
    vaultUrl,
    resource,
    certificate: cert,
    requests,
    get tokensIssued() {
      return issued;
    },
    agent: (agentOptions = {}) => new Agent({ ca: cert, lookup: loopbackLookup, ...agentOptions }),
    keyringOptions(this: AzureFake, { permissions, ...overrides } = {}) {
      return {
        vaultUrl,
        keyName: 'hushfield',
        algorithm: kind === 'managedhsm' ? 'A256KW' : 'RSA-OAEP-256',
        credential: this.credential(permissions),
        clientOptions: { agent: this.agent() },
        ...overrides,
      };
    },
    credential(permissions = ['wrapKey', 'unwrapKey']) {
      const calls: string[][] = [];
      const granted = new Set(permissions);
      return {
        calls,
        async getToken(scopes: string | string[]): Promise<AccessToken> {
          const list = typeof scopes === 'string' ? [scopes] : scopes;
          calls.push([...list]);
          if (list.length !== 1 || list[0] !== `${resource}/.default`) throw new Error('unexpected scope');
          const token = `fake-${randomBytes(16).toString('hex')}`;
          tokens.set(token, granted);
          issued++;
          return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      };
    },
    createKey(name, type) {
      const version = newVersion(type);
      keys.set(name, { type, versions: [version] });
      return version.version;
    },
    rotateKey(name) {
      const key = keys.get(name)!;
      const version = newVersion(key.type);
      key.versions.push(version);
      return version.version;
    },
    setEnabled(name, version, enabled) {
      keys.get(name)!.versions.find((v) => v.version === version)!.enabled = enabled;
    },
    setExpires(name, version, expires) {
      keys.get(name)!.versions.find((v) => v.version === version)!.expires = expires;
    },
    versions: (name) => keys.get(name)!.versions.map((v) => v.version),
    revokeTokens: () => tokens.clear(),
    inject(fault, count, pathIncludes) {
      faults.push({ fault, left: count, pathIncludes });
    },
    count: (suffix) => requests.filter((r) => r.hadToken && r.path.endsWith(suffix)).length,
    reset() {
      faults.length = 0;
      requests.length = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
