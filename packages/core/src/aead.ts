/**
 * AES-256-GCM from `node:crypto`, the one AEAD hushfield uses: 256-bit keys, 96-bit nonces,
 * 128-bit tags, associated data always supplied. Misuse (wrong key or nonce size, missing
 * associated data) is refused here, once, for every caller.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { needs, needsBytes } from './preconditions';
import { randomSecret } from './random-pool';

/** AES-256 key size in bytes. */
export const KEY_BYTES = 32;
/** GCM nonce size in bytes (96 bits, the size GCM is specified for). */
export const NONCE_BYTES = 12;
/** GCM tag size in bytes (128 bits, never truncated). */
export const TAG_BYTES = 16;
/** Bytes {@link sealPacked} adds to a plaintext: nonce and tag. */
export const PACKED_OVERHEAD = NONCE_BYTES + TAG_BYTES;

const ALGORITHM = 'aes-256-gcm';

function checkInputs(key: Buffer, nonce: Buffer, aad: Buffer): void {
  needsBytes(key, KEY_BYTES, 'key');
  needsBytes(nonce, NONCE_BYTES, 'nonce');
  needs(Buffer.isBuffer(aad), 'aad', 'must be a Buffer (associated data is always supplied; it may be empty)');
}

/** A fresh random 96-bit nonce (a new buffer, never shared), drawn from the pooled CSPRNG. */
export function randomNonce(): Buffer {
  return randomSecret(NONCE_BYTES);
}

/**
 * Encrypts with an explicit nonce. Callers outside tests use {@link sealPacked}, which draws
 * the nonce itself: reusing a nonce under one key breaks GCM completely.
 * @returns ciphertext followed by the 16-byte tag
 * @throws InvalidArgumentError when key, nonce or aad has the wrong type or size
 * @example const sealed = seal(key, nonce, Buffer.from('hi'), aad);
 */
export function seal(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  return encrypt(key, nonce, plaintext, aad, false);
}

/** AES-256-GCM encryption: `[nonce ‖] ciphertext ‖ tag`, assembled with a single copy. */
function encrypt(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer, withNonce: boolean): Buffer {
  const { ciphertext, tag } = sealParts(key, plaintext, aad, nonce);
  const length = (withNonce ? NONCE_BYTES : 0) + ciphertext.length + TAG_BYTES;
  return Buffer.concat(withNonce ? [nonce, ciphertext, tag] : [ciphertext, tag], length);
}

/** The parts of one AES-256-GCM encryption, not assembled. */
export interface SealedParts {
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Encrypts under a fresh random nonce like {@link sealPacked}, but leaves the parts apart, so a
 * caller that encodes them anyway needs no copy of a large ciphertext.
 * @throws InvalidArgumentError when key, nonce or aad has the wrong type or size
 */
export function sealParts(key: Buffer, plaintext: Buffer, aad: Buffer, nonce: Buffer = randomNonce()): SealedParts {
  checkInputs(key, nonce, aad);
  needs(Buffer.isBuffer(plaintext), 'plaintext', 'must be a Buffer');
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final(); // empty for GCM, a stream mode; kept for correctness whatever the build
  return { nonce, ciphertext: tail.length === 0 ? head : Buffer.concat([head, tail]), tag: cipher.getAuthTag() };
}

/**
 * Encrypts like {@link sealParts}, handing the ciphertext to `onPiece` as it comes out of the
 * cipher (pieces of at most `pieceBytes` of plaintext at a time), so that a large value never
 * needs a buffer holding its whole ciphertext.
 * @returns the tag
 * @throws InvalidArgumentError when key, nonce or aad has the wrong type or size
 */
export function sealPieces(
  key: Buffer,
  plaintext: Buffer,
  aad: Buffer,
  nonce: Buffer,
  pieceBytes: number,
  onPiece: (ciphertext: Buffer) => void,
): Buffer {
  checkInputs(key, nonce, aad);
  needs(Buffer.isBuffer(plaintext), 'plaintext', 'must be a Buffer');
  needs(Number.isSafeInteger(pieceBytes) && pieceBytes > 0, 'pieceBytes', 'must be a positive integer');
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  for (let start = 0; start < plaintext.length; start += pieceBytes) {
    const piece = cipher.update(plaintext.subarray(start, Math.min(start + pieceBytes, plaintext.length)));
    if (piece.length > 0) onPiece(piece);
  }
  const tail = cipher.final();
  if (tail.length > 0) onPiece(tail);
  return cipher.getAuthTag();
}

/**
 * Decrypts and authenticates ciphertext-and-tag produced by {@link seal}.
 * @returns the plaintext, or `null` when authentication fails (wrong key, nonce, aad or tampered
 *   bytes). Callers turn `null` into the typed error that names where the value lives.
 * @throws InvalidArgumentError when key, nonce or aad has the wrong type or size
 */
export function open(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer | null {
  checkInputs(key, nonce, aad);
  needs(Buffer.isBuffer(sealed), 'sealed', 'must be a Buffer');
  if (sealed.length < TAG_BYTES) return null;
  return decrypt(key, nonce, sealed, 0, aad);
}

/** AES-256-GCM decryption of `sealed[from, length − 16)` with the tag that follows; inputs checked. */
function decrypt(key: Buffer, nonce: Buffer, sealed: Buffer, from: number, aad: Buffer): Buffer | null {
  const split = sealed.length - TAG_BYTES;
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(split));
  const head = decipher.update(sealed.subarray(from, split));
  try {
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    head.fill(0);
    return null;
  }
}

/**
 * Encrypts under a fresh random nonce.
 * @returns `nonce ‖ ciphertext ‖ tag` (plaintext length + {@link PACKED_OVERHEAD} bytes)
 */
export function sealPacked(key: Buffer, plaintext: Buffer, aad: Buffer, nonce: Buffer = randomNonce()): Buffer {
  return encrypt(key, nonce, plaintext, aad, true);
}

/**
 * Decrypts `nonce ‖ ciphertext ‖ tag` from {@link sealPacked}.
 * @returns the plaintext, or `null` when the input is too short or fails to authenticate
 */
export function openPacked(key: Buffer, packed: Buffer, aad: Buffer): Buffer | null {
  needs(Buffer.isBuffer(packed), 'packed', 'must be a Buffer');
  if (packed.length < PACKED_OVERHEAD) return null;
  const nonce = packed.subarray(0, NONCE_BYTES);
  checkInputs(key, nonce, aad);
  // On every value read: the ciphertext is sliced once, straight out of the packed buffer.
  return decrypt(key, nonce, packed, NONCE_BYTES, aad);
}
