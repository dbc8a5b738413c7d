/**
 * The floor: the AES-256-GCM calls the design cannot avoid, made directly on `node:crypto`
 * with no envelope, no parsing, no base64, no cache. A value costs one encrypt and one
 * decrypt under its row's data key (DEK); a row costs one DEK wrap (write) and one DEK unwrap
 * (read) under the scope key. Associated data is supplied, as the design requires.
 * hushfield's overhead is stated against this.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Encrypts `plaintext` under `key` with a fresh nonce (drawn here unless given): `nonce ‖ ciphertext ‖ tag`. */
export function bareSeal(
  key: Buffer,
  plaintext: Buffer,
  aad: Buffer,
  nonce: Buffer = randomBytes(NONCE_BYTES),
): Buffer {
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([nonce, body, tail, cipher.getAuthTag()]);
}

/** Decrypts what {@link bareSeal} produced; throws when authentication fails. */
export function bareOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
  const tail = decipher.final();
  return tail.length === 0 ? body : Buffer.concat([body, tail]);
}

/** One row as the floor stores it: the wrapped DEK and each field sealed under the DEK. */
export interface BareRow {
  readonly wrappedDek: Buffer;
  readonly fields: readonly Buffer[];
}

/**
 * Writes a row the bare way: fresh DEK, wrapped under `scopeKey`, each value sealed under it.
 * Values are strings in and out, as in a database column, so UTF-8 conversion is included.
 * @param random - where the DEK and the nonces come from: `randomBytes` per draw unless given
 *   (a pooled source, as hushfield's own, for a fair comparison with it)
 */
export function bareWriteRow(
  scopeKey: Buffer,
  values: readonly string[],
  aad: Buffer,
  random: (bytes: number) => Buffer = randomBytes,
): BareRow {
  const dek = random(32);
  const wrappedDek = bareSeal(scopeKey, dek, aad, random(NONCE_BYTES));
  const fields = values.map((value) => bareSeal(dek, Buffer.from(value, 'utf8'), aad, random(NONCE_BYTES)));
  dek.fill(0);
  return { wrappedDek, fields };
}

/** Reads a row the bare way: one DEK unwrap, then every value opened. */
export function bareReadRow(scopeKey: Buffer, row: BareRow, aad: Buffer): string[] {
  const dek = bareOpen(scopeKey, row.wrappedDek, aad);
  const values = bareReadFields(dek, row, aad);
  dek.fill(0);
  return values;
}

/** Opens every value of a row whose DEK is already unwrapped (what a warm DEK cache leaves). */
export function bareReadFields(dek: Buffer, row: BareRow, aad: Buffer): string[] {
  return row.fields.map((field) => bareOpen(dek, field, aad).toString('utf8'));
}

/** A bare keyed blind index: HMAC-SHA256 of the (already normalized) value, hex. */
export function bareHmac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
