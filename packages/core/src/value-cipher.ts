/**
 * The two AEAD layers of an envelope: the per-row DEK wrapped under the scope key, and the value
 * sealed under the DEK. Synchronous, allocation-light: this is the hot path of every read.
 */
import { Buffer } from 'node:buffer';
import { KEY_BYTES, openPacked, randomNonce, sealPacked, sealParts, sealPieces, TAG_BYTES } from './aead';
import { encodedLength } from './base64url';
import { dekAad } from './associated-data';
import { type ParsedEnvelope, WRAPPED_DEK_BYTES } from './envelope';

/** Wraps a 32-byte DEK under a scope key: `nonce ‖ ciphertext ‖ tag` (60 bytes). */
export function wrapDek(
  scopeKey: Buffer,
  keyId: string,
  version: number,
  dek: Buffer,
  nonce: Buffer = randomNonce(),
): Buffer {
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

/**
 * Values at least this long are encrypted and encoded piece by piece into one buffer, read once
 * as the envelope: no buffer of the whole ciphertext, no megabyte-long intermediate string,
 * and no joined string for V8 to copy into its heap on first use (which costs more than the
 * copies saved).
 */
const ASSEMBLE_FROM = 64 * 1024;
/** Plaintext bytes encrypted and encoded at a time when assembling (a multiple of 3). */
const PIECE_BYTES = 48 * 1024;

/**
 * Seals UTF-8 plaintext under a DEK and appends it to an envelope header: `header` followed by
 * base64url of `nonce ‖ ciphertext ‖ tag`, each byte encoded once.
 * @param pieceBytes how much plaintext is encrypted and encoded at a time (a parameter so that
 *   tests can exercise the carry between pieces; callers leave the default)
 */
export function appendSealedValue(
  header: string,
  dek: Buffer,
  plaintext: Buffer,
  aad: Buffer,
  nonce: Buffer = randomNonce(),
  pieceBytes = PIECE_BYTES,
): string {
  if (plaintext.length < ASSEMBLE_FROM) {
    const { ciphertext, tag } = sealParts(dek, plaintext, aad, nonce);
    return (
      header +
      Buffer.concat([nonce, ciphertext, tag], nonce.length + ciphertext.length + TAG_BYTES).toString('base64url')
    );
  }
  // Encodings of byte strings whose lengths are multiples of 3 concatenate into the encoding of
  // their concatenation: the nonce (12 bytes) is one, and each piece is encoded up to one, the
  // rest (at most 2 bytes) carried over to the next.
  const out = Buffer.allocUnsafe(header.length + encodedLength(nonce.length + plaintext.length + TAG_BYTES));
  let at = out.write(header, 0, 'latin1');
  at += out.write(nonce.toString('base64url'), at, 'latin1');
  let carry: Buffer | undefined;
  const tag = sealPieces(dek, plaintext, aad, nonce, pieceBytes, (piece) => {
    const bytes = carry === undefined ? piece : Buffer.concat([carry, piece]);
    const whole = bytes.length - (bytes.length % 3);
    at += out.write(bytes.toString('base64url', 0, whole), at, 'latin1');
    carry = whole === bytes.length ? undefined : bytes.subarray(whole);
  });
  at += out.write((carry === undefined ? tag : Buffer.concat([carry, tag])).toString('base64url'), at, 'latin1');
  return out.toString('latin1', 0, at);
}

/** Opens a parsed envelope's value under its DEK, or `null` when it fails to authenticate. */
export function openValue(dek: Buffer, envelope: ParsedEnvelope, aad: Buffer): Buffer | null {
  return openPacked(dek, envelope.sealed, aad);
}
