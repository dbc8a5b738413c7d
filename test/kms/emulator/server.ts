/**
 * A loopback HTTP server speaking the AWS KMS JSON 1.1 protocol (`X-Amz-Target:
 * TrentService.<Operation>`, `Content-Type: application/x-amz-json-1.1`), so the real
 * `@aws-sdk/client-kms` can be pointed at it with `endpoint` and dummy credentials.
 * Signatures are not verified. See README.md in this folder.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { KeyVault, KmsFault } from './key-vault';
import { KmsCallCounter, KmsFaults } from './faults';
import { isKmsOperation, runOperation } from './operations';

/** Options of {@link startKmsEmulator}. */
export interface KmsEmulatorOptions {
  /** Region in ARNs and the one clients should use. Default `us-east-1`. */
  readonly region?: string;
  /** Account in ARNs. Default `111122223333`. */
  readonly accountId?: string;
}

/** A running emulator. */
export interface KmsEmulator {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to the KMS client. */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Dummy credentials for the KMS client (never checked). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Fault injection: latency, throttling, resets, outage. */
  readonly faults: KmsFaults;
  /** Requests received per operation. */
  readonly calls: KmsCallCounter;
  /** The emulated keys and aliases (for assertions and {@link KmsEmulator.replicateKey}). */
  readonly vault: KeyVault;
  /**
   * Makes the multi-Region key `keyId` (an `mrk-` id) usable in `target` too, sharing its
   * material and rotations, as `ReplicateKey` does in AWS.
   */
  replicateKey(keyId: string, target: KmsEmulator): void;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';
const MAX_BODY_BYTES = 1024 * 1024;

function send(response: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  response.writeHead(status, {
    'content-type': JSON_11,
    'content-length': payload.length,
    'x-amzn-requestid': randomUUID(),
  });
  response.end(payload);
}

function sendFault(response: ServerResponse, fault: { type: string; message: string; status: number }): void {
  response.setHeader('x-amzn-errortype', fault.type);
  send(response, fault.status, { __type: fault.type, message: fault.message });
}

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Injected latency; unref'd so a slow answer still pending never holds the test process open. */
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Starts an emulator on 127.0.0.1 and a random free port. */
export async function startKmsEmulator(options: KmsEmulatorOptions = {}): Promise<KmsEmulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '111122223333';
  const vault = new KeyVault(region, accountId);
  const calls = new KmsCallCounter();
  const sockets = new Set<Socket>();

  const destroySockets = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    const body = await readBody(request);
    calls.record(operation || '(unknown)');
    const fault = faults.take(operation);
    if (faults.latencyMs > 0) await delay(faults.latencyMs);
    if (fault?.kind === 'reset') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'error') return sendFault(response, fault);
    if (request.method !== 'POST' || !isKmsOperation(operation)) {
      return sendFault(response, { type: 'UnknownOperationException', message: '', status: 400 });
    }
    if (!String(request.headers['content-type'] ?? '').startsWith(JSON_11)) {
      return sendFault(response, { type: 'SerializationException', message: 'Unexpected content type', status: 400 });
    }
    if (body === null)
      return sendFault(response, { type: 'ValidationException', message: 'Request too large', status: 413 });
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return sendFault(response, { type: 'SerializationException', message: 'Malformed JSON', status: 400 });
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return sendFault(response, { type: 'SerializationException', message: 'Expected a JSON object', status: 400 });
    }
    try {
      send(response, 200, runOperation(vault, operation, input as Record<string, unknown>));
    } catch (error) {
      if (error instanceof KmsFault) return sendFault(response, error);
      sendFault(response, { type: 'KMSInternalException', message: 'Internal error', status: 500 });
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      destroySockets();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const faults = new KmsFaults({ down: close, up: () => listen(port) });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    accountId,
    credentials: { accessKeyId: 'hushfield-emulator', secretAccessKey: 'hushfield-emulator' },
    faults,
    calls,
    vault,
    replicateKey(keyId, target) {
      const key = vault.resolve(keyId);
      if (!key.multiRegion)
        throw new KmsFault('UnsupportedOperationException', `${key.arn} is not a multi-Region key.`);
      target.vault.importReplica(key);
    },
    async stop() {
      if (server.listening) await close();
      else destroySockets();
    },
  };
}
