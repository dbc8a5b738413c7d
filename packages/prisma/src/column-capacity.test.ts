import { columnCapacity } from './column-capacity';
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
    expect(columnCapacity(field({ maxLength: 300 }))).toEqual({ limit: 300, column: 'VarChar(300)' });
    expect(columnCapacity(field({ maxLength: 8, fixedLength: 'pads' }))).toEqual({ limit: 8, column: 'Char(8)' });
  });

  it('names a MySQL TEXT or binary type by its bytes', () => {
    expect(columnCapacity(field({ maxBytes: 65_535 }))).toEqual({ limit: 65_535, column: 'Text (65535 bytes)' });
    expect(columnCapacity(field({ maxBytes: 255 }))?.column).toBe('TinyText (255 bytes)');
    expect(columnCapacity(field({ type: 'Bytes', maxBytes: 300 }))?.column).toBe('binary (300 bytes)');
  });

  it('is undefined for a column that holds any envelope, or no field', () => {
    expect(columnCapacity(field({}))).toBeUndefined();
    expect(columnCapacity(undefined)).toBeUndefined();
  });
});
