/**
 * Published known-answer tests (test/vectors, see its README for provenance) for every
 * primitive hushfield takes from node:crypto, run through hushfield's own wrappers where one
 * exists.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, seal } from './aead';
import { computeBlindIndex, deriveIndexKey } from './blind-index';
import { InvalidArgumentError } from './errors';
import { encodeFields } from './length-prefixed';

const vectors = (name: string) => JSON.parse(readFileSync(join(__dirname, '../../../test/vectors', name), 'utf8'));
const hex = (text: string) => Buffer.from(text, 'hex');

interface HkdfCase {
  tcId: number;
  ikm: string;
  salt: string;
  info: string;
  length: number;
  prk: string;
  okm: string;
}
interface HmacCase {
  tcId: number;
  key: string;
  data: string;
  mac: string;
  truncatedBits: number;
}
interface GcmCase {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  pt: string;
  ct: string;
  tag: string;
}
interface WycheproofCase {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: string;
}

describe('RFC 5869 HKDF-SHA256', () => {
  const { tests } = vectors('rfc5869-hkdf-sha256.json') as { tests: HkdfCase[] };
  it('has test cases 1 to 3', () => expect(tests.map((t) => t.tcId)).toEqual([1, 2, 3]));
  it.each(tests)('test case $tcId: extract gives the PRK and hkdfSync the OKM', (t) => {
    const salt = t.salt === '' ? Buffer.alloc(32) : hex(t.salt);
    expect(createHmac('sha256', salt).update(hex(t.ikm)).digest('hex')).toBe(t.prk);
    expect(Buffer.from(hkdfSync('sha256', hex(t.ikm), hex(t.salt), hex(t.info), t.length)).toString('hex')).toBe(t.okm);
  });

  it('the blind-index key derivation is HKDF-SHA256 with the documented salt and info', () => {
    const root = hex('0b'.repeat(32));
    const info = encodeFields(['hushfield/blind-index/v1', 'users', 'email_idx', 'email', { u32: 3 }]);
    const expected = Buffer.from(hkdfSync('sha256', root, Buffer.from('hushfield/blind-index'), info, 32));
    expect(deriveIndexKey(root, { model: 'users', field: 'email_idx', name: 'email' }, 3)).toEqual(expected);
  });
});

describe('RFC 4231 HMAC-SHA256', () => {
  const { tests } = vectors('rfc4231-hmac-sha256.json') as { tests: HmacCase[] };
  it('has test cases 1 to 7', () => expect(tests.map((t) => t.tcId)).toEqual([1, 2, 3, 4, 5, 6, 7]));
  it.each(tests)('test case $tcId', (t) => {
    const mac = createHmac('sha256', hex(t.key)).update(hex(t.data)).digest();
    expect(mac.subarray(0, t.truncatedBits / 8).toString('hex')).toBe(t.mac);
  });

  const utf8Cases = tests.filter((t) => Buffer.from(hex(t.data).toString('utf8'), 'utf8').equals(hex(t.data)));
  it.each(utf8Cases)('test case $tcId through the blind-index HMAC and truncation', (t) => {
    const spec = { model: 'm', field: 'f', name: 'n', normalize: [], bits: t.truncatedBits };
    const index = computeBlindIndex(hex(t.key), spec, 1, hex(t.data).toString('utf8'));
    expect(index).toBe(`v1.n1.${hex(t.mac).toString('base64url')}`);
  });
});

describe('AES-256-GCM, McGrew–Viega test cases 13 to 18', () => {
  const { tests } = vectors('gcm-spec-aes256.json') as { tests: GcmCase[] };
  const with96BitIv = tests.filter((t) => t.iv.length === 24);
  const otherIvs = tests.filter((t) => t.iv.length !== 24);
  it('has test cases 13 to 18', () => expect(tests.map((t) => t.tcId)).toEqual([13, 14, 15, 16, 17, 18]));

  it.each(with96BitIv)('test case $tcId: seal gives ciphertext and tag, open gives the plaintext back', (t) => {
    const sealed = seal(hex(t.key), hex(t.iv), hex(t.pt), hex(t.aad));
    expect(sealed.toString('hex')).toBe(t.ct + t.tag);
    expect(open(hex(t.key), hex(t.iv), sealed, hex(t.aad))?.toString('hex')).toBe(t.pt);
  });

  it.each(with96BitIv)('test case $tcId: a flipped tag bit fails to authenticate', (t) => {
    const sealed = hex(t.ct + t.tag);
    sealed[sealed.length - 1] ^= 0x01;
    expect(open(hex(t.key), hex(t.iv), sealed, hex(t.aad))).toBeNull();
  });

  it.each(otherIvs)('test case $tcId: node:crypto matches, and hushfield refuses the IV size', (t) => {
    const cipher = createCipheriv('aes-256-gcm', hex(t.key), hex(t.iv));
    cipher.setAAD(hex(t.aad));
    const ct = Buffer.concat([cipher.update(hex(t.pt)), cipher.final()]);
    expect(ct.toString('hex') + cipher.getAuthTag().toString('hex')).toBe(t.ct + t.tag);
    const decipher = createDecipheriv('aes-256-gcm', hex(t.key), hex(t.iv));
    decipher.setAAD(hex(t.aad));
    decipher.setAuthTag(hex(t.tag));
    expect(Buffer.concat([decipher.update(hex(t.ct)), decipher.final()]).toString('hex')).toBe(t.pt);
    expect(() => seal(hex(t.key), hex(t.iv), hex(t.pt), hex(t.aad))).toThrow(InvalidArgumentError);
    expect(() => seal(hex(t.key), hex(t.iv), hex(t.pt), hex(t.aad))).toThrow('nonce must be a Buffer of 12 bytes');
  });
});

describe('AES-256-GCM, Wycheproof', () => {
  const { tests } = vectors('wycheproof-aes-gcm-256.json') as { tests: WycheproofCase[] };
  const valid = tests.filter((t) => t.result === 'valid');
  const invalid = tests.filter((t) => t.result === 'invalid');
  it('holds valid and tag-failure cases', () => {
    expect(valid.length).toBeGreaterThanOrEqual(2);
    expect(invalid.length).toBeGreaterThanOrEqual(10);
  });
  it.each(valid)('tcId $tcId (valid) encrypts and decrypts exactly', (t) => {
    expect(seal(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad)).toString('hex')).toBe(t.ct + t.tag);
    expect(open(hex(t.key), hex(t.iv), hex(t.ct + t.tag), hex(t.aad))?.toString('hex')).toBe(t.msg);
  });
  it.each(invalid)('tcId $tcId (invalid: $comment) fails to authenticate', (t) => {
    expect(
      seal(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad))
        .subarray(0, t.ct.length / 2)
        .toString('hex'),
    ).toBe(t.ct);
    expect(open(hex(t.key), hex(t.iv), hex(t.ct + t.tag), hex(t.aad))).toBeNull();
  });
});
