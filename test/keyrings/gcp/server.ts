/**
 * A loopback HTTP server that follows the Google Cloud KMS REST API for symmetric `encrypt` and
 * `decrypt` as documented (https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys/encrypt
 * and .../decrypt), so that the official `@google-cloud/kms` client, in its REST transport
 * (`fallback: true`), talks to it unchanged. It is a test double, not Cloud KMS: see README.md in
 * this folder for what it follows and what it leaves out.
 *
 * Crypto is node:crypto AES-256-GCM under a random key per CryptoKeyVersion. A ciphertext is
 * `version (u32 BE) ‖ nonce (12) ‖ sealed ‖ tag (16)`, authenticated with associated data
 * `version ‖ additionalAuthenticatedData`: another AAD, another key's version or a flipped bit
 * fails the tag check, as on the real service.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { crc32c } from '@node-rs/crc32';

/** CryptoKeyVersion states hushfield's tests use (the API has more). */
export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED' | 'DESTROY_SCHEDULED';

interface CryptoKeyVersion {
  readonly id: number;
  readonly material: Buffer;
  state: VersionState;
}

interface CryptoKey {
  readonly name: string;
  readonly versions: Map<number, CryptoKeyVersion>;
  primary: number;
  /** IAM permissions the (single, anonymous) caller holds on this key. */
  readonly permissions: Set<Permission>;
}

/** The two permissions of `roles/cloudkms.cryptoKeyEncrypterDecrypter`. */
export type Permission = 'cloudkms.cryptoKeyVersions.useToEncrypt' | 'cloudkms.cryptoKeyVersions.useToDecrypt';

/** Canonical error codes (google.rpc.Code) the server answers with, and their HTTP statuses. */
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

/** A google.rpc.Code name. */
export type RpcStatus = keyof typeof HTTP_STATUS;

/** A fault the next matching requests get instead of (or on top of) a normal answer. */
export type CloudKmsFault =
  | { readonly status: RpcStatus; readonly message?: string }
  | { readonly hangMs: number }
  | { readonly reset: true }
  /** Answers normally, then spoils one integrity field of the response (or the data it covers). */
  | {
      readonly corrupt:
        'ciphertextCrc32c' | 'plaintextCrc32c' | 'plaintext' | 'unverifiedPlaintext' | 'unverifiedAad' | 'versionName';
    };

/** One request as the server saw it (field names only: values may hold plaintext keys). */
export interface SeenRequest {
  readonly method: 'encrypt' | 'decrypt';
  /** The resource name in the URL. */
  readonly name: string;
  readonly fields: readonly string[];
  /** The additionalAuthenticatedData received, base64 (not secret). */
  readonly aad?: string;
}

/** A running fake. */
export interface CloudKmsFake {
  /** `{ apiEndpoint, port, protocol }` for the client's REST transport. */
  readonly apiEndpoint: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** Creates a CryptoKey (purpose ENCRYPT_DECRYPT) with version 1 enabled and primary; all permissions granted. */
  createKey(name: string): void;
  /** Adds a version (`cryptoKeyVersions.create`); `primary: true` also makes it the primary (rotation). */
  addVersion(name: string, options?: { primary?: boolean }): number;
  /** Sets the version encrypt uses (`updatePrimaryVersion`). */
  setPrimary(name: string, version: number): void;
  /** Disables, enables or destroys a version. */
  setVersionState(name: string, version: number, state: VersionState): void;
  /** Removes an IAM permission of the caller on a key (a role without it). */
  revoke(name: string, permission: Permission): void;
  /** Answers the next `count` requests (of `method` only, when given) with `fault`. */
  inject(fault: CloudKmsFault, count: number, method?: 'encrypt' | 'decrypt'): void;
  /** Requests of `method`. */
  count(method: 'encrypt' | 'decrypt'): number;
  /** Serves one call in proto3 JSON form (for other transports' fronts, e.g. grpc-front.ts). */
  serve(
    method: 'encrypt' | 'decrypt',
    name: string,
    body: Record<string, unknown>,
    gone: () => boolean,
  ): Promise<Outcome>;
  /** Clears faults and the request log (keys stay). */
  reset(): void;
  stop(): Promise<void>;
}

/** What one call comes to: an answer (proto3 JSON), a canonical error, or a dropped connection. */
export type Outcome =
  { readonly answer: Record<string, unknown> } | { readonly error: RpcError } | { readonly drop: true };

