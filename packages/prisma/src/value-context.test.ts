import type { EncryptedFieldMeta, ModelMeta } from './metadata';
import { boundField, boundGeneration, boundRowId, delegateName, valueContext } from './value-context';

const model = (bindRowId: boolean, idFields: string[] = ['id']) =>
  ({ name: 'User', dbName: 'users', idFields, bindRowId }) as unknown as ModelMeta;
const field = { name: 'email', dbName: 'email_address' } as unknown as EncryptedFieldMeta;

describe('valueContext and boundRowId', () => {
  it('binds database names, and the row id only where the model binds it', () => {
    expect(valueContext(model(true), field, boundRowId(model(true), { id: 42 }))).toEqual({
      model: 'users',
      field: 'email_address',
      rowId: '42',
    });
    expect(boundRowId(model(false), { id: 42 })).toBeUndefined();
  });

  it('binds no row id for a compound id or a row without its id', () => {
    expect(boundRowId(model(true, ['a', 'b']), { a: 1, b: 2 })).toBeUndefined();
    expect(boundRowId(model(true), { email: 'x' })).toBeUndefined();
    expect(boundRowId(model(true), { id: null })).toBeUndefined();
  });

  it('binds the field @encryption(bind: f) names instead of the id, with its own generation', () => {
    const receipt = {
      ...model(true),
      idGeneration: 'autoincrement',
      bindField: 'publicId',
      bindGeneration: 'cuid',
    } as unknown as ModelMeta;
    expect(boundField(receipt)).toBe('publicId');
    expect(boundGeneration(receipt)).toBe('cuid');
    expect(boundRowId(receipt, { id: 7, publicId: 'c123' })).toBe('c123');
    expect(boundRowId(receipt, { id: 7 })).toBeUndefined();
    const byId = { ...model(true), idGeneration: 'uuid' } as unknown as ModelMeta;
    expect([boundField(byId), boundGeneration(byId)]).toEqual(['id', 'uuid']);
    expect(boundField(model(false))).toBeUndefined();
  });

  it('names the client delegate of a model', () => {
    expect(delegateName('User')).toBe('user');
    expect(delegateName('HushfieldCheckpoint')).toBe('hushfieldCheckpoint');
  });
});
