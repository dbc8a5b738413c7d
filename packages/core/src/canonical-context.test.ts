import { encodeEncryptionContext } from './canonical-context';
import { InvalidArgumentError } from './errors';

const encode = (context: Record<string, string>) => encodeEncryptionContext('d/v1', context).toString('hex');

describe('encodeEncryptionContext', () => {
  it('is independent of property order', () => {
    expect(encode({ a: '1', b: '2' })).toBe(encode({ b: '2', a: '1' }));
  });

  it('never gives two contexts one encoding, nor two domains', () => {
    const all = [encode({}), encode({ ab: 'c' }), encode({ a: 'bc' }), encode({ a: '' }), encode({ a: '', b: '' })];
    expect(new Set(all).size).toBe(all.length);
    expect(encodeEncryptionContext('other/v1', {}).toString('hex')).not.toBe(encode({}));
  });

  it('matches the documented layout', () => {
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 4]),
      Buffer.from('d/v1'),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('k'),
      Buffer.from([0, 0, 0, 3]), // UTF-8 bytes, not UTF-16 code units
      Buffer.from('vé', 'utf8'),
    ]);
    expect(encodeEncryptionContext('d/v1', { k: 'vé' }).equals(expected)).toBe(true);
  });

  it('refuses non-string values, non-objects and oversized contexts, naming the argument', () => {
    expect(() => encodeEncryptionContext('d', { version: 1 as never })).toThrow('context.version must be a string');
    expect(() => encodeEncryptionContext('d', null as never)).toThrow(InvalidArgumentError);
    expect(() => encodeEncryptionContext('d', [] as never)).toThrow('context must be an object of string values');
    expect(() => encodeEncryptionContext('d', { big: 'x'.repeat(9000) })).toThrow('at most 8192 bytes');
  });
});
