/**
 * The two AEAD layers of an envelope: the per-row DEK wrapped under the scope key, and the value
 * sealed under the DEK. Synchronous, allocation-light: this is the hot path of every read.
 */
import { KEY_BYTES, openPacked, randomNonce, sealPacked, sealParts, TAG_BYTES } from './aead';
import { dekAad, type ParsedEnvelope, WRAPPED_DEK_BYTES } from './envelope';

/** Wraps a 32-byte DEK under a scope key: `nonce ‖ ciphertext ‖ tag` (60 bytes). */
export function wrapDek(scopeKey: Buffer, keyId: string, version: number, dek: Buffer, nonce: Buffer = randomNonce()): Buffer {
  return sealPacked(scopeKey, dek, dekAad(keyId, version), nonce);
}

/** Unwraps a parsed envelope's DEK, or `null` when it fails to authenticate. */
export function unwrapDek(scopeKey: Buffer, envelope: ParsedEnvelope): Buffer | null {
  const wrapped = envelope.wrappedDek;
  if (wrapped.length !== WRAPPED_DEK_BYTES) return null;
  const dek = openPacked(scopeKey, wrapped, dekAad(envelope.keyId, envelope.version));
  if (dek !== null && dek.length !== KEY_BYTES) {
    dek.fill(0);
    return null;
  }
  return dek;
}

/** Ciphertexts at least this long are encoded in parts rather than copied into one buffer first. */
const ENCODE_IN_PARTS_FROM = 64 * 1024;
/**
 * Envelopes at least this long are assembled in one buffer. Node returns a string this long
 * read from a buffer outside V8's heap, while a joined string is copied into V8's heap when
 * first flattened, which costs several times the two copies made here.
 */
const ASSEMBLE_FROM = 1024 * 1024;

/**
 * Seals UTF-8 plaintext under a DEK and appends it to an envelope header: `header` followed by
 * base64url of `nonce ‖ ciphertext ‖ tag`, each byte encoded once.
 */
export function appendSealedValue(header: string, dek: Buffer, plaintext: Buffer, aad: Buffer, nonce: Buffer = randomNonce()): string {
  const { ciphertext, tag } = sealParts(dek, plaintext, aad, nonce);
  if (ciphertext.length < ENCODE_IN_PARTS_FROM) {
    return header + Buffer.concat([nonce, ciphertext, tag], nonce.length + ciphertext.length + TAG_BYTES).toString('base64url');
  }
  // Encodings of byte strings whose lengths are multiples of 3 concatenate into the encoding of
  // their concatenation: the nonce (12 bytes) is one, and the ciphertext is cut at one.
  const cut = ciphertext.length - (ciphertext.length % 3);
  return joinAscii([header, nonce.toString('base64url'), ciphertext.toString('base64url', 0, cut),
    Buffer.concat([ciphertext.subarray(cut), tag]).toString('base64url')]);
}

/** Joins ASCII strings into one flat string. */
function joinAscii(parts: readonly string[]): string {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length < ASSEMBLE_FROM) return parts.join('');
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) at += out.write(part, at, 'latin1');
  return out.toString('latin1', 0, at);
}

/** Opens a parsed envelope's value under its DEK, or `null` when it fails to authenticate. */
export function openValue(dek: Buffer, envelope: ParsedEnvelope, aad: Buffer): Buffer | null {
  return openPacked(dek, envelope.sealed, aad);
}
