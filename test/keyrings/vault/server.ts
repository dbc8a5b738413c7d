/**
 * A loopback HTTP server that follows the Vault Transit secrets engine API as documented
 * (https://developer.hashicorp.com/vault/api-docs/secret/transit), with just enough of token
 * auth, AppRole and namespaces for `VaultTransitKeyring`. It is a test double, not Vault:
 * see README.md in this folder for what it follows and what it leaves out.
 *
 * Crypto is node:crypto AES-256-GCM; a derived key is HKDF-SHA256 of the key version's
 * material with the request's `context` as info (Vault's own derivation differs in detail;
 * what matters here is that another context yields another key).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A Transit key, per namespace and mount. */
interface TransitKey {
  readonly name: string;
  readonly derived: boolean;
  readonly versions: Buffer[]; // index 0 is version 1
  minDecryptionVersion: number;
  minEncryptionVersion: number;
}

interface Token {
  readonly namespace: string;
  /** Paths (relative to the namespace) with `update`/`read`; `*` for root. */
  readonly paths: ReadonlySet<string>;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  revoked: boolean;
}

interface AppRole {
  readonly secretId: string;
  readonly namespace: string;
  readonly paths: readonly string[];
  readonly ttlSeconds: number;
  readonly renewable: boolean;
}

/** A fault the next matching requests get instead of an answer. */
export type VaultFault =
  | { readonly status: 429 | 500 | 502 | 503 | 412; readonly errors?: readonly string[]; readonly retryAfter?: number }
  | { readonly hangMs: number }
  /** A redirect (as a standby that is not a performance standby answers) to `location`. */
  | { readonly redirect: 307 | 308; readonly location: string };

/** One request as the server saw it (no body values, which may hold plaintext keys). */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly namespace?: string;
  readonly hadToken: boolean;
  readonly bodyFields: readonly string[];
}

/** A running server. */
export interface VaultServer {
  /** `http://127.0.0.1:<port>`. */
  readonly address: string;
  /** A token allowed everything in the root namespace. */
  readonly rootToken: string;
  readonly requests: SeenRequest[];
  /** Every `context` / `associated_data` value received, in order (not secret). */
  readonly contexts: string[];
  /** Creates a Transit key (`POST <mount>/keys/<name>`). */
  createKey(name: string, options?: { derived?: boolean; namespace?: string; mount?: string }): void;
  /** Adds a key version (`POST <mount>/keys/<name>/rotate`). */
  rotateKey(name: string, options?: { namespace?: string; mount?: string }): number;
  /** Sets `min_decryption_version` / `min_encryption_version` (`POST <mount>/keys/<name>/config`). */
  configureKey(
    name: string,
    config: { minDecryptionVersion?: number; minEncryptionVersion?: number },
    options?: { namespace?: string; mount?: string },
  ): void;
  /** A token limited to `paths` (e.g. `transit/encrypt/hushfield`), like a least-privilege policy. */
  createToken(
    paths: readonly string[],
    options?: { namespace?: string; ttlSeconds?: number; renewable?: boolean },
  ): string;
  /** Revokes a token: later requests with it get 403. */
  revokeToken(token: string): void;
  /** Revokes every token issued so far except the root token. */
  revokeIssued(): void;
  /** An AppRole whose tokens are limited to `paths`. */
  createAppRole(
    roleId: string,
    secretId: string,
    paths: readonly string[],
    options?: { namespace?: string; ttlSeconds?: number; renewable?: boolean },
  ): void;
  /** Answers the next `count` requests (optionally only those whose path contains `pathIncludes`) with `fault`. */
  inject(fault: VaultFault, count: number, pathIncludes?: string): void;
  /** Seals or unseals: sealed, every request gets 503 `Vault is sealed`. */
  sealed: boolean;
  /** Requests whose path ends with `suffix`. */
  count(suffix: string): number;
  /** Clears faults, seal and request log. */
  reset(): void;
  stop(): Promise<void>;
}

