/**
 * Pooled CSPRNG output for the small secrets drawn on every write (per-row DEKs and GCM
 * nonces). A native `randomFillSync` call costs about as much as encrypting a short value, so
 * one call fills a few KiB and each draw copies its slice out and wipes it from the pool: no
 * byte is ever handed out twice, and the pool never keeps a copy of a secret it handed out.
 * (Node's `randomUUID` caches entropy the same way.)
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { needs } from './preconditions';

/** Bytes the shared pool fills per native call. */
export const POOL_BYTES = 4096;

/** A buffer refilled from the CSPRNG when drained; draws are copied out and wiped. */
export class RandomPool {
  readonly #pool: Buffer;
  readonly #fill: (buffer: Buffer) => void;
  #offset: number;

  /**
   * @param pool the buffer to draw through (the pool owns it from now on)
   * @param fill fills a buffer with CSPRNG output; `randomFillSync` unless a test observes it
   */
  constructor(pool: Buffer = Buffer.alloc(POOL_BYTES), fill: (buffer: Buffer) => void = randomFillSync) {
    this.#pool = pool;
    this.#fill = fill;
    this.#offset = pool.length;
  }

  /**
   * `size` fresh random bytes in a new buffer the caller owns.
   * @throws InvalidArgumentError when `size` is not an integer from 1 to the pool size
   */
  draw(size: number): Buffer {
    const pool = this.#pool;
    needs(
      Number.isInteger(size) && size > 0 && size <= pool.length,
      'size',
      `must be an integer from 1 to ${pool.length}`,
    );
    if (pool.length - this.#offset < size) {
      // The unused tail is dropped (wiped by the refill), never combined with fresh bytes.
      this.#fill(pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    const out = Buffer.allocUnsafe(size);
    pool.copy(out, 0, start, start + size);
    pool.fill(0, start, start + size);
    this.#offset = start + size;
    return out;
  }
}

const shared = new RandomPool();

/**
 * `size` fresh CSPRNG bytes (a new buffer, never shared) from the process-wide pool.
 * @throws InvalidArgumentError when `size` is not an integer from 1 to {@link POOL_BYTES}
 */
export function randomSecret(size: number): Buffer {
  return shared.draw(size);
}
