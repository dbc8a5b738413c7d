import { InvalidArgumentError } from '@fieldseal/core';
import { afterWhere, decodeKey, encodeKey, keyWhere } from './walker';

describe('cursor encoding', () => {
  test('round-trips numbers, strings, bigints and dates', () => {
    const key = [42, 'c1b2', 12345678901234567890n, new Date('2026-01-02T03:04:05.000Z')];
    expect(decodeKey(encodeKey(key))).toEqual(key);
  });

  test('rejects a cursor that is not a JSON array, asking for --restart', () => {
    expect(() => decodeKey('{oops')).toThrow(InvalidArgumentError);
    expect(() => decodeKey('{"a":1}')).toThrow(/--restart/);
  });
});

describe('afterWhere', () => {
  test('a single-field key continues strictly after the cursor', () => {
    expect(afterWhere(['id'], [500])).toEqual({ id: { gt: 500 } });
  });

  test('a compound key continues in lexicographic order', () => {
    expect(afterWhere(['a', 'b', 'c'], [1, 'x', 3])).toEqual({
      OR: [{ a: { gt: 1 } }, { a: 1, b: { gt: 'x' } }, { a: 1, b: 'x', c: { gt: 3 } }],
    });
  });

  test('rejects a cursor of the wrong width', () => {
    expect(() => afterWhere(['a', 'b'], [1])).toThrow(InvalidArgumentError);
  });
});

test('keyWhere names every key field', () => {
  expect(keyWhere(['tenant', 'id'], ['t1', 7])).toEqual({ tenant: 't1', id: 7 });
});
