import { AnyNull, DbNull, JsonNull } from '@prisma/client/runtime/client';
import type { EncryptedFieldMeta } from './metadata';
import { isNullWrite, isPrismaNull, isSealedValue, itemCount, jsonText, typedItems, typedPlain } from './typed-values';

const meta = (type?: EncryptedFieldMeta['type']): EncryptedFieldMeta => ({
  name: 'f',
  dbName: 'f',
  mode: 'strict',
  optional: true,
  ...(type === undefined ? {} : { type }),
});
const isEnvelope = (text: string) => text.startsWith('hfe$');
const isBinary = (bytes: Uint8Array) => bytes[0] === 0x68;

describe('typed values', () => {
  it("recognizes Prisma's null markers by name, and nothing else", () => {
    expect(isPrismaNull(JsonNull, 'JsonNull')).toBe(true);
    expect(isPrismaNull(DbNull, 'DbNull')).toBe(true);
    expect(isPrismaNull(AnyNull)).toBe(true);
    expect(isPrismaNull(DbNull, 'JsonNull')).toBe(false);
    for (const other of [null, undefined, {}, 'DbNull', { _getName: () => 'DbNull' }])
      expect(isPrismaNull(other)).toBe(false);
  });

  it('serializes Json as Prisma does, null and JsonNull as null, and treats only DbNull as SQL NULL for Json', () => {
    expect(jsonText(JsonNull)).toBe('null');
    expect(jsonText(null)).toBe('null');
    expect(jsonText({ a: [1, 'x', null], b: undefined })).toBe('{"a":[1,"x",null]}');
    expect(jsonText('\uD800')).toBe('"\\ud800"');
    expect(() => jsonText(() => 1)).toThrow(TypeError);
    expect(jsonText({ n: 1n })).toBe('{"n":"1"}');
    expect(isNullWrite(meta('Json'), DbNull)).toBe(true);
    expect(isNullWrite(meta('Json'), JsonNull)).toBe(false);
    expect(isNullWrite(meta('Json'), null)).toBe(false);
    expect(isNullWrite(meta('Bytes'), null)).toBe(true);
    expect(isNullWrite(meta(), DbNull)).toBe(false);
  });

  it('decides what is sealed by the field type, never by the value alone', () => {
    expect(isSealedValue(meta('Json'), 'hfe$x', isEnvelope, isBinary)).toBe(true);
    expect(isSealedValue(meta('Json'), { a: 1 }, isEnvelope, isBinary)).toBe(false);
    expect(isSealedValue(meta('Bytes'), new Uint8Array([0x68, 1]), isEnvelope, isBinary)).toBe(true);
    expect(isSealedValue(meta('Bytes'), 'hfe$x', isEnvelope, isBinary)).toBe(false);
    expect(isSealedValue(meta('String[]'), ['hfe$a', 'hfe$b'], isEnvelope, isBinary)).toBe(true);
    expect(isSealedValue(meta('String[]'), ['hfe$a', 'plain'], isEnvelope, isBinary)).toBe(false);
    expect(isSealedValue(meta('String[]'), [], isEnvelope, isBinary)).toBe(true);
  });

  it('binds each list element to its index and the list length, and puts values back together', () => {
    const ctx = { model: 'm', field: 'f', rowId: 'r' };
    const items = typedItems(meta('String[]'), ['hfe$a', 'hfe$b', 'hfe$c'], ctx);
    expect(items.map((item) => [item.ctx.kind, item.ctx.index, item.ctx.count])).toEqual([
      ['list', 0, 3],
      ['list', 1, 3],
      ['list', 2, 3],
    ]);
    expect(itemCount(meta('String[]'), [])).toBe(0);
    expect(typedItems(meta('Json'), 'hfe$j', ctx)[0].ctx.kind).toBe('json');
    expect(typedItems(meta(), 'hfe$s', ctx)[0].ctx).toBe(ctx);
    expect(typedPlain(meta('Json'), ['{"a":[1]}'])).toEqual({ a: [1] });
    expect(typedPlain(meta('Json'), ['null'])).toBeNull();
    expect(typedPlain(meta('String[]'), ['x', 'y'])).toEqual(['x', 'y']);
    const pooled = Buffer.from('abc');
    const bytes = typedPlain(meta('Bytes'), [pooled]) as Uint8Array;
    expect(bytes).toEqual(new Uint8Array([0x61, 0x62, 0x63]));
    expect(Buffer.isBuffer(bytes)).toBe(false);
    // Never a view into a shared pool: the result owns its memory.
    expect(bytes.buffer.byteLength).toBe(3);
  });
});
