import { columnCapacity, overCapacity } from './column-capacity';
import type { FieldMeta } from './metadata';

const field = (extra: Partial<FieldMeta>): FieldMeta => ({
  name: 'note',
  dbName: 'note',
  kind: 'scalar',
  type: 'String',
  isList: false,
  isRequired: false,
  isId: false,
  ...extra,
});

describe('columnCapacity', () => {
  it('names a VarChar(n) or Char(n) by its declared length', () => {
    expect(columnCapacity(field({ maxLength: 300 }))).toEqual({
      limit: 300,
      column: 'VarChar(300)',
      larger: '@db.Text',
    });
    expect(columnCapacity(field({ maxLength: 8, fixedLength: 'pads' }))).toEqual({
      limit: 8,
      column: 'Char(8)',
      larger: '@db.Text',
    });
  });

  it('names a MySQL TEXT or binary type by its bytes', () => {
    expect(columnCapacity(field({ maxBytes: 65_535 }))).toEqual({
      limit: 65_535,
      column: 'Text (65535 bytes)',
      larger: '@db.MediumText',
    });
    expect(columnCapacity(field({ maxBytes: 255 }))?.column).toBe('TinyText (255 bytes)');
    expect(columnCapacity(field({ type: 'Bytes', maxBytes: 300 }))?.column).toBe('binary (300 bytes)');
    // The larger type a message suggests: the next size up, never the one the column already has.
    expect(columnCapacity(field({ maxBytes: 255 }))?.larger).toBe('@db.Text');
    expect(columnCapacity(field({ maxBytes: 16_777_215 }))?.larger).toBe('@db.LongText');
    expect(columnCapacity(field({ type: 'Bytes', maxBytes: 65_535 }))?.larger).toBe('@db.MediumBlob');
    expect(columnCapacity(field({ type: 'Bytes', maxBytes: 300 }))?.larger).toBe('@db.Blob');
  });

  it('is undefined for a column that holds any envelope, or no field', () => {
    expect(columnCapacity(field({}))).toBeUndefined();
    expect(columnCapacity(undefined)).toBeUndefined();
  });
});

describe('overCapacity', () => {
  const capacity = columnCapacity(field({ maxLength: 10 }))!;

  it('bounds an envelope, and each envelope of a list alone (not their sum)', () => {
    expect(overCapacity('x'.repeat(10), capacity)).toBe(false);
    expect(overCapacity('x'.repeat(11), capacity)).toBe(true);
    expect(overCapacity(['x'.repeat(10), 'y'.repeat(10)], capacity)).toBe(false);
    expect(overCapacity(['x', 'y'.repeat(11)], capacity)).toBe(true);
    expect(overCapacity([], capacity)).toBe(false);
    expect(overCapacity(Buffer.alloc(11), capacity)).toBe(true);
  });
});
