import { InvalidArgumentError } from './errors';
import { open, openPacked, PACKED_OVERHEAD, randomNonce, seal, sealPacked, sealPieces } from './aead';

const key = Buffer.alloc(32, 1);
const aad = Buffer.from('context');

describe('aead', () => {
  it('round-trips and binds the associated data', () => {
    const packed = sealPacked(key, Buffer.from('hello'), aad);
    expect(packed).toHaveLength(5 + PACKED_OVERHEAD);
    expect(openPacked(key, packed, aad)?.toString()).toBe('hello');
    expect(openPacked(key, packed, Buffer.from('other'))).toBeNull();
    expect(openPacked(Buffer.alloc(32, 2), packed, aad)).toBeNull();
    expect(openPacked(key, packed.subarray(0, PACKED_OVERHEAD - 1), aad)).toBeNull();
  });

  it.each([
    [
      'a 16-byte key',
      () => seal(Buffer.alloc(16), Buffer.alloc(12), Buffer.alloc(0), aad),
      'key must be a Buffer of 32 bytes',
    ],
    ['an 8-byte nonce', () => seal(key, Buffer.alloc(8), Buffer.alloc(0), aad), 'nonce must be a Buffer of 12 bytes'],
    [
      'missing associated data',
      () => seal(key, Buffer.alloc(12), Buffer.alloc(0), undefined as never),
      'aad must be a Buffer',
    ],
    ['a string plaintext', () => seal(key, Buffer.alloc(12), 'x' as never, aad), 'plaintext must be a Buffer'],
    [
      'a string key on open',
      () => open('k' as never, Buffer.alloc(12), Buffer.alloc(16), aad),
      'key must be a Buffer of 32 bytes',
    ],
  ])('refuses %s, naming the argument', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('draws distinct nonces, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(randomNonce().toString('hex'));
    expect(seen.size).toBe(1000);
  });

  it('encrypts the same plaintext differently each time', () => {
    expect(sealPacked(key, Buffer.from('x'), aad)).not.toEqual(sealPacked(key, Buffer.from('x'), aad));
  });

  it.each([1, 5, 16, 4096, 10_000])(
    'sealPieces, %i bytes at a time, gives the ciphertext and tag seal gives',
    (pieceBytes) => {
      const plaintext = Buffer.from(Array.from({ length: 10_007 }, (_, i) => i % 251));
      const nonce = randomNonce();
      const pieces: Buffer[] = [];
      const tag = sealPieces(key, plaintext, aad, nonce, pieceBytes, (piece) => pieces.push(Buffer.from(piece)));
      expect(pieces.every((piece) => piece.length <= pieceBytes)).toBe(true);
      expect(Buffer.concat([...pieces, tag])).toEqual(seal(key, nonce, plaintext, aad));
    },
  );

  it('sealPieces refuses a bad piece size, key or nonce', () => {
    const noop = (): void => undefined;
    expect(() => sealPieces(key, Buffer.from('x'), aad, randomNonce(), 0, noop)).toThrow(InvalidArgumentError);
    expect(() => sealPieces(Buffer.alloc(16), Buffer.from('x'), aad, randomNonce(), 8, noop)).toThrow(
      InvalidArgumentError,
    );
    expect(() => sealPieces(key, Buffer.from('x'), aad, Buffer.alloc(8), 8, noop)).toThrow(InvalidArgumentError);
  });
});
