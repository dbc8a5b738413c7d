/**
 * The envelope codec: how one encrypted value is stored, as an ASCII string that fits any
 * `String` column. Format version 1:
 *
 * ```
 * hfe$1$<keyId>$<version>$<wrappedDek>$<sealedValue>
 * ```
 * - `hfe$`: fixed prefix ({@link isEnvelope} tests only this);
 * - `1`: format version;
 * - `keyId`: the scope key's id, 1–64 base64url characters;
 * - `version`: the scope key's version, decimal without leading zeros, 1 to 2^31−1;
 * - `wrappedDek`: 80 base64url characters = 60 bytes: nonce (12) ‖ AES-256-GCM(scope key, DEK)
 *   (32) ‖ tag (16), associated data `dekAad` (associated-data.ts);
 * - `sealedValue`: base64url of nonce (12) ‖ AES-256-GCM(DEK, UTF-8 plaintext) ‖ tag (16),
 *   associated data `valueAad` (associated-data.ts).
 *
 * Base64url is unpadded and canonical (unused low bits zero). The parser uses no backtracking
 * regular expressions (one character class, in utf8.ts), caps every length (and the
 * whole input) before looking further, and rejects the whole string on any deviation with
 * `EnvelopeFormatError`.
 */
import { Buffer } from 'node:buffer';
import { NONCE_BYTES, PACKED_OVERHEAD, TAG_BYTES } from './aead';
import { decodeCanonicalBase64url, decodeCanonicalBase64urlInto, decodedLength, encodedLength } from './base64url';
import { EnvelopeFormatError } from './errors';
import { messages } from './messages';

/** Every envelope starts with this. */
export const ENVELOPE_PREFIX = 'hfe$';
/** The format version this codec writes. */
export const FORMAT_VERSION = 1;
/** Size of a wrapped DEK: nonce, 32-byte key, tag. */
export const WRAPPED_DEK_BYTES = NONCE_BYTES + 32 + TAG_BYTES;
/** Largest plaintext accepted, in UTF-8 bytes (16 MiB). */
export const MAX_PLAINTEXT_BYTES = 16 * 1024 * 1024;
/** Longest key id accepted. */
export const MAX_KEY_ID_LENGTH = 64;
/** Largest key version accepted. */
export const MAX_KEY_VERSION = 2 ** 31 - 1;

const SEPARATOR = '$';
const WRAPPED_DEK_CHARS = encodedLength(WRAPPED_DEK_BYTES);
const MAX_SEALED_CHARS = encodedLength(MAX_PLAINTEXT_BYTES + PACKED_OVERHEAD);
/** Longest string the parser looks at. */
export const MAX_ENVELOPE_LENGTH =
  ENVELOPE_PREFIX.length + 2 + MAX_KEY_ID_LENGTH + 1 + 10 + 1 + WRAPPED_DEK_CHARS + 1 + MAX_SEALED_CHARS;

/** A parsed envelope: its header fields, positions into the original string, and the decoded bytes. */
export interface ParsedEnvelope {
  readonly text: string;
  readonly formatVersion: number;
  readonly keyId: string;
  readonly version: number;
  /** Start of the wrapped DEK; it runs to `sealedStart - 1`. */
  readonly dekStart: number;
  /** Start of the sealed value; it runs to the end. */
  readonly sealedStart: number;
  /** `<keyId>$<version>$<wrappedDek>`: names the row's DEK (the DEK cache's key). */
  readonly dekId: string;
  /**
   * The wrapped DEK, decoded (60 bytes; shared by envelopes parsed with one `seen` map: never
   * modify), or {@link UNDECODED_DEK} when the parse was told its DEK is cached (see
   * {@link parseEnvelope}'s `cached`; {@link withWrappedDek} decodes it).
   */
  readonly wrappedDek: Buffer;
  /** The sealed value, decoded: nonce ‖ ciphertext ‖ tag. */
  readonly sealed: Buffer;
}

