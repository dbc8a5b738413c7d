/**
 * A gRPC front for the Cloud KMS fake (server.ts): the `google.cloud.kms.v1.KeyManagementService`
 * `Encrypt` and `Decrypt` methods, served by @grpc/grpc-js from the service definition the
 * `@google-cloud/kms` package ships (its protos.json), so that the client's default gRPC
 * transport can be tested too. Requests are turned into the proto3 JSON form the fake serves
 * (bytes as base64, Int64Value as a decimal string) and its answers back; canonical errors
 * become gRPC status codes; a dropped connection is `UNAVAILABLE`.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { CloudKmsFake } from './server';

const KMS_PACKAGE = require.resolve('@google-cloud/kms', { paths: [join(__dirname, '../../../packages/kms-gcp')] });
const PROTOS_JSON = join(KMS_PACKAGE, '..', '..', 'protos', 'protos.json');

/** A running gRPC front. */
export interface GrpcFront {
  readonly port: number;
  /** Insecure channel credentials for the loopback port (the client's `sslCreds`). */
  readonly credentials: grpc.ChannelCredentials;
  /** Calls the server saw cancelled by the client (its deadline or a cancel). */
  readonly cancelled: () => number;
  stop(): Promise<void>;
}

function toJson(request: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request)) {
    if (field === 'name' || value === null || value === undefined) continue;
    if (Buffer.isBuffer(value)) {
      if (value.length > 0) body[field] = value.toString('base64');
    } else if (typeof value === 'object' && 'value' in value) {
      body[field] = String((value as { value: unknown }).value);
    }
  }
  return body;
}

function fromJson(answer: Record<string, unknown>): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(answer)) {
    if (field === 'ciphertext' || field === 'plaintext') message[field] = Buffer.from(String(value), 'base64');
    else if (field.endsWith('Crc32c')) message[field] = { value: String(value) };
    else message[field] = value;
  }
  return message;
}

/** Serves `fake` over gRPC on an ephemeral loopback port. */
export async function startGrpcFront(fake: CloudKmsFake): Promise<GrpcFront> {
  const json = (await import(PROTOS_JSON)) as Record<string, unknown>;
  const definition = protoLoader.fromJSON(json, { keepCase: false, longs: String, defaults: false, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: grpc.ServiceClientConstructor } } } };
  };
  const server = new grpc.Server();
  let cancelled = 0;
  const method =
    (name: 'encrypt' | 'decrypt'): grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>> =>
    (call, callback) => {
      call.on('cancelled', () => cancelled++);
      const resource = String(call.request.name ?? '');
      fake
        .serve(name, resource, toJson(call.request), () => call.cancelled)
        .then((outcome) => {
          if ('answer' in outcome) callback(null, fromJson(outcome.answer));
          else if ('error' in outcome)
            callback({ code: grpc.status[outcome.error.status], details: outcome.error.message });
          else callback({ code: grpc.status.UNAVAILABLE, details: 'Connection reset by peer' });
        })
        .catch(() => callback({ code: grpc.status.INTERNAL, details: 'Internal error.' }));
    };
  server.addService(loaded.google.cloud.kms.v1.KeyManagementService.service, {
    Encrypt: method('encrypt'),
    Decrypt: method('decrypt'),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    credentials: grpc.credentials.createInsecure(),
    cancelled: () => cancelled,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
