/**
 * Client-side ids for models whose ciphertext is bound to the row id: the id must be known
 * before the write, so when the caller gives none the extension generates one in the format
 * the schema's `@default(...)` would have produced. Randomness comes from `node:crypto`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IdGeneration } from '../../metadata';
import { nanoidSize } from '../../id-generation';

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const NANOID = 'useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict';
let cuidCounter = randomBytes(2).readUInt16BE(0);

/** `length` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias). */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A ULID: 48-bit millisecond time then 80 random bits, Crockford base32, 26 characters. */
function ulid(): string {
  let time = Date.now();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[time % 32] + head;
    time = Math.floor(time / 32);
  }
  return head + randomString(CROCKFORD, 16);
}

/**
 * A UUID version 7 (RFC 9562, section 5.7): 48-bit big-endian Unix time in milliseconds, then
 * the version and variant bits around 74 random bits, so ids sort by creation time.
 */
function uuid7(): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A cuid (v1 layout): `c`, base36 time (8), counter (4), 12 random base36 characters. */
function cuid(): string {
  cuidCounter = (cuidCounter + 1) % 36 ** 4;
  const time = Date.now().toString(36).padStart(8, '0').slice(-8);
  return `c${time}${cuidCounter.toString(36).padStart(4, '0')}${randomString(BASE36, 12)}`;
}

/**
 * A fresh id for `generation`, or `undefined` when the id cannot be made client-side
 * (`autoincrement`, `database`, `none`).
 */
export function generateRowId(generation: IdGeneration): string | undefined {
  switch (generation) {
    case 'uuid':
      return randomUUID();
    case 'uuid7':
      return uuid7();
    case 'cuid':
      return cuid();
    case 'cuid2':
      return randomString(BASE36.slice(10), 1) + randomString(BASE36, 23);
    case 'ulid':
      return ulid();
    default: {
      // nanoid(), of 21 characters or the size its default names
      const size = nanoidSize(generation);
      return size === undefined ? undefined : randomString(NANOID, size);
    }
  }
}