/**
 * {@link ParsedEnvelope.wrappedDek} of an envelope whose wrapped DEK was not decoded, because the
 * DEK cache held a DEK under its exact {@link ParsedEnvelope.dekId} (empty: no unwrap accepts it).
 */
export const UNDECODED_DEK: Buffer = Buffer.alloc(0);

/** Cheap prefix test: whether `value` claims to be an envelope (no parse). */
export function isEnvelope(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENVELOPE_PREFIX);
}

function reject(reason: string): never {
  throw new EnvelopeFormatError(messages.envelope(reason));
}

/** The header `hfe$1$<keyId>$<version>$`, shared by every value of one row write. */
export function envelopeHeader(keyId: string, version: number): string {
  return `${ENVELOPE_PREFIX}${FORMAT_VERSION}${SEPARATOR}${keyId}${SEPARATOR}${version}${SEPARATOR}`;
}

/** Where `<keyId>` starts in an envelope: after `hfe$1$`. */
export const KEY_ID_START = ENVELOPE_PREFIX.length + String(FORMAT_VERSION).length + SEPARATOR.length;

/** Id of one scope key version as an envelope writes it, `<keyId>$<version>` (a key id never holds `$`). */
export function scopeKeyId(keyId: string, version: number): string {
  return `${keyId}${SEPARATOR}${version}`;
}

/** The key id and version a {@link scopeKeyId} names. */
export function scopeKeyOf(id: string): { keyId: string; version: number } {
  const split = id.indexOf(SEPARATOR);
  return { keyId: id.slice(0, split), version: Number(id.slice(split + 1)) };
}

/**
 * Id of a row's data key as its envelopes name it, `<keyId>$<version>$<wrappedDek>`
 * ({@link ParsedEnvelope.dekId}): the DEK cache's key.
 */
export function dekId(keyId: string, version: number, wrappedDek: string): string {
  return `${scopeKeyId(keyId, version)}${SEPARATOR}${wrappedDek}`;
}

/**
 * Reads the decimal at `[start, end)` as the formats write numbers (1–10 digits, no leading
 * zero), or returns -1. Shared by the envelope and blind-index parsers.
 */
