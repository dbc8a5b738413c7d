import fc from 'fast-check';
import { decodeCanonicalBase64url, isCanonicalBase64url } from './base64url';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The definition, character by character: alphabet only, a possible length, zero unused bits. */
function canonicalByDefinition(text: string): boolean {
  if (text.length % 4 === 1) return false;
  let last = 0;
  for (const char of text) {
    last = ALPHABET.indexOf(char);
    if (last < 0) return false;
  }
  if (text.length % 4 === 2) return (last & 0x0f) === 0;
  if (text.length % 4 === 3) return (last & 0x03) === 0;
  return true;
}

const nearlyBase64url = fc.string({
  unit: fc.oneof(fc.constantFrom(...ALPHABET), fc.constantFrom('+', '/', '=', ' ', '\n', '.', '\u00e9', '\u0141', '\ud83d\ude00')),
  maxLength: 40,
});

describe('decodeCanonicalBase64url', () => {
  it('decodes what Node encodes, for every length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const text = Buffer.from(bytes).toString('base64url');
      expect(decodeCanonicalBase64url(text)).toEqual(Buffer.from(bytes));
      expect(decodeCanonicalBase64url(`$${text}$`, 1, text.length + 1)).toEqual(Buffer.from(bytes));
    }));
  });

  it('accepts exactly the strings the character-by-character definition accepts', () => {
    fc.assert(fc.property(fc.oneof(nearlyBase64url, fc.string({ unit: 'binary', maxLength: 20 })), (text) => {
      expect(isCanonicalBase64url(text)).toBe(canonicalByDefinition(text));
    }), { numRuns: 5000 });
  });

  it.each([
    ['stray low bits', 'AB'],
    ['stray low bits after two bytes', 'AAB'],
    ['padding', 'AA=='],
    ['the standard alphabet', 'ab+/'],
    ['whitespace', 'AAAA AAAA'],
    ['an impossible length', 'AAAAA'],
    ['a non-ASCII character', 'AAA\u00c0'],
  ])('refuses %s', (_label, text) => {
    expect(decodeCanonicalBase64url(text)).toBeNull();
  });
});
