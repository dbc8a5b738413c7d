/**
 * The bytes `MultiKeyring` stores: one wrapped copy of the key per member keyring, each
 * labelled with the member's keyring id, so unwrapping knows which member made which copy.
 * Parsed with every length and count capped; anything else is rejected.
 *
 * Layout (version 1):
 * ```
 * "HFM"  version(1)=0x01  count(1, 1..16)
 * count × { idLength(u16 BE, 1..512) id(UTF-8)  blobLength(u16 BE, 1..16384) blob }
 * ```
 */

const MAGIC = Buffer.from('HFM', 'ascii');
const FORMAT_VERSION = 0x01;
/** Caps on what one wrapped key may hold. */
export const MAX_MEMBERS = 16;
export const MAX_ID_BYTES = 512;
export const MAX_COPY_BYTES = 16_384;

/** One member's wrapped copy. */
export interface WrappedCopy {
  readonly keyringId: string;
  readonly wrappedKey: Buffer;
}

/** The result of {@link decodeWrappedCopies}: the copies, or why they were rejected. */
export type DecodeCopiesResult =
  { readonly ok: true; readonly copies: readonly WrappedCopy[] } | { readonly ok: false; readonly reason: string };

/**
 * Frames the copies in order.
 * @throws RangeError when a count, id or copy is outside the caps
 */
export function encodeWrappedCopies(copies: readonly WrappedCopy[]): Buffer {
  if (copies.length < 1 || copies.length > MAX_MEMBERS) throw new RangeError(`copies must number 1 to ${MAX_MEMBERS}`);
  const parts: Buffer[] = [MAGIC, Buffer.from([FORMAT_VERSION, copies.length])];
  for (const copy of copies) {
    const id = Buffer.from(copy.keyringId, 'utf8');
    if (id.length < 1 || id.length > MAX_ID_BYTES) throw new RangeError(`keyringId must be 1 to ${MAX_ID_BYTES} bytes`);
    if (copy.wrappedKey.length < 1 || copy.wrappedKey.length > MAX_COPY_BYTES) {
      throw new RangeError(`wrappedKey must be 1 to ${MAX_COPY_BYTES} bytes`);
    }
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const copyLength = Buffer.alloc(2);
    copyLength.writeUInt16BE(copy.wrappedKey.length);
    parts.push(idLength, id, copyLength, copy.wrappedKey);
  }
  return Buffer.concat(parts);
}

/** Parses bytes made by {@link encodeWrappedCopies}; never throws. */
export function decodeWrappedCopies(bytes: Buffer): DecodeCopiesResult {
  const fail = (reason: string): DecodeCopiesResult => ({ ok: false, reason });
  if (!Buffer.isBuffer(bytes)) return fail('not a Buffer');
  if (bytes.length < MAGIC.length + 2 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return fail('bad magic');
  let offset = MAGIC.length;
  const version = bytes[offset++];
  if (version !== FORMAT_VERSION) return fail(`unsupported format version ${version}`);
  const count = bytes[offset++];
  if (count < 1 || count > MAX_MEMBERS) return fail('copy count out of range');
  const copies: WrappedCopy[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (bytes.length < offset + 2) return fail('truncated keyring id length');
    const idLength = bytes.readUInt16BE(offset);
    offset += 2;
    if (idLength < 1 || idLength > MAX_ID_BYTES || bytes.length < offset + idLength + 2)
      return fail('keyring id length out of range');
    const idBytes = bytes.subarray(offset, offset + idLength);
    const keyringId = idBytes.toString('utf8');
    if (!Buffer.from(keyringId, 'utf8').equals(idBytes)) return fail('keyring id is not UTF-8');
    if (seen.has(keyringId)) return fail('duplicate keyring id');
    seen.add(keyringId);
    offset += idLength;
    const copyLength = bytes.readUInt16BE(offset);
    offset += 2;
    if (copyLength < 1 || copyLength > MAX_COPY_BYTES || bytes.length < offset + copyLength)
      return fail('copy length out of range');
    copies.push({ keyringId, wrappedKey: Buffer.from(bytes.subarray(offset, offset + copyLength)) });
    offset += copyLength;
  }
  if (offset !== bytes.length) return fail('trailing bytes');
  return { ok: true, copies };
}