export function readDecimal(text: string, start: number, end: number): number {
  if (end - start < 1 || end - start > 10 || text.charCodeAt(start) === 0x30) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Parses the decimal at `[start, end)`: digits only, no leading zero, within bounds. */
function parseDecimal(text: string, start: number, end: number, max: number, what: string): number {
  const length = end - start;
  if (length < 1 || length > 10) reject(`${what} has a bad length`);
  if (text.charCodeAt(start) === 0x30) reject(`${what} has a leading zero`);
  const value = readDecimal(text, start, end);
  if (value < 0) reject(`${what} is not a decimal number`);
  if (value > max) reject(`${what} is out of range`);
  return value;
}

/** DEK ids longer than this are copied, so a kept id never retains a large envelope string. */
const FLATTEN_ABOVE = 1024;

/**
 * What {@link parseEnvelope} remembers across the values of one batch: the previous envelope,
 * whose header (key id, version, wrapped DEK) the next field of the same row repeats, so it is
 * checked and decoded once per row. It holds no secret and lives as long as the batch.
 */
export class HeaderMemo {
  /** The last envelope parsed, and its header text `hfe$1$<keyId>$<version>$<wrappedDek>$`. */
  last: ParsedEnvelope | undefined;
  lastHeader = '';
  /**
   * When set, sealed values up to its size are decoded into it rather than into a new buffer
   * each: an envelope's `sealed` is then valid only until the next parse with this memo (a
   * batch that opens each value at once). It holds ciphertext only, never a secret.
   */
  readonly scratch: Buffer | undefined;

  constructor(scratch?: Buffer) {
    this.scratch = scratch;
  }

  /** Whether `text` repeats the last envelope's header exactly (its sealed value is not looked at). */
  repeats(text: unknown): boolean {
    return (
      this.last !== undefined && typeof text === 'string' && text.slice(0, this.lastHeader.length) === this.lastHeader
    );
  }
}

/**
 * Parses an envelope without decrypting it.
 * @param memo shared across the values of one batch, so a row's repeated header is parsed once
 * @param cached whether the DEK cache holds a DEK under a `dekId`: then the wrapped DEK is not
 *   decoded (`wrappedDek` is {@link UNDECODED_DEK}). The cache's ids are `dekId`s of envelopes
 *   whose wrapped DEK decoded canonically and unwrapped (or that hushfield wrote), so a text that
 *   matches one exactly is one that passed these checks: nothing is accepted that would not be.
 *   A caller that then misses the cache (the entry expired meanwhile) calls {@link withWrappedDek}.
 * @throws EnvelopeFormatError on any deviation from the format (the only error it throws)
 */
export function parseEnvelope(text: unknown, memo?: HeaderMemo, cached?: (dekId: string) => boolean): ParsedEnvelope {
  if (typeof text !== 'string') reject('not a string');
  if (text.length > MAX_ENVELOPE_LENGTH) reject('too long');
  const last = memo?.last;
  // The same header as the previous value (the next field of the same row): only the sealed
  // value is new. The header text ends with its separator, so the match is exact.
  // (A slice compared with === costs a fraction of startsWith on a 100-character header.)
  if (last !== undefined && memo!.repeats(text)) {
    // Built field by field rather than spread: the same shape as the object below.
    const { formatVersion, keyId, version, dekStart, sealedStart, dekId, wrappedDek } = last;
    return {
      text,
      formatVersion,
      keyId,
      version,
      dekStart,
      sealedStart,
      dekId,
      wrappedDek,
      sealed: parseSealed(text, sealedStart, memo!.scratch),
    };
  }
  if (!text.startsWith(ENVELOPE_PREFIX)) reject('missing prefix');
  const versionStart = ENVELOPE_PREFIX.length;
  const versionEnd = text.indexOf(SEPARATOR, versionStart);
  if (versionEnd < 0) reject('missing fields');
  const formatVersion = parseDecimal(text, versionStart, versionEnd, 255, 'format version');
  if (formatVersion !== FORMAT_VERSION) throw new EnvelopeFormatError(messages.unsupportedFormat(formatVersion));

  const keyIdStart = versionEnd + 1;
  const keyIdEnd = text.indexOf(SEPARATOR, keyIdStart);
  if (keyIdEnd < 0) reject('missing fields');
  const keyIdLength = keyIdEnd - keyIdStart;
  if (keyIdLength < 1 || keyIdLength > MAX_KEY_ID_LENGTH) reject('key id has a bad length');
  if (!isIdentifier(text, keyIdStart, keyIdEnd)) reject('key id has a bad character');

  const keyVersionStart = keyIdEnd + 1;
  const keyVersionEnd = text.indexOf(SEPARATOR, keyVersionStart);
  if (keyVersionEnd < 0) reject('missing fields');
  const version = parseDecimal(text, keyVersionStart, keyVersionEnd, MAX_KEY_VERSION, 'key version');

  const dekStart = keyVersionEnd + 1;
  const dekEnd = dekStart + WRAPPED_DEK_CHARS;
  if (text.length <= dekEnd || text.charCodeAt(dekEnd) !== 0x24) reject('wrapped data key has a bad length');
  let dekId = text.slice(keyIdStart, dekEnd);
  // V8 may keep a slice as a view of its parent string; copy it when the parent is large.
  if (text.length > FLATTEN_ABOVE) dekId = Buffer.from(dekId, 'latin1').toString('latin1');
  const wrappedDek = cached?.(dekId) === true ? UNDECODED_DEK : decodeWrappedDek(text, dekStart, dekEnd);

  const sealedStart = dekEnd + 1;
  const sealed = parseSealed(text, sealedStart, memo?.scratch);
  const parsed: ParsedEnvelope = {
    text,
    formatVersion,
    keyId: text.slice(keyIdStart, keyIdEnd),
    version,
    dekStart,
    sealedStart,
    dekId,
    wrappedDek,
    sealed,
  };
  if (memo !== undefined) {
    memo.last = parsed;
    memo.lastHeader = text.slice(0, sealedStart);
  }
  return parsed;
}

/** The wrapped DEK at `[start, end)` of an envelope, decoded. */
function decodeWrappedDek(text: string, start: number, end: number): Buffer {
  const wrappedDek = decodeCanonicalBase64url(text, start, end);
  if (wrappedDek === null) reject('wrapped data key is not canonical base64url');
  return wrappedDek;
}

/**
 * `envelope` with its wrapped DEK decoded: itself when it was, else a copy (a parse told its DEK
 * was cached, whose caller then missed the cache).
 * @throws EnvelopeFormatError when the wrapped DEK is not canonical base64url
 */
export function withWrappedDek(envelope: ParsedEnvelope): ParsedEnvelope {
  if (envelope.wrappedDek !== UNDECODED_DEK) return envelope;
  return {
    ...envelope,
    wrappedDek: decodeWrappedDek(envelope.text, envelope.dekStart, envelope.sealedStart - 1),
  };
}

const KEY_PREFIX = `${ENVELOPE_PREFIX}${FORMAT_VERSION}${SEPARATOR}`;

/**
 * Length of `hfe$1$<keyId>$<version>$` at the start of `text` when the key id and version are
 * well formed (as {@link parseEnvelope} checks them), else 0. Looks no further: it names the
 * scope key a value needs before the value itself is parsed.
 */
export function keyPrefixLength(text: string): number {
  if (!text.startsWith(KEY_PREFIX)) return 0;
  const keyIdEnd = text.indexOf(SEPARATOR, KEY_PREFIX.length);
  const keyIdLength = keyIdEnd - KEY_PREFIX.length;
  if (keyIdLength < 1 || keyIdLength > MAX_KEY_ID_LENGTH || !isIdentifier(text, KEY_PREFIX.length, keyIdEnd)) return 0;
  const versionEnd = text.indexOf(SEPARATOR, keyIdEnd + 1);
  const digits = versionEnd - keyIdEnd - 1;
  if (digits < 1 || digits > 10 || text.charCodeAt(keyIdEnd + 1) === 0x30) return 0;
  let version = 0;
  for (let i = keyIdEnd + 1; i < versionEnd; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return 0;
    version = version * 10 + digit;
  }
  return version > MAX_KEY_VERSION ? 0 : versionEnd + 1;
}

/** Checks and decodes the sealed value, from `sealedStart` to the end (into `scratch` when given and large enough). */
function parseSealed(text: string, sealedStart: number, scratch: Buffer | undefined): Buffer {
  const sealedLength = text.length - sealedStart;
  if (decodedLength(sealedLength) < PACKED_OVERHEAD) reject('sealed value has a bad length');
  if (sealedLength > MAX_SEALED_CHARS) reject('sealed value is too long');
  const sealed =
    scratch === undefined
      ? decodeCanonicalBase64url(text, sealedStart, text.length)
      : decodeCanonicalBase64urlInto(text, sealedStart, text.length, scratch);
  if (sealed === null) reject('sealed value is not canonical base64url');
  return sealed;
}

const ID_CHARS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') ID_CHARS[c.charCodeAt(0)] = 1;

function isIdentifier(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || ID_CHARS[code] === 0) return false;
  }
  return true;
}

/** The format version, key id and key version an envelope names. @throws EnvelopeFormatError */
export function describeEnvelope(text: string): { formatVersion: number; keyId: string; version: number } {
  const { formatVersion, keyId, version } = parseEnvelope(text);
  return { formatVersion, keyId, version };
}
