import { InvalidArgumentError } from '@hushfield/core';
import { contextParameter, encodeContext } from './context-encoding';

describe('Transit context encoding', () => {
  it('is independent of property order', () => {
    expect(contextParameter({ a: '1', b: '2' })).toBe(contextParameter({ b: '2', a: '1' }));
  });

  it('never gives two contexts one encoding (length prefixes)', () => {
    expect(contextParameter({ ab: 'c' })).not.toBe(contextParameter({ a: 'bc' }));
    expect(contextParameter({ a: '' })).not.toBe(contextParameter({}));
    expect(contextParameter({ scope: 'x', version: '1' })).not.toBe(contextParameter({ scope: 'x', version: '2' }));
  });

  it('matches the documented layout', () => {
    const bytes = encodeContext({ k: 'v' });
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 26]),
      Buffer.from('hushfield/vault-context/v1'),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('k'),
      Buffer.from([0, 0, 0, 1]),
      Buffer.from('v'),
    ]);
    expect(bytes.equals(expected)).toBe(true);
  });

  it('refuses non-string values and oversized contexts, naming the argument', () => {
    expect(() => encodeContext({ version: 1 as never })).toThrow('context.version must be a string');
    expect(() => encodeContext(null as never)).toThrow(InvalidArgumentError);
    expect(() => encodeContext({ big: 'x'.repeat(9000) })).toThrow('at most 8192 bytes');
  });
});
