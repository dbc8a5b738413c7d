import { contextAad } from './aad';

describe('contextAad', () => {
  it('encodes equal contexts identically and different ones differently', () => {
    expect(contextAad({ a: '1', b: '2' }).equals(contextAad({ b: '2', a: '1' }))).toBe(true);
    const all = [contextAad({}), contextAad({ ab: 'c' }), contextAad({ a: 'bc' }), contextAad({ a: '' })].map((b) =>
      b.toString('hex'),
    );
    expect(new Set(all).size).toBe(4);
    expect(contextAad({}).subarray(4, 31).toString()).toBe('hushfield/pkcs11-aes-gcm/v1');
  });

  it('names a bad context', () => {
    expect(() => contextAad({ version: 2 } as never)).toThrow('context.version must be a string');
  });
});
