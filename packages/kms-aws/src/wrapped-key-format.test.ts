import fc from 'fast-check';
import { decodeWrappedKey, encodeWrappedKey, MAX_BLOB_BYTES } from './wrapped-key-format';

const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('wrapped-key format', () => {
  it('round-trips a key ARN and a ciphertext blob', () => {
    const blob = Buffer.from([1, 2, 3, 4, 5]);
    const decoded = decodeWrappedKey(encodeWrappedKey(arn, blob));
    expect(decoded).toEqual({ ok: true, value: { keyArn: arn, ciphertext: blob } });
  });

  it('round-trips any blob up to the KMS cap', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_BLOB_BYTES }), (blob) => {
        const decoded = decodeWrappedKey(encodeWrappedKey(arn, blob));
        return decoded.ok && decoded.value.ciphertext.equals(Buffer.from(blob)) && decoded.value.keyArn === arn;
      }),
      { numRuns: 200 },
    );
  });

  it('rejects every deviation with a reason', () => {
    const valid = encodeWrappedKey(arn, Buffer.from([9, 9, 9]));
    const reject = (bytes: Buffer, reason: string): void =>
      expect(decodeWrappedKey(bytes)).toEqual({ ok: false, reason });
    reject(Buffer.concat([Buffer.from('FSX'), valid.subarray(3)]), 'bad magic');
    reject(Buffer.concat([valid.subarray(0, 3), Buffer.from([2]), valid.subarray(4)]), 'unsupported format version 2');
    reject(valid.subarray(0, valid.length - 1), 'truncated ciphertext');
    reject(Buffer.concat([valid, Buffer.from([0])]), 'trailing bytes');
    reject(valid.subarray(0, 10), 'truncated ARN');
    const longArn = Buffer.from(valid);
    longArn.writeUInt16BE(4096, 4);
    reject(longArn, 'ARN length out of range');
    const badArn = Buffer.from(valid);
    badArn[6] = 0x20;
    reject(badArn, 'ARN is not printable ASCII starting with "arn:"');
    const emptyBlob = Buffer.from(valid);
    emptyBlob.writeUInt16BE(0, 6 + arn.length);
    reject(emptyBlob, 'ciphertext length out of range');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const decoded = decodeWrappedKey(Buffer.from(bytes));
        return decoded.ok === false || decoded.value.keyArn.startsWith('arn:');
      }),
      { numRuns: 500 },
    );
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeWrappedKey('alias/hushfield-root-key', Buffer.from([1]))).toThrow(RangeError);
    expect(() => encodeWrappedKey(arn, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encodeWrappedKey(arn, Buffer.alloc(MAX_BLOB_BYTES + 1))).toThrow(RangeError);
  });
});
