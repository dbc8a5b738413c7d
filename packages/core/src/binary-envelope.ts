/**
 * The binary envelope: how one encrypted `Bytes` value is stored in a `bytea`/`BLOB` column,
 * raw (no base64 inflation). It carries the same things as the text envelope (envelope.ts) and
 * is opened the same way (same DEK wrapping and associated data, with the `bytes` type tag):
 *
 * ```
 * "hfb" ‖ u8(1) ‖ u8(keyIdLength) ‖ keyId ‖ u32(version) ‖ wrappedDek (60) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
 * ```
 * - `hfb` (68 66 62): magic; `1`: binary format version;
 * - `keyId`: the scope key's id, 1–64 characters of `[A-Za-z0-9_-]` (as in the text format);
 * - `version`: the scope key's version, 1 to 2^31−1, big-endian;
 * - `wrappedDek`: nonce ‖ AES-256-GCM(scope key, DEK) ‖ tag, associated data `dekAad`;
 * - then nonce ‖ AES-256-GCM(DEK, bytes) ‖ tag, associated data `valueAad` with the `bytes` tag.
 *
 * A row's text and binary envelopes share its DEK: the wrapped DEK is the same bytes, and the
 * DEK cache names it the same way (`<keyId>$<version>$<base64url(wrappedDek)>`).
 */
import { Buffer } from 'node:buffer';
import { PACKED_OVERHEAD } from './aead';
import {
  dekId,
  MAX_KEY_ID_LENGTH,
  MAX_KEY_VERSION,
  MAX_PLAINTEXT_BYTES,
  type ParsedEnvelope,
  WRAPPED_DEK_BYTES,
} from './envelope';
import { EnvelopeFormatError } from './errors';
import { messages } from './messages';

/** The first bytes of every binary envelope, `hfb`. */
export const BINARY_MAGIC: Readonly<Buffer> = Buffer.from('hfb', 'latin1');
/** The binary format version this codec writes. */
export const BINARY_FORMAT_VERSION = 1;
/** Longest binary envelope the parser looks at (a 16 MiB value under the longest key id). */
export const MAX_BINARY_ENVELOPE_BYTES =
  BINARY_MAGIC.length + 2 + MAX_KEY_ID_LENGTH + 4 + WRAPPED_DEK_BYTES + MAX_PLAINTEXT_BYTES + PACKED_OVERHEAD;

const KEY_ID_CHARS = /^[A-Za-z0-9_-]{1,64}$/;

function reject(reason: string): never {
  throw new EnvelopeFormatError(messages.envelope(reason));
}

/** Cheap prefix test: whether `value` is bytes that claim to be a binary envelope (no parse). */
export function isBinaryEnvelope(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array &&
    value.length > BINARY_MAGIC.length &&
    value[0] === BINARY_MAGIC[0] &&
    value[1] === BINARY_MAGIC[1] &&
    value[2] === BINARY_MAGIC[2]
  );
}

/** The header every binary value of one row write starts with: magic, version, key id, key version, wrapped DEK. */
export function binaryHeader(keyId: string, version: number, wrappedDek: Buffer): Buffer {
  const idBytes = Buffer.from(keyId, 'latin1');
  const out = Buffer.allocUnsafe(BINARY_MAGIC.length + 2 + idBytes.length + 4 + wrappedDek.length);
  let at = BINARY_MAGIC.copy(out, 0);
  out[at++] = BINARY_FORMAT_VERSION;
  out[at++] = idBytes.length;
  at += idBytes.copy(out, at);
  at = out.writeUInt32BE(version, at);
  wrappedDek.copy(out, at);
  return out;
}

/** A view of `bytes` as a Buffer (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The key id and version a binary envelope names, reading only its header, or `null` when the
 * header is malformed (the full parse reports why).
 */
export function binaryKeyOf(bytes: Uint8Array): { keyId: string; version: number } | null {
  if (!isBinaryEnvelope(bytes) || bytes.length < BINARY_MAGIC.length + 2) return null;
  const buffer = asBuffer(bytes);
  const idLength = buffer[4];
  if (buffer[3] !== BINARY_FORMAT_VERSION || idLength < 1 || idLength > MAX_KEY_ID_LENGTH) return null;
  if (buffer.length < 5 + idLength + 4) return null;
  const keyId = buffer.toString('latin1', 5, 5 + idLength);
  const version = buffer.readUInt32BE(5 + idLength);
  if (!KEY_ID_CHARS.test(keyId) || version < 1 || version > MAX_KEY_VERSION) return null;
  return { keyId, version };
}

/**
 * Parses a binary envelope without decrypting it. The result's `sealed` and `wrappedDek` are
 * views into `bytes` (not copies); `text` is empty.
 * @throws EnvelopeFormatError on any deviation from the format (the only error it throws)
 */
export function parseBinaryEnvelope(bytes: unknown): ParsedEnvelope {
  if (!(bytes instanceof Uint8Array)) reject('not bytes');
  if (bytes.length > MAX_BINARY_ENVELOPE_BYTES) reject('too long');
  if (!isBinaryEnvelope(bytes)) reject('missing binary prefix');
  const buffer = asBuffer(bytes);
  if (buffer.length < 5) reject('missing fields');
  const formatVersion = buffer[3];
  if (formatVersion !== BINARY_FORMAT_VERSION) throw new EnvelopeFormatError(messages.unsupportedFormat(formatVersion));
  const idLength = buffer[4];
  if (idLength < 1 || idLength > MAX_KEY_ID_LENGTH) reject('key id has a bad length');
  const dekStart = 5 + idLength + 4;
  const sealedStart = dekStart + WRAPPED_DEK_BYTES;
  if (buffer.length < sealedStart + PACKED_OVERHEAD) reject('too short');
  // The whole-envelope cap allows for the longest key id: a shorter one must not lend a longer value.
  if (buffer.length - sealedStart > MAX_PLAINTEXT_BYTES + PACKED_OVERHEAD) reject('sealed value is too long');
  const keyId = buffer.toString('latin1', 5, 5 + idLength);
  if (!KEY_ID_CHARS.test(keyId)) reject('key id has a bad character');
  const version = buffer.readUInt32BE(5 + idLength);
  if (version < 1 || version > MAX_KEY_VERSION) reject('key version is out of range');
  const wrappedDek = buffer.subarray(dekStart, sealedStart);
  return {
    text: '',
    formatVersion,
    keyId,
    version,
    dekStart,
    sealedStart,
    dekId: dekId(keyId, version, wrappedDek.toString('base64url')),
    wrappedDek,
    sealed: buffer.subarray(sealedStart),
  };
}
