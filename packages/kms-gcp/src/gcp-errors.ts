/**
 * What a failed Cloud KMS call means for hushfield. The official client fails differently per
 * transport: over gRPC with a `GoogleError` whose numeric `code` is a `google.rpc.Code`; over
 * REST (`fallback`) with the HTTP client's error, whose `status` is the HTTP status and whose
 * message is Google's error body `{"error":{"code","message","status"}}`; on the network with
 * a Node error code. Each is reduced to the canonical code name (`FAILED_PRECONDITION`), a
 * network code (`ECONNREFUSED`), `Timeout` or one of this package's integrity codes. Only
 * those names are kept: the service's message text, and the client's error (which can carry
 * the request, plaintext included), never reach a hushfield error.
 */
import { networkErrorCode, type KeyringFailure } from '@hushfield/core';

/** google.rpc.Code names by number. */
const RPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
const RPC_NAMES: ReadonlySet<string> = new Set(RPC_CODES);

/** The HTTP statuses Google maps canonical codes to (https://cloud.google.com/apis/design/errors), for bodies without `status`. */
const BY_HTTP_STATUS: ReadonlyMap<number, string> = new Map([
  [400, 'INVALID_ARGUMENT'],
  [401, 'UNAUTHENTICATED'],
  [403, 'PERMISSION_DENIED'],
  [404, 'NOT_FOUND'],
  [409, 'ABORTED'],
  [429, 'RESOURCE_EXHAUSTED'],
  [499, 'CANCELLED'],
  [500, 'INTERNAL'],
  [501, 'UNIMPLEMENTED'],
  [503, 'UNAVAILABLE'],
  [504, 'DEADLINE_EXCEEDED'],
]);

/** Codes Google's retry guidance calls transient, plus this package's integrity failures. */
const RETRYABLE: ReadonlySet<string> = new Set([
  'UNAVAILABLE',
  'RESOURCE_EXHAUSTED',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
  'ABORTED',
  'Timeout',
  'ChecksumMismatch',
  'ChecksumUnverified',
]);

/**
 * A response that failed its integrity check (CRC32C), or that lacks what it must hold. Thrown
 * inside an attempt so the retry loop classifies it like a service error.
 */
export class GcpResponseError extends Error {
  /** `ChecksumMismatch` / `ChecksumUnverified` (retried: corruption in transit), `UnexpectedResponse` (final). */
  readonly gcpCode: 'ChecksumMismatch' | 'ChecksumUnverified' | 'UnexpectedResponse';

  constructor(gcpCode: GcpResponseError['gcpCode'], reason: string) {
    super(reason);
    this.name = 'GcpResponseError';
    this.gcpCode = gcpCode;
  }
}

/** The `status` of a Google error body held in `text` (JSON), when it is a canonical code name. */
function statusInBody(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.length > 64 * 1024 || !text.trimStart().startsWith('{')) return undefined;
  try {
    const status = (JSON.parse(text) as { error?: { status?: unknown } })?.error?.status;
    return typeof status === 'string' && RPC_NAMES.has(status) ? status : undefined;
  } catch {
    return undefined;
  }
}

/** The canonical code name of a client error, when it carries one. */
function rpcCode(error: object): string | undefined {
  const e = error as { code?: unknown; status?: unknown; message?: unknown; response?: { status?: unknown } };
  const httpStatus = typeof e.response?.status === 'number' ? e.response.status : undefined;
  if (httpStatus !== undefined) {
    // REST transport: the HTTP client's error; Google's body is its message.
    return statusInBody(e.message) ?? BY_HTTP_STATUS.get(httpStatus) ?? (httpStatus >= 500 ? 'INTERNAL' : 'UNKNOWN');
  }
  if (typeof e.code === 'number' && Number.isInteger(e.code) && e.code > 0 && e.code < RPC_CODES.length) {
    return RPC_CODES[e.code]; // gRPC, or a GoogleError the REST decoder built
  }
  return undefined;
}

/** Classifies what one attempt threw; `timedOut` when the keyring's own timer aborted it. */
export function classifyGcpError(error: unknown, timedOut: boolean): KeyringFailure {
  if (timedOut) return { code: 'Timeout', retryable: true };
  if (error instanceof GcpResponseError) return { code: error.gcpCode, retryable: RETRYABLE.has(error.gcpCode) };
  const network = networkErrorCode(error);
  if (network !== undefined) return { code: network, retryable: true };
  if (typeof error !== 'object' || error === null) return { code: 'UNKNOWN', retryable: false };
  const code = rpcCode(error) ?? 'UNKNOWN';
  return { code, retryable: RETRYABLE.has(code) };
}

/** Words for a code, for `KeyringError` messages. Never secret, never the service's text. */
export function describeGcpFailure(code: string, timeoutMs: number): string {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return (
        'Cloud KMS refused the request as invalid: on Decrypt, the wrapped key was tampered with, made under ' +
        'another key, or presented with another encryption context (INVALID_ARGUMENT)'
      );
    case 'FAILED_PRECONDITION':
      return 'the CryptoKeyVersion is not enabled: disabled, scheduled for destruction or destroyed (FAILED_PRECONDITION)';
    case 'PERMISSION_DENIED':
      return 'permission denied: the caller lacks cloudkms.cryptoKeyVersions.useToEncrypt or useToDecrypt on the key, or the key does not exist (PERMISSION_DENIED)';
    case 'UNAUTHENTICATED':
      return 'the credentials were refused or have expired (UNAUTHENTICATED)';
    case 'NOT_FOUND':
      return 'the key or key version does not exist (NOT_FOUND)';
    case 'RESOURCE_EXHAUSTED':
      return 'rate limited: the project quota for cryptographic requests is exhausted (RESOURCE_EXHAUSTED)';
    case 'UNAVAILABLE':
      return 'Cloud KMS is unavailable (UNAVAILABLE)';
    case 'INTERNAL':
      return 'Cloud KMS internal error (INTERNAL)';
    case 'DEADLINE_EXCEEDED':
      return 'Cloud KMS did not finish within its deadline (DEADLINE_EXCEEDED)';
    case 'Timeout':
      return `no answer within ${timeoutMs} ms`;
    case 'ChecksumMismatch':
      return 'the response failed its CRC32C check (corrupted in transit)';
    case 'ChecksumUnverified':
      return 'Cloud KMS did not confirm the request checksums (verifiedPlaintextCrc32c / verifiedAdditionalAuthenticatedDataCrc32c)';
    case 'UnexpectedResponse':
      return 'the response lacks the ciphertext, plaintext or key version it must hold, or names another key';
    default:
      return RPC_NAMES.has(code) ? `Cloud KMS answered ${code}` : `Cloud KMS could not be reached (${code})`;
  }
}
