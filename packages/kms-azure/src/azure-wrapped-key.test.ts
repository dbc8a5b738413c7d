import { randomBytes } from 'node:crypto';
import { decodeWrappedKey, encodeWrappedKey, type AzureWrappedKey } from './azure-wrapped-key';

const version = '0123456789abcdef0123456789abcdef';
const sample = (overrides: Partial<AzureWrappedKey> = {}): AzureWrappedKey => ({
  algorithm: 'A256KW',
  keyName: 'hushfield-root',
  keyVersion: version,
  ciphertext: randomBytes(80),
  ...overrides,
});

describe('the stored Azure wrapped-key format', () => {
  it.each([
    ['A256KW', 80],
    ['RSA-OAEP-256', 256],
    ['RSA-OAEP-256', 384],
    ['RSA-OAEP-256', 512],
  ] as const)('round-trips %s with a %i-byte ciphertext', (algorithm, length) => {
    const key = sample({ algorithm, ciphertext: randomBytes(length) });
    const decoded = decodeWrappedKey(encodeWrappedKey(key));
    expect(decoded).toEqual({ ok: true, value: key });
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeWrappedKey(sample({ keyName: 'a/b' }))).toThrow(RangeError);
    expect(() => encodeWrappedKey(sample({ keyVersion: '' }))).toThrow(RangeError);
    expect(() => encodeWrappedKey(sample({ ciphertext: randomBytes(72) }))).toThrow(RangeError);
    expect(() => encodeWrappedKey(sample({ algorithm: 'RSA-OAEP-256', ciphertext: randomBytes(80) }))).toThrow(
      RangeError,
    );
  });

  it('rejects every truncation, trailing bytes, a bad magic or algorithm, and names in the wrong alphabet', () => {
    const bytes = encodeWrappedKey(sample());
    for (let length = 0; length < bytes.length; length++) {
      expect(decodeWrappedKey(bytes.subarray(0, length)).ok).toBe(false);
    }
    expect(decodeWrappedKey(Buffer.concat([bytes, Buffer.of(0)])).ok).toBe(false);
    for (const [at, value] of [
      [0, 0x41],
      [3, 0x02],
      [4, 0x03],
      [6, 0x2f], // '/' in the key name
      [6 + 'hushfield-root'.length + 1, 0x2e], // '.' in the version
    ]) {
      const changed = Buffer.from(bytes);
      changed[at] = value;
      expect(decodeWrappedKey(changed).ok).toBe(false);
    }
    expect(decodeWrappedKey('HFZ' as never)).toEqual({ ok: false, reason: 'too short' });
  });
});
