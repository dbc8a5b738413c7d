/**
 * The two AEAD layers of an envelope: the per-row DEK wrapped under the scope key, and the value
 * sealed under the DEK. Synchronous, allocation-light: this is the hot path of every read.
 */
import { KEY_BYTES, openPacked, randomNonce, sealPacked } from './aead';
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

/** Seals UTF-8 plaintext under a DEK: `nonce ‖ ciphertext ‖ tag`. */
export function sealValue(dek: Buffer, plaintext: Buffer, aad: Buffer, nonce: Buffer = randomNonce()): Buffer {
  return sealPacked(dek, plaintext, aad, nonce);
}

/** Opens a parsed envelope's value under its DEK, or `null` when it fails to authenticate. */
export function openValue(dek: Buffer, envelope: ParsedEnvelope, aad: Buffer): Buffer | null {
  return openPacked(dek, envelope.sealed, aad);
}