/** A canonical error the fake answers with. */
export class RpcError extends Error {
  constructor(
    readonly status: RpcStatus,
    message: string,
  ) {
    super(message);
  }
}

const MAX_PLAINTEXT_BYTES = 64 * 1024;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** proto3 JSON bytes: standard or URL-safe base64. Anything else is INVALID_ARGUMENT. */
function bytesField(body: Record<string, unknown>, field: string, required: boolean): Buffer | undefined {
  const value = body[field];
  if (value === undefined || value === '') {
    if (required) throw new RpcError('INVALID_ARGUMENT', `${field} is required.`);
    return undefined;
  }
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
    throw new RpcError('INVALID_ARGUMENT', `Invalid value at '${field}' (TYPE_BYTES), Base64 decoding failed`);
  }
  return Buffer.from(value, 'base64');
}

/** proto3 JSON Int64Value: a decimal string (or number). */
function int64Field(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  if (!/^\d{1,20}$/.test(text)) throw new RpcError('INVALID_ARGUMENT', `Invalid value at '${field}' (TYPE_INT64)`);
  return Number(text);
}

function checkCrc(data: Buffer | undefined, crc: number | undefined, dataField: string, crcField: string): boolean {
  if (crc === undefined) return false;
  if (crc32c(data ?? Buffer.alloc(0)) !== crc) {
    throw new RpcError(
      'INVALID_ARGUMENT',
      `The checksum in field ${crcField} did not match the data in field ${dataField}.`,
    );
  }
  return true;
}

