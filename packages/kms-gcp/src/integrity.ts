/**
 * CRC32C end-to-end integrity checks for Cloud KMS, as Google documents them
 * (https://cloud.google.com/kms/docs/data-integrity-guidelines): send the checksum of every
 * byte field of the request; require the service to confirm it verified them; check the
 * checksum it returns for the ciphertext or plaintext. CRC32C comes from `@node-rs/crc32`
 * (Rust, prebuilt for each platform). A mismatch means corruption in transit and is retried.
 */
import { crc32c } from '@node-rs/crc32';
import { GcpResponseError } from './gcp-errors';

/** The `Int64Value` of a field's CRC32C, as the client takes it. */
export function checksum(data: Uint8Array): { value: number } {
  return { value: crc32c(data) };
}

/** An `Int64Value` as the client returns it (a decimal string over REST, a number or Long over gRPC). */
type Int64Value = { value?: unknown } | null | undefined;

function int64(value: Int64Value): number | undefined {
  const raw = value?.value;
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === 'object' ? String(raw) : raw;
  if (typeof text === 'number') return Number.isSafeInteger(text) ? text : undefined;
  if (typeof text !== 'string' || text.length === 0 || text.length > 20) return undefined;
  for (const char of text) if (char < '0' || char > '9') return undefined;
  return Number(text);
}

/**
 * Checks that `data` matches the checksum the service returned for it.
 * @throws GcpResponseError `ChecksumMismatch` when it is missing or differs
 */
export function verifyChecksum(data: Uint8Array, returned: Int64Value, field: string): void {
  if (int64(returned) !== crc32c(data)) {
    throw new GcpResponseError('ChecksumMismatch', `${field} does not match its CRC32C`);
  }
}

/**
 * Checks that the service confirmed the request checksums it was sent.
 * @throws GcpResponseError `ChecksumUnverified` when a flag is not `true`
 */
export function verifyConfirmed(flags: Record<string, boolean | null | undefined>): void {
  for (const [field, verified] of Object.entries(flags)) {
    if (verified !== true) throw new GcpResponseError('ChecksumUnverified', `${field} is not true`);
  }
}
