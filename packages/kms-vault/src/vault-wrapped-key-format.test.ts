import { ciphertextVersion, decodeWrappedKey, encodeWrappedKey } from './wrapped-key-format';

const ciphertext = 'vault:v12:' + Buffer.alloc(60, 7).toString('base64');

describe('Vault wrapped key format', () => {
  it('round-trips the key name and ciphertext and reads the key version', () => {
    const decoded = decodeWrappedKey(encodeWrappedKey('hushfield', ciphertext));
    expect(decoded).toEqual({ ok: true, value: { keyName: 'hushfield', ciphertext, keyVersion: 12 } });
  });

  it('reads versions only from well-formed vault:v<N>: prefixes', () => {
    expect(ciphertextVersion('vault:v1:AAAA')).toBe(1);
    for (const bad of [
      'vault:v0:AAAA',
      'vault:v01:AAAA',
      'vault:v:AAAA',
      'vault:vx:AAAA',
      'vault:v1:',
      'vault:v1:AA$A',
      'v1:AAAA',
      'vault:v1234567890:AA',
    ]) {
      expect(ciphertextVersion(bad)).toBeUndefined();
    }
  });

  it('rejects truncated, trailing, foreign and oversized input', () => {
    const good = encodeWrappedKey('k', ciphertext);
    expect(decodeWrappedKey(good.subarray(0, good.length - 1))).toMatchObject({ ok: false });
    expect(decodeWrappedKey(Buffer.concat([good, Buffer.of(0)]))).toMatchObject({
      ok: false,
      reason: 'truncated or trailing bytes',
    });
    expect(decodeWrappedKey(Buffer.from('HFK\x01abc'))).toMatchObject({
      ok: false,
      reason: 'not a Vault Transit wrapped key',
    });
    expect(decodeWrappedKey(Buffer.alloc(0))).toMatchObject({ ok: false });
    expect(() => encodeWrappedKey('', ciphertext)).toThrow(RangeError);
    expect(() => encodeWrappedKey('k', 'not-vault')).toThrow(RangeError);
    expect(() => encodeWrappedKey('k', 'vault:v1:' + 'A'.repeat(5000))).toThrow(RangeError);
  });
});