function seal(version: CryptoKeyVersion, plaintext: Buffer, aad: Buffer | undefined): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(version.id);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', version.material, nonce);
  cipher.setAAD(Buffer.concat([header, aad ?? Buffer.alloc(0)]));
  return Buffer.concat([header, nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

const INVALID_CIPHERTEXT = 'Decryption failed: the ciphertext is invalid.';

/** Starts the fake on an ephemeral loopback port. */
export async function startCloudKmsFake(): Promise<CloudKmsFake> {
  const keys = new Map<string, CryptoKey>();
  const faults: Array<{ fault: CloudKmsFault; left: number; method?: 'encrypt' | 'decrypt' }> = [];
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  /** Pending hangs, ended by stop(). */
  const hangs = new Set<() => void>();

  const keyOf = (name: string): CryptoKey => {
    const key = keys.get(name);
    if (key === undefined) throw new Error(`no CryptoKey ${name}`);
    return key;
  };
  const versionName = (key: CryptoKey, id: number) => `${key.name}/cryptoKeyVersions/${id}`;
  const newVersion = (key: CryptoKey): number => {
    const id = key.versions.size + 1;
    key.versions.set(id, { id, material: randomBytes(32), state: 'ENABLED' });
    return id;
  };

  /** Resolves a CryptoKey or CryptoKeyVersion name, checking the caller's permission on the key. */
  function resolve(name: string, permission: Permission): { key: CryptoKey; version?: CryptoKeyVersion } {
    const at = name.indexOf('/cryptoKeyVersions/');
    const keyName = at < 0 ? name : name.slice(0, at);
    const key = keys.get(keyName);
    if (key === undefined || !key.permissions.has(permission)) {
      // Cloud KMS does not tell a missing key from a forbidden one without cryptoKeys.get.
      throw new RpcError(
        'PERMISSION_DENIED',
        `Permission '${permission}' denied on resource '${name}' (or it may not exist).`,
      );
    }
    if (at < 0) return { key };
    const version = key.versions.get(Number(name.slice(at + '/cryptoKeyVersions/'.length)));
    if (version === undefined) throw new RpcError('NOT_FOUND', `${name} not found.`);
    return { key, version };
  }

  function usable(key: CryptoKey, version: CryptoKeyVersion): void {
    if (version.state !== 'ENABLED') {
      throw new RpcError(
        'FAILED_PRECONDITION',
        `${versionName(key, version.id)} is not enabled, current state is: ${version.state}.`,
      );
    }
  }

  function encrypt(name: string, body: Record<string, unknown>): Record<string, unknown> {
    const { key, version: named } = resolve(name, 'cloudkms.cryptoKeyVersions.useToEncrypt');
    const plaintext = bytesField(body, 'plaintext', true)!;
    if (plaintext.length > MAX_PLAINTEXT_BYTES) {
      throw new RpcError('INVALID_ARGUMENT', 'The plaintext exceeds the maximum size of 65536 bytes.');
    }
    const aad = bytesField(body, 'additionalAuthenticatedData', false);
    const verifiedPlaintext = checkCrc(plaintext, int64Field(body, 'plaintextCrc32c'), 'plaintext', 'plaintext_crc32c');
    const verifiedAad = checkCrc(
      aad,
      int64Field(body, 'additionalAuthenticatedDataCrc32c'),
      'additional_authenticated_data',
      'additional_authenticated_data_crc32c',
    );
    const version = named ?? key.versions.get(key.primary)!;
    usable(key, version);
    const ciphertext = seal(version, plaintext, aad);
    return {
      name: versionName(key, version.id),
      ciphertext: ciphertext.toString('base64'),
      ciphertextCrc32c: String(crc32c(ciphertext)),
      verifiedPlaintextCrc32c: verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAad,
      protectionLevel: 1, // SOFTWARE, as a number: the client asks for enum-encoding=int
    };
  }

  function decrypt(name: string, body: Record<string, unknown>): Record<string, unknown> {
    const { key, version: named } = resolve(name, 'cloudkms.cryptoKeyVersions.useToDecrypt');
    if (named !== undefined) throw new RpcError('INVALID_ARGUMENT', 'Decrypt takes a CryptoKey, not a version.');
    const ciphertext = bytesField(body, 'ciphertext', true)!;
    const aad = bytesField(body, 'additionalAuthenticatedData', false);
    checkCrc(ciphertext, int64Field(body, 'ciphertextCrc32c'), 'ciphertext', 'ciphertext_crc32c');
    checkCrc(
      aad,
      int64Field(body, 'additionalAuthenticatedDataCrc32c'),
      'additional_authenticated_data',
      'additional_authenticated_data_crc32c',
    );
    if (ciphertext.length < 4 + NONCE_BYTES + TAG_BYTES) throw new RpcError('INVALID_ARGUMENT', INVALID_CIPHERTEXT);
    const version = key.versions.get(ciphertext.readUInt32BE(0));
    if (version === undefined) throw new RpcError('INVALID_ARGUMENT', INVALID_CIPHERTEXT);
    usable(key, version);
    const nonce = ciphertext.subarray(4, 4 + NONCE_BYTES);
    const tag = ciphertext.subarray(ciphertext.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', version.material, nonce);
    decipher.setAAD(Buffer.concat([ciphertext.subarray(0, 4), aad ?? Buffer.alloc(0)]));
    decipher.setAuthTag(tag);
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(ciphertext.subarray(4 + NONCE_BYTES, ciphertext.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new RpcError('INVALID_ARGUMENT', INVALID_CIPHERTEXT);
    }
    return {
      plaintext: plaintext.toString('base64'),
      plaintextCrc32c: String(crc32c(plaintext)),
      usedPrimary: version.id === key.primary,
      protectionLevel: 1,
    };
  }

  function spoil(answer: Record<string, unknown>, fault: CloudKmsFault & { corrupt: string }): void {
    switch (fault.corrupt) {
      case 'ciphertextCrc32c':
      case 'plaintextCrc32c':
        if (fault.corrupt in answer) answer[fault.corrupt] = String((Number(answer[fault.corrupt]) + 1) % 2 ** 32);
        break;
      case 'plaintext':
      case 'unverifiedPlaintext':
      case 'unverifiedAad':
      case 'versionName':
        if (fault.corrupt === 'plaintext' && typeof answer.plaintext === 'string') {
          const bytes = Buffer.from(answer.plaintext, 'base64');
          bytes[0] ^= 1; // bit flip after the checksum was computed
          answer.plaintext = bytes.toString('base64');
        }
        if (fault.corrupt === 'unverifiedPlaintext' && 'verifiedPlaintextCrc32c' in answer)
          answer.verifiedPlaintextCrc32c = false;
        if (fault.corrupt === 'unverifiedAad' && 'verifiedAdditionalAuthenticatedDataCrc32c' in answer)
          answer.verifiedAdditionalAuthenticatedDataCrc32c = false;
        if (fault.corrupt === 'versionName' && typeof answer.name === 'string')
          answer.name = 'projects/elsewhere/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
        break;
    }
  }

  function takeFault(method: 'encrypt' | 'decrypt'): CloudKmsFault | undefined {
    const index = faults.findIndex((f) => f.left > 0 && (f.method === undefined || f.method === method));
    if (index < 0) return undefined;
    const entry = faults[index];
    entry.left--;
    if (entry.left === 0) faults.splice(index, 1);
    return entry.fault;
  }

  function send(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    response.end(text);
  }

  function sendError(response: ServerResponse, error: RpcError): void {
    const code = HTTP_STATUS[error.status];
    send(response, code, { error: { code, message: error.message, status: error.status } });
  }

  /**
   * One call in proto3 JSON form, whatever the transport: logged, delayed, faulted, answered.
   * `gone()` says whether the caller hung up while a hang fault held the call.
   */
  async function serve(
    method: 'encrypt' | 'decrypt',
    name: string,
    body: Record<string, unknown>,
    gone: () => boolean,
  ): Promise<Outcome> {
    const aad = body.additionalAuthenticatedData;
    requests.push({
      method,
      name,
      fields: Object.keys(body).sort(),
      ...(typeof aad === 'string' ? { aad } : {}),
    });
    const fault = takeFault(method);
    if (fault !== undefined && 'hangMs' in fault) {
      await new Promise<void>((resolve) => {
        const end = () => {
          clearTimeout(timer);
          hangs.delete(end);
          resolve();
        };
        const timer = setTimeout(end, fault.hangMs);
        hangs.add(end);
      });
      if (gone()) return { drop: true };
    }
    if (fault !== undefined && 'reset' in fault) return { drop: true };
    if (fault !== undefined && 'status' in fault) {
      return { error: new RpcError(fault.status, fault.message ?? `injected ${fault.status}`) };
    }
    try {
      const answer = method === 'encrypt' ? encrypt(name, body) : decrypt(name, body);
      if (fault !== undefined && 'corrupt' in fault) spoil(answer, fault);
      return { answer };
    } catch (error) {
      return { error: error instanceof RpcError ? error : new RpcError('INTERNAL', 'Internal error.') };
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/v1\/(projects\/[^:]+):(encrypt|decrypt)$/.exec(decodeURIComponent(url.pathname));
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || match === null) {
      send(response, 404, { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } });
      return;
    }
    const [, name, method] = match as unknown as [string, string, 'encrypt' | 'decrypt'];
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      sendError(response, new RpcError('INVALID_ARGUMENT', 'Invalid JSON payload received.'));
      return;
    }
    const outcome = await serve(method, name, body, () => response.destroyed || request.socket.destroyed);
    if ('drop' in outcome) request.socket.destroy();
    else if ('error' in outcome) sendError(response, outcome.error);
    else send(response, 200, outcome.answer);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: CloudKmsFake = {
    apiEndpoint: '127.0.0.1',
    port,
    requests,
    serve,
    createKey(name) {
      if (!/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.test(name)) {
        throw new Error(`not a CryptoKey name: ${name}`);
      }
      const key: CryptoKey = {
        name,
        versions: new Map(),
        primary: 1,
        permissions: new Set(['cloudkms.cryptoKeyVersions.useToEncrypt', 'cloudkms.cryptoKeyVersions.useToDecrypt']),
      };
      newVersion(key);
      keys.set(name, key);
    },
    addVersion(name, options = {}) {
      const key = keyOf(name);
      const id = newVersion(key);
      if (options.primary === true) key.primary = id;
      return id;
    },
    setPrimary(name, version) {
      const key = keyOf(name);
      if (!key.versions.has(version)) throw new Error(`no version ${version}`);
      key.primary = version;
    },
    setVersionState(name, version, state) {
      const entry = keyOf(name).versions.get(version);
      if (entry === undefined) throw new Error(`no version ${version}`);
      entry.state = state;
      if (state === 'DESTROYED') entry.material.fill(0);
    },
    revoke(name, permission) {
      keyOf(name).permissions.delete(permission);
    },
    inject(fault, count, method) {
      faults.push({ fault, left: count, method });
    },
    count(method) {
      return requests.filter((r) => r.method === method).length;
    },
    reset() {
      faults.length = 0;
      requests.length = 0;
    },
    async stop() {
      for (const end of [...hangs]) end();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