const ROOT = '';
const DERIVED_REQUIRES_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.join('; '));
  }
}

const badRequest = (message: string) => new HttpError(400, [message]);
const denied = () => new HttpError(403, ['permission denied']);

function strictBase64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw badRequest(`missing ${what}`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw badRequest(`failed to base64-decode ${what}`);
  return bytes;
}

/** Starts the server on an ephemeral loopback port. */
export async function startVaultServer(): Promise<VaultServer> {
  const keys = new Map<string, TransitKey>();
  const tokens = new Map<string, Token>();
  const appRoles = new Map<string, AppRole>();
  const faults: Array<{ fault: VaultFault; left: number; pathIncludes?: string }> = [];
  const requests: SeenRequest[] = [];
  const contexts: string[] = [];
  const sockets = new Set<Socket>();
  const rootToken = `hvs.root-${randomUUID()}`;
  tokens.set(rootToken, { namespace: ROOT, paths: new Set(['*']), ttlSeconds: 0, renewable: false, revoked: false });

  const keyId = (namespace: string | undefined, mount: string | undefined, name: string) =>
    `${namespace ?? ROOT}|${mount ?? 'transit'}/${name}`;

  const issue = (namespace: string, paths: readonly string[], ttlSeconds: number, renewable: boolean): string => {
    const token = `hvs.${randomUUID()}`;
    tokens.set(token, { namespace, paths: new Set(paths), ttlSeconds, renewable, revoked: false });
    return token;
  };

  const authBody = (token: string, entry: Token) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: {
      client_token: token,
      accessor: randomUUID(),
      policies: ['hushfield'],
      lease_duration: entry.ttlSeconds,
      renewable: entry.renewable,
    },
  });

  const dataBody = (data: unknown) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  });

  function keyFor(key: TransitKey, version: number, context: Buffer | undefined): Buffer {
    const material = key.versions[version - 1];
    if (!key.derived) return material;
    if (context === undefined || context.length === 0) throw badRequest(DERIVED_REQUIRES_CONTEXT);
    return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), context, 32));
  }

  function encrypt(key: TransitKey, body: Record<string, unknown>): unknown {
    const plaintext = strictBase64(body.plaintext, 'plaintext');
    const context = body.context === undefined ? undefined : strictBase64(body.context, 'context');
    const aad = body.associated_data === undefined ? undefined : strictBase64(body.associated_data, 'associated_data');
    const latest = key.versions.length;
    let version = latest;
    if (body.key_version !== undefined && body.key_version !== 0) {
      if (!Number.isSafeInteger(body.key_version)) throw badRequest('invalid key_version');
      version = body.key_version as number;
      if (version > latest) throw badRequest('requested version for encryption is higher than the latest key version');
    }
    if (version < key.minEncryptionVersion)
      throw badRequest('requested version for encryption is less than the minimum encryption key version');
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyFor(key, version, context), nonce);
    if (aad !== undefined) cipher.setAAD(aad);
    const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { ciphertext: `vault:v${version}:${sealed.toString('base64')}`, key_version: version };
  }

  function decrypt(key: TransitKey, body: Record<string, unknown>): unknown {
    const text = body.ciphertext;
    if (typeof text !== 'string' || !text.startsWith('vault:')) throw badRequest('invalid ciphertext: no prefix');
    const fields = text.split(':');
    if (fields.length !== 3) throw badRequest('invalid ciphertext: wrong number of fields');
    const version = Number(fields[1].slice(1));
    if (!fields[1].startsWith('v') || !Number.isSafeInteger(version) || version < 1) {
      throw badRequest('invalid ciphertext: version number could not be decoded');
    }
    if (version < key.minDecryptionVersion)
      throw badRequest('ciphertext or signature version is disallowed by policy (too old)');
    if (version > key.versions.length) throw badRequest('invalid ciphertext: version is too new');
    const context = body.context === undefined ? undefined : strictBase64(body.context, 'context');
    const aad = body.associated_data === undefined ? undefined : strictBase64(body.associated_data, 'associated_data');
    const sealed = Buffer.from(fields[2], 'base64');
    if (sealed.length < 28) throw badRequest('invalid ciphertext: unable to decrypt');
    try {
      const decipher = createDecipheriv('aes-256-gcm', keyFor(key, version, context), sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      if (aad !== undefined) decipher.setAAD(aad);
      const plaintext = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
      return { plaintext: plaintext.toString('base64') };
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw badRequest('cipher: message authentication failed');
    }
  }

  function authorize(token: string | undefined, namespace: string, path: string): Token {
    const entry = token === undefined ? undefined : tokens.get(token);
    if (entry === undefined || entry.revoked || entry.namespace !== namespace) throw denied();
    if (!entry.paths.has('*') && !entry.paths.has(path)) throw denied();
    return entry;
  }

  function route(
    method: string,
    path: string,
    namespace: string,
    token: string | undefined,
    body: Record<string, unknown>,
  ): unknown {
    const approle = /^auth\/([^/]+)\/login$/.exec(path);
    if (method === 'POST' && approle !== null) {
      const role = appRoles.get(`${namespace}|${approle[1]}|${String(body.role_id)}`);
      if (role === undefined || role.secretId !== body.secret_id) throw badRequest('invalid role or secret ID');
      const issued = issue(namespace, role.paths, role.ttlSeconds, role.renewable);
      return authBody(issued, tokens.get(issued)!);
    }
    if (method === 'POST' && path === 'auth/token/renew-self') {
      const entry = token === undefined ? undefined : tokens.get(token);
      if (entry === undefined || entry.revoked || entry.namespace !== namespace) throw denied();
      if (!entry.renewable) throw badRequest('lease is not renewable');
      return authBody(token!, entry);
    }
    const transit = /^(.+)\/(encrypt|decrypt|keys)\/([^/]+)$/.exec(path);
    if (transit === null) throw new HttpError(404, [`no handler for route "${path}". route entry not found.`]);
    const [, mount, operation, name] = transit;
    authorize(token, namespace, path);
    const key = keys.get(keyId(namespace, mount, name));
    if (operation === 'keys' && method === 'GET') {
      if (key === undefined) throw new HttpError(404, []);
      return {
        name: key.name,
        type: 'aes256-gcm96',
        derived: key.derived,
        exportable: false,
        deletion_allowed: false,
        keys: Object.fromEntries(key.versions.map((_, i) => [String(i + 1), 1700000000 + i])),
        latest_version: key.versions.length,
        min_available_version: 0,
        min_decryption_version: key.minDecryptionVersion,
        min_encryption_version: key.minEncryptionVersion,
        supports_encryption: true,
        supports_decryption: true,
        supports_derivation: true,
        supports_signing: false,
      };
    }
    if (method !== 'POST' || operation === 'keys') throw new HttpError(405, ['unsupported operation']);
    if (body.context !== undefined) contexts.push(String(body.context));
    if (body.associated_data !== undefined) contexts.push(String(body.associated_data));
    if (key === undefined) {
      // Encrypt would upsert the key, which needs `create` (not in a least-privilege policy).
      if (operation === 'encrypt') throw denied();
      throw badRequest('encryption key not found');
    }
    return operation === 'encrypt' ? encrypt(key, body) : decrypt(key, body);
  }

  const send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const payload = Buffer.from(JSON.stringify(body));
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(payload.length),
      ...headers,
    });
    response.end(payload);
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://vault');
    const path = url.pathname.replace(/^\/v1\//, '');
    const namespace = (request.headers['x-vault-namespace'] as string | undefined)?.replace(/^\/+|\/+$/g, '') ?? ROOT;
    const token = request.headers['x-vault-token'] as string | undefined;
    let body: Record<string, unknown> = {};
    if (chunks.length > 0) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return send(response, 400, { errors: ['failed to parse JSON input'] });
      }
    }
    requests.push({
      method: request.method ?? '',
      path,
      ...(request.headers['x-vault-namespace'] !== undefined ? { namespace } : {}),
      hadToken: token !== undefined,
      bodyFields: Object.keys(body).sort(),
    });
    const fault = faults.find((f) => f.left > 0 && (f.pathIncludes === undefined || path.includes(f.pathIncludes)));
    if (fault !== undefined) {
      fault.left--;
      const injected = fault.fault;
      if ('hangMs' in injected) {
        await new Promise((resolve) => setTimeout(resolve, injected.hangMs).unref());
        if (response.destroyed || request.socket.destroyed) return;
      } else if ('redirect' in injected) {
        return send(response, injected.redirect, { errors: [] }, { location: injected.location });
      } else {
        const errors =
          injected.errors ??
          (injected.status === 503
            ? ['Vault is sealed']
            : injected.status === 429
              ? [`request path "${path}": rate limit quota exceeded`]
              : ['internal error']);
        return send(
          response,
          injected.status,
          { errors },
          injected.retryAfter !== undefined ? { 'retry-after': String(injected.retryAfter) } : {},
        );
      }
    }
    if (server.sealed) return send(response, 503, { errors: ['Vault is sealed'] });
    try {
      const result = route(request.method ?? 'GET', path, namespace, token, body);
      send(response, 200, path.startsWith('auth/') ? result : dataBody(result));
    } catch (error) {
      if (error instanceof HttpError) return send(response, error.status, { errors: error.errors });
      send(response, 500, { errors: ['internal error'] });
    }
  }

  const http = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 500, { errors: ['internal error'] }));
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const mustKey = (name: string, options: { namespace?: string; mount?: string } = {}) => {
    const key = keys.get(keyId(options.namespace, options.mount, name));
    if (key === undefined) throw new Error(`no Transit key ${name}`);
    return key;
  };

  const server: VaultServer = {
    address: `http://127.0.0.1:${port}`,
    rootToken,
    requests,
    contexts,
    sealed: false,
    createKey(name, options = {}) {
      keys.set(keyId(options.namespace, options.mount, name), {
        name,
        derived: options.derived ?? false,
        versions: [randomBytes(32)],
        minDecryptionVersion: 1,
        minEncryptionVersion: 0,
      });
    },
    rotateKey(name, options) {
      const key = mustKey(name, options);
      key.versions.push(randomBytes(32));
      return key.versions.length;
    },
    configureKey(name, config, options) {
      const key = mustKey(name, options);
      if (config.minDecryptionVersion !== undefined) key.minDecryptionVersion = config.minDecryptionVersion;
      if (config.minEncryptionVersion !== undefined) key.minEncryptionVersion = config.minEncryptionVersion;
    },
    createToken(paths, options = {}) {
      return issue(options.namespace ?? ROOT, paths, options.ttlSeconds ?? 3600, options.renewable ?? true);
    },
    revokeToken(token) {
      const entry = tokens.get(token);
      if (entry !== undefined) entry.revoked = true;
    },
    revokeIssued() {
      for (const [token, entry] of tokens) if (token !== rootToken) entry.revoked = true;
    },
    createAppRole(roleId, secretId, paths, options = {}) {
      appRoles.set(`${options.namespace ?? ROOT}|approle|${roleId}`, {
        secretId,
        namespace: options.namespace ?? ROOT,
        paths,
        ttlSeconds: options.ttlSeconds ?? 3600,
        renewable: options.renewable ?? true,
      });
    },
    inject(fault, count, pathIncludes) {
      faults.push({ fault, left: count, pathIncludes });
    },
    count(suffix) {
      return requests.filter((r) => r.path.endsWith(suffix)).length;
    },
    reset() {
      faults.length = 0;
      requests.length = 0;
      contexts.length = 0;
      server.sealed = false;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
