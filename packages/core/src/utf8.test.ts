import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { decodeUtf8, encodeUtf8, hasWideChar } from './utf8';

const LARGE = 64 * 1024;
// Large strings of each kind the fast path must tell apart; the last is ASCII stored by V8 two bytes a character.
const ascii = 'plain ascii text, digits 0123456789 '.repeat(LARGE / 16);
const kinds: [string, string][] = [
  ['ASCII', ascii],
  ['ASCII and one Latin-1 character', `${ascii}é`],
  ['ASCII and one character above U+00FF whose low byte is ASCII', `Ł${ascii}`],
  ['ASCII and an emoji', `${ascii.slice(0, 1000)}😀${ascii}`],
  ['ASCII held two bytes a character', `Ł${ascii}`.slice(1)],
  ['just under the fast-path size', ascii.slice(0, LARGE - 1)],
  ['exactly the fast-path size', ascii.slice(0, LARGE)],
];

describe('encodeUtf8', () => {
  it.each(kinds)('gives the UTF-8 bytes of %s', (_label, text) => {
    expect(encodeUtf8(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('gives the UTF-8 bytes of any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 50 }), fc.integer({ min: 0, max: 2 }), (text, scale) => {
        const long = text + ascii.slice(0, scale * LARGE);
        expect(encodeUtf8(long).equals(Buffer.from(long, 'utf8'))).toBe(true);
        expect(encodeUtf8(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('decodeUtf8', () => {
  it.each(kinds)('reads back the UTF-8 bytes of %s', (_label, text) => {
    expect(decodeUtf8(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('decodes any bytes as toString("utf8") does, invalid sequences included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (tail, large) => {
        const bytes = Buffer.concat([large ? Buffer.from(ascii) : Buffer.alloc(0), Buffer.from(tail)]);
        expect(decodeUtf8(bytes)).toBe(bytes.toString('utf8'));
      }),
      { numRuns: 200 },
    );
    const random = randomBytes(LARGE * 2);
    expect(decodeUtf8(random)).toBe(random.toString('utf8'));
  });
});

describe('hasWideChar', () => {
  it.each([
    ['', false],
    ['abc', false],
    ['é\u00ff', false],
    ['\u0100', true],
    ['aŁ', true],
    ['😀', true],
    [`Ł${ascii}`.slice(1), false],
  ])('%j → %s', (text, wide) => {
    expect(hasWideChar(text as string)).toBe(wide);
  });
});
