import { AnyNull, DbNull, Decimal, JsonNull } from '@prisma/client/runtime/client';
import { JsonInputError, prismaJsonText } from './json-input';

/** The reason `prismaJsonText(value)` refuses `value` with. */
const refusal = (value: unknown): string => {
  try {
    prismaJsonText(value);
  } catch (e) {
    if (e instanceof JsonInputError) return e.reason;
    throw e;
  }
  throw new Error('not refused');
};

describe('prismaJsonText', () => {
  it('writes JSON null for null and a top-level JsonNull, and a nested null marker as its name', () => {
    expect(prismaJsonText(null)).toBe('null');
    expect(prismaJsonText(JsonNull)).toBe('null');
    expect(prismaJsonText({ a: JsonNull, b: [DbNull, AnyNull] })).toBe('{"a":"JsonNull","b":["DbNull","AnyNull"]}');
  });

  it('writes BigInts as digit strings, Dates as ISO text, byte arrays as base64, Decimals as Prisma does', () => {
    expect(prismaJsonText(12345678901234567890n)).toBe('"12345678901234567890"');
    expect(prismaJsonText({ at: new Date(0), bytes: Buffer.from([1, 2]) })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z","bytes":"AQI="}',
    );
    expect(prismaJsonText(new Decimal('2.50'))).toBe('2.5');
    expect(prismaJsonText([new Decimal('1e-7')])).toBe('["1e-7"]');
  });

  it('uses toJSON results and $type objects as JSON.stringify writes them', () => {
    expect(prismaJsonText({ a: { toJSON: () => ({ b: Buffer.from([1]), c: undefined }) } })).toBe(
      '{"a":{"b":{"type":"Buffer","data":[1]}}}',
    );
    expect(prismaJsonText({ $type: 'x', b: Buffer.from([1]) })).toBe('{"$type":"x","b":{"type":"Buffer","data":[1]}}');
    // with Prisma's replacer: a BigInt its digits, a byte array without toJSON its base64
    expect(prismaJsonText({ a: { toJSON: () => ({ n: -5n, u: new Uint8Array([1, 2]) }) } })).toBe(
      '{"a":{"n":"-5","u":"AQI="}}',
    );
    expect(prismaJsonText({ $type: 'x', n: 2n ** 70n })).toBe('{"$type":"x","n":"1180591620717411303424"}');
  });

  it('lists enumerable keys as for...in does, leaving out undefined values and symbol keys', () => {
    const inherited = Object.create({ up: 1 }, { own: { value: 2, enumerable: true } }) as object;
    expect(JSON.parse(prismaJsonText(inherited))).toEqual({ own: 2, up: 1 });
    expect(prismaJsonText({ a: undefined, [Symbol('s')]: 1, b: NaN })).toBe('{"b":null}');
    expect(prismaJsonText(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
  });

  it('refuses what Prisma refuses, naming no value', () => {
    const sparse: unknown[] = [];
    sparse[1] = 'SECRET-IN-LIST';
    expect(refusal(['SECRET', undefined])).toMatch(/^undefined as a list element/);
    expect(refusal(sparse)).toMatch(/^undefined as a list element/);
    expect(refusal({ f: () => 'SECRET' })).toBe('a function');
    expect(refusal([Symbol('SECRET')])).toBe('a symbol');
    expect(refusal({ d: new Date(Number.NaN) })).toBe('an invalid Date');
    const cycle: Record<string, unknown> = { SECRET: 1 };
    cycle.self = cycle;
    expect(refusal(cycle)).toBe('a cycle');
    const underToJson = { a: { toJSON: () => cycle } };
    expect(refusal(underToJson)).toBe('a cycle under a toJSON result or a $type object');
    for (const value of [['SECRET', undefined], { f: () => 'SECRET' }, cycle, underToJson]) {
      expect(() => prismaJsonText(value)).toThrow(TypeError);
      expect(() => prismaJsonText(value)).not.toThrow(/SECRET/);
    }
  });

  it('serializes a value met twice but not in a cycle', () => {
    const shared = { n: 1 };
    expect(prismaJsonText([shared, { shared }])).toBe('[{"n":1},{"shared":{"n":1}}]');
  });
});
