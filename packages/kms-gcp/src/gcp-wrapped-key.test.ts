import { decodeWrappedKey, encodeWrappedKey, MAX_CIPHERTEXT_BYTES } from './gcp-wrapped-key';

const KEY = 'projects/acme/locations/global/keyRings/r/cryptoKeys/k';
const VERSION = `${KEY}/cryptoKeyVersions/12`;

describe('Cloud KMS wrapped-key format', () => {
  it('round-trips the version name and ciphertext', () => {
    const ciphertext = Buffer.from([1, 2, 3, 4]);
    const decoded = decodeWrappedKey(encodeWrappedKey(VERSION, ciphertext));
    expect(decoded).toEqual({
      ok: true,
      value: { cryptoKey: KEY, version: 12, cryptoKeyVersion: VERSION, ciphertext },
    });
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeWrappedKey(KEY, Buffer.of(1))).toThrow(RangeError);
    expect(() => encodeWrappedKey(VERSION, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encodeWrappedKey(VERSION, Buffer.alloc(MAX_CIPHERTEXT_BYTES + 1))).toThrow(RangeError);
  });

  it('rejects truncation, trailing bytes, another magic and names that are not versions, quoting no bytes', () => {
    const good = encodeWrappedKey(VERSION, Buffer.alloc(40, 7));
    const withName = (name: string) => {
      const raw = Buffer.from(name, 'latin1');
      const framed = Buffer.concat([Buffer.from('HFG\x01', 'latin1'), Buffer.alloc(2), raw, Buffer.from([0, 1, 9])]);
      framed.writeUInt16BE(raw.length, 4);
      return framed;
    };
    const cases: Array<[Buffer, string]> = [
      [good.subarray(0, good.length - 1), 'truncated ciphertext'],
      [Buffer.concat([good, Buffer.of(0)]), 'trailing bytes'],
      [Buffer.concat([Buffer.from('HFK\x01'), good.subarray(4)]), 'not a Cloud KMS wrapped key'],
      [good.subarray(0, 20), 'truncated key version name'],
      [withName(KEY), 'not a CryptoKeyVersion name'],
      [withName(`${KEY}/cryptoKeyVersions/01`), 'not a CryptoKeyVersion name'],
      [withName(`${KEY}/cryptoKeyVersions/1/x`), 'not a CryptoKeyVersion name'],
      [withName(`projects/a b/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1`), 'not a CryptoKeyVersion name'],
    ];
    for (const [bytes, reason] of cases) expect(decodeWrappedKey(bytes)).toEqual({ ok: false, reason });
    expect(decodeWrappedKey('HFG' as never)).toEqual({ ok: false, reason: 'not a Buffer' });
  });
});
