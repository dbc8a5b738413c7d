import { randomBytes } from 'node:crypto';
import { sealPacked } from './aead';
import { appendSealedValue } from './value-cipher';

describe('appendSealedValue', () => {
  const dek = randomBytes(32);
  const aad = Buffer.from('aad');

  // Around the size from which values are assembled piece by piece, at every remainder modulo 3,
  // and around a whole number of pieces.
  it.each([
    0,
    1,
    2,
    3,
    100,
    65_534,
    65_535,
    65_536,
    65_537,
    65_538,
    65_539,
    49_152 * 3 - 1,
    49_152 * 3,
    49_152 * 3 + 1,
    200_001,
    1_048_576,
  ])('appends a %i-byte value exactly as base64url of nonce ‖ ciphertext ‖ tag', (size) => {
    const plaintext = randomBytes(size);
    const nonce = randomBytes(12);
    const expected = sealPacked(dek, plaintext, aad, Buffer.from(nonce)).toString('base64url');
    expect(appendSealedValue('hfe$h$', dek, plaintext, aad, Buffer.from(nonce))).toBe(`hfe$h$${expected}`);
  });

  it.each([1, 2, 4, 7, 1000, 65_537])(
    'gives the same envelope encrypting %i bytes at a time (carrying what a piece leaves over)',
    (pieceBytes) => {
      const plaintext = randomBytes(70_001);
      const nonce = randomBytes(12);
      const expected = sealPacked(dek, plaintext, aad, Buffer.from(nonce)).toString('base64url');
      expect(appendSealedValue('h$', dek, plaintext, aad, Buffer.from(nonce), pieceBytes)).toBe(`h$${expected}`);
    },
  );
});
