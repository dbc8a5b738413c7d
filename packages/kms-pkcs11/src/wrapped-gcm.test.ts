import { decodeWrappedGcm, encodeWrappedGcm } from './wrapped-gcm';

describe('wrapped GCM key', () => {
  const iv = Buffer.alloc(12, 1);
  const sealed = Buffer.alloc(48, 2);

  it('frames mechanism, IV and the token output, and parses them back', () => {
    const framed = encodeWrappedGcm(iv, sealed);
    expect(framed.subarray(0, 5)).toEqual(Buffer.from('HFP\x01\x01', 'latin1'));
    expect(decodeWrappedGcm(framed)).toEqual({ ok: true, value: { iv, sealed } });
  });

  it('rejects bad magic, versions, mechanisms, truncation and oversize', () => {
    const framed = encodeWrappedGcm(iv, sealed);
    const reason = (bytes: Buffer) => {
      const result = decodeWrappedGcm(bytes);
      return result.ok ? 'ok' : result.reason;
    };
    expect(reason(Buffer.from('HFK\x01\x01'))).toBe('bad magic');
    expect(reason(Buffer.concat([Buffer.from('HFP\x02\x01'), framed.subarray(5)]))).toBe(
      'unsupported format version 2',
    );
    expect(reason(Buffer.concat([Buffer.from('HFP\x01\x09'), framed.subarray(5)]))).toBe('unsupported mechanism 9');
    expect(reason(framed.subarray(0, 5 + 12 + 16))).toBe('truncated');
    expect(reason(Buffer.concat([framed, Buffer.alloc(4096)]))).toBe('too long');
    expect(() => encodeWrappedGcm(Buffer.alloc(16), sealed)).toThrow('iv must be 12 bytes');
    expect(() => encodeWrappedGcm(iv, Buffer.alloc(16))).toThrow(RangeError);
  });
});
