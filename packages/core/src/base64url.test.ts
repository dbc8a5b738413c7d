import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { decodeCanonicalBase64url, decodeCanonicalBase64urlInto, isCanonicalBase64url } from './base64url';

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
  unit: fc.oneof(
    fc.constantFrom(...ALPHABET),
    fc.constantFrom('+', '/', '=', ' ', '\n', '.', '\u00e9', '\u0141', '\ud83d\ude00'),
  ),
  maxLength: 40,
});

describe('decodeCanonicalBase64url', () => {
  it('decodes what Node encodes, for every length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        expect(decodeCanonicalBase64url(text)).toEqual(Buffer.from(bytes));
        expect(decodeCanonicalBase64url(`$${text}$`, 1, text.length + 1)).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('accepts exactly the strings the character-by-character definition accepts', () => {
    fc.assert(
      fc.property(fc.oneof(nearlyBase64url, fc.string({ unit: 'binary', maxLength: 20 })), (text) => {
        expect(isCanonicalBase64url(text)).toBe(canonicalByDefinition(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts exactly what decoding and encoding again gives back, at any offsets', () => {
    const reference = (text: string): Buffer | null => {
      const bytes = Buffer.from(text, 'base64url');
      return bytes.toString('base64url') === text ? bytes : null;
    };
    fc.assert(
      fc.property(
        fc.string({ maxLength: 8 }),
        fc.oneof(nearlyBase64url, fc.string({ unit: 'binary', maxLength: 40 })),
        fc.string({ maxLength: 8 }),
        (before, text, after) => {
          const whole = before + text + after;
          expect(decodeCanonicalBase64url(whole, before.length, before.length + text.length)).toEqual(reference(text));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('refuses every character outside the alphabet, wherever it stands', () => {
    const valid = 'QUJDREVG'; // "ABCDEF"
    const wrong: string[] = [];
    const check = (text: string, expected: boolean): void => {
      if ((decodeCanonicalBase64url(text) !== null) !== expected) wrong.push(JSON.stringify(text));
    };
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code);
      const inAlphabet = ALPHABET.includes(char);
      // Last: its unused bits count too (ten characters carry seven bytes and four spare bits).
      check(`${valid}A${char}`, canonicalByDefinition(`${valid}A${char}`));
      for (const at of [0, 3, 5, 7]) {
        // Replaced: the length stays possible, so only the character can make it fail.
        check(valid.slice(0, at) + char + valid.slice(at + 1), inAlphabet);
        // Inserted: nine characters become ten, also a possible length.
        check(`${valid.slice(0, at)}${char}${valid.slice(at)}A`, inAlphabet);
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    ['stray low bits', 'AB'],
    ['stray low bits after two bytes', 'AAB'],
    ['padding', 'AA=='],
    ['the standard alphabet', 'ab+/'],
    ['whitespace', 'AAAA AAAA'],
    ['an impossible length', 'AAAAA'],
    ['a non-ASCII character', 'AAA\u00c0'],
    ['a character whose low byte is in the alphabet (Node decodes U+0141 as "A")', 'AAA\u0141'],
    ['a character whose low byte is in the alphabet, mid-string', 'QU\u0144DREVG'],
    ['a character that Node skips', 'AAA\u0000AAAA'],
    ['"+" in place of "-"', 'AAA+'],
    ['"/" in place of "_"', 'AAA/'],
    ['"=" in the middle', 'AA=AAAAA'],
    ['one character', 'A'],
    ['one character past a group', 'AAAAB'],
    ['a character past a group whose bits would fit', 'AAAAA'],
  ])('refuses %s', (_label, text) => {
    expect(decodeCanonicalBase64url(text)).toBeNull();
    expect(decodeCanonicalBase64url(`AAAA${text}AAAA`, 4, 4 + text.length)).toBeNull();
  });

  it('decodes the empty string to no bytes', () => {
    expect(decodeCanonicalBase64url('')).toEqual(Buffer.alloc(0));
    expect(decodeCanonicalBase64url('$$', 1, 1)).toEqual(Buffer.alloc(0));
  });

  it('refuses a large value (decoded piece by piece) with one bad character anywhere', () => {
    const text = Buffer.alloc(300_000, 7).toString('base64url');
    expect(decodeCanonicalBase64url(text)?.length).toBe(300_000);
    // Either side of the 65,536-character pieces, inside one, and in the last.
    for (const bad of ['+', '/', '=', ' ', '.', '\u0000', '\u00e9', '\u0141', '\u0144']) {
      for (const at of [0, 1, 65_535, 65_536, 65_537, 123_457, 262_144, text.length - 2]) {
        expect(decodeCanonicalBase64url(text.slice(0, at) + bad + text.slice(at + 1))).toBeNull();
        expect(decodeCanonicalBase64url(`${text.slice(0, at)}${bad}${text.slice(at)}AA`)).toBeNull();
      }
    }
  });

  it('decodes large values of every length around the piece size, at any offsets', () => {
    for (const bytes of [49_151, 49_152, 49_153, 49_154, 98_304, 98_305, 300_001]) {
      const data = randomBytes(bytes);
      const text = data.toString('base64url');
      expect(decodeCanonicalBase64url(text)).toEqual(data);
      expect(decodeCanonicalBase64url(`$${text}$`, 1, text.length + 1)).toEqual(data);
    }
  });

  it('refuses stray low bits at the end of a large value', () => {
    const text = randomBytes(100_000).toString('base64url'); // 133,334 characters: 4 spare bits
    const withBit = ALPHABET[ALPHABET.indexOf(text[text.length - 1]) | 1];
    expect(decodeCanonicalBase64url(text)).not.toBeNull();
    expect(decodeCanonicalBase64url(text.slice(0, -1) + withBit)).toBeNull();
  });
});

describe('decodeCanonicalBase64urlInto', () => {
  it('accepts and decodes exactly what decodeCanonicalBase64url does, into the given buffer', () => {
    const target = Buffer.alloc(64, 0xee);
    fc.assert(
      fc.property(
        fc.oneof(
          nearlyBase64url,
          fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')),
        ),
        (text) => {
          const into = decodeCanonicalBase64urlInto(`$${text}`, 1, text.length + 1, target);
          const fresh = decodeCanonicalBase64url(text);
          expect(into).toEqual(fresh);
          if (into !== null && into.length > 0 && text.length < 80) expect(into.buffer).toBe(target.buffer);
        },
      ),
    );
  });

  it('decodes into a new buffer when the target is too small', () => {
    const bytes = randomBytes(40);
    const target = Buffer.alloc(8);
    const decoded = decodeCanonicalBase64urlInto(bytes.toString('base64url'), 0, 54, target);
    expect(decoded).toEqual(bytes);
    expect(decoded!.buffer).not.toBe(target.buffer);
  });
});
