import fc from 'fast-check';
import { decodeWrappedCopies, encodeWrappedCopies, MAX_MEMBERS } from './multi-keyring-format';

const copies = [
  { keyringId: 'aws-kms:arn:aws:kms:eu-west-1:111122223333:key/a', wrappedKey: Buffer.from([1, 2, 3]) },
  { keyringId: 'local:3f9a1c0e', wrappedKey: Buffer.from([4, 5]) },
];

describe('multi-keyring format', () => {
  it('round-trips labelled copies in order', () => {
    expect(decodeWrappedCopies(encodeWrappedCopies(copies))).toEqual({ ok: true, copies });
  });

  it('rejects truncation, trailing bytes, duplicate ids and bad counts', () => {
    const valid = encodeWrappedCopies(copies);
    expect(decodeWrappedCopies(valid.subarray(0, valid.length - 1))).toEqual({
      ok: false,
      reason: 'copy length out of range',
    });
    expect(decodeWrappedCopies(Buffer.concat([valid, Buffer.from([0])]))).toEqual({
      ok: false,
      reason: 'trailing bytes',
    });
    const duplicate = encodeWrappedCopies([
      copies[0],
      { ...copies[1], keyringId: 'x'.repeat(copies[0].keyringId.length) },
    ]);
    duplicate.write(copies[0].keyringId, duplicate.indexOf('x'.repeat(copies[0].keyringId.length)), 'utf8');
    expect(decodeWrappedCopies(duplicate)).toEqual({ ok: false, reason: 'duplicate keyring id' });
    const zero = Buffer.from(valid);
    zero[4] = 0;
    expect(decodeWrappedCopies(zero)).toEqual({ ok: false, reason: 'copy count out of range' });
    const many = Buffer.from(valid);
    many[4] = MAX_MEMBERS + 1;
    expect(decodeWrappedCopies(many)).toEqual({ ok: false, reason: 'copy count out of range' });
    expect(decodeWrappedCopies(Buffer.from('HFK\x01\x01'))).toEqual({ ok: false, reason: 'bad magic' });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const withMagic = Buffer.concat([Buffer.from('HFM\x01'), Buffer.from(bytes)]);
        return [Buffer.from(bytes), withMagic].every((input) => typeof decodeWrappedCopies(input).ok === 'boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('refuses to encode no copies or too many', () => {
    expect(() => encodeWrappedCopies([])).toThrow(RangeError);
    expect(() =>
      encodeWrappedCopies(
        Array.from({ length: MAX_MEMBERS + 1 }, (_, i) => ({ keyringId: `k${i}`, wrappedKey: Buffer.from([i]) })),
      ),
    ).toThrow(RangeError);
  });
});
