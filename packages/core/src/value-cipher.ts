/**
 * The two AEAD layers of an envelope: the per-row DEK wrapped under the scope key, and the value
 * sealed under the DEK. Synchronous, allocation-light: this is the hot path of every read.
 */
import { KEY_BYTES, openPacked, randomNonce, sealPacked, sealParts, TAG_BYTES } from './aead';
import { encodedLength } from './base64url';
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

/**
 * Ciphertexts at least this long are encoded piece by piece into one buffer read once as the
 * envelope: no copy of the ciphertext, no megabyte-long intermediate string, and no joined
 * string for V8 to copy into its heap on first use (which costs more than the copies saved).
 */
const ASSEMBLE_FROM = 64 * 1024;
/** Bytes encoded at a time when assembling: a multiple of 3, so the pieces' encodings concatenate. */
const PIECE_BYTES = 48 * 1024;

/**
 * Seals UTF-8 plaintext under a DEK and appends it to an envelope header: `header` followed by
 * base64url of `nonce ‖ ciphertext ‖ tag`, each byte encoded once.
 */
export function appendSealedValue(header: string, dek: Buffer, plaintext: Buffer, aad: Buffer, nonce: Buffer = randomNonce()): string {
  const { ciphertext, tag } = sealParts(dek, plaintext, aad, nonce);
  const sealedLength = nonce.length + ciphertext.length + TAG_BYTES;
  if (ciphertext.length < ASSEMBLE_FROM) return header + Buffer.concat([nonce, ciphertext, tag], sealedLength).toString('base64url');
  // Encodings of byte strings whose lengths are multiples of 3 concatenate into the encoding of
  // their concatenation: the nonce (12 bytes) is one, and the ciphertext is cut into such pieces.
  const out = Buffer.allocUnsafe(header.length + encodedLength(sealedLength));
  let at = out.write(header, 0, 'latin1');
  at += out.write(nonce.toString('base64url'), at, 'latin1');
  const cut = ciphertext.length - (ciphertext.length % 3);
  for (let start = 0; start < cut; start += PIECE_BYTES) {
    at += out.write(ciphertext.toString('base64url', start, Math.min(start + PIECE_BYTES, cut)), at, 'latin1');
  }
  at += out.write(Buffer.concat([ciphertext.subarray(cut), tag]).toString('base64url'), at, 'latin1');
  return out.toString('latin1', 0, at);
}

/** Opens a parsed envelope's value under its DEK, or `null` when it fails to authenticate. */
export function openValue(dek: Buffer, envelope: ParsedEnvelope, aad: Buffer): Buffer | null {
  return openPacked(dek, envelope.sealed, aad);
}
