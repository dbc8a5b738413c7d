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

/** The time of the last uuid(7) and its counter (see uuid7). */
const uuid7Clock = { ms: -1, counter: 0 };

/**
 * A UUID version 7 (RFC 9562, section 5.7): 48-bit big-endian Unix time in milliseconds, then a
 * 32-bit counter (section 6.2, method 1) and 42 random bits around the version and variant bits.
 * The counter starts at a random value below 2^31 each millisecond and counts up within it, so
 * ids this process makes sort in the order they were made, even within a millisecond or when
 * the clock steps back (the last time is kept until the clock passes it).
 */
function uuid7(): string {
  const bytes = randomBytes(16);
  const now = Date.now();
  if (now > uuid7Clock.ms || uuid7Clock.counter === 0xffffffff) {
    // A new millisecond, or the counter is spent: the next millisecond, borrowed if need be.
    uuid7Clock.ms = now > uuid7Clock.ms ? now : uuid7Clock.ms + 1;
    uuid7Clock.counter = bytes.readUInt32BE(6) >>> 1;
  } else {
    uuid7Clock.counter += 1;
  }
  const { ms, counter } = uuid7Clock;
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >>> 28);
  bytes[7] = (counter >>> 20) & 0xff;
  bytes[8] = 0x80 | ((counter >>> 14) & 0x3f);
  bytes[9] = (counter >>> 6) & 0xff;
  bytes[10] = ((counter << 2) & 0xfc) | (bytes[10] & 0x03);
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
