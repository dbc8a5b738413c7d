import { randomBytes } from 'node:crypto';
import { sealPacked } from './aead';
import { appendSealedValue } from './value-cipher';

describe('appendSealedValue', () => {
  const dek = randomBytes(32);
  const aad = Buffer.from('aad');

  // Around the size from which the parts are encoded apart, at every remainder modulo 3.
  it.each([0, 1, 2, 3, 100, 65_534, 65_535, 65_536, 65_537, 65_538, 65_539, 200_001, 786_390, 786_412, 786_413, 786_414, 1_048_576])(
    'appends a %i-byte value exactly as base64url of nonce ‖ ciphertext ‖ tag', (size) => {
      const plaintext = randomBytes(size);
      const nonce = randomBytes(12);
      const expected = sealPacked(dek, plaintext, aad, Buffer.from(nonce)).toString('base64url');
      expect(appendSealedValue('fse$h$', dek, plaintext, aad, Buffer.from(nonce))).toBe(`fse$h$${expected}`);
    });
});
