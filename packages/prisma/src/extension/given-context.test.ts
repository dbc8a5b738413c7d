import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@fieldseal/core';
import type { FieldsealSchema, ModelMeta } from '../metadata';
import { ResultDecryptor } from './decrypt-result';
import { givenContext } from './given-context';
import { OperationHandler, type QueryParams } from './operations';
import { SchemaView } from './schema-view';

const scalar = (name: string) => ({ name, dbName: name, kind: 'scalar' as const, type: 'String', isList: false, isRequired: true, isId: name === 'id' });
const user: ModelMeta = {
  name: 'User', dbName: 'users', idFields: ['id'], idGeneration: 'uuid', bindRowId: true, scopeField: 'tenantId',
  fields: { id: scalar('id'), tenantId: scalar('tenantId'), notes: scalar('notes') },
  encrypted: { notes: { name: 'notes', dbName: 'notes', mode: 'strict', optional: true } },
  blindIndexes: {}, uniqueIndexes: [],
};
const view = new SchemaView({ formatVersion: 1, keyStoreModel: 'K', models: { User: user } } as FieldsealSchema);

describe('givenContext', () => {
  it('takes the id and scope a where names as strings or integers', () => {
    expect(givenContext(view, user, { id: 'u1', tenantId: 't1' }, { notes: 'n' })).toEqual({
      context: { scope: 't1', rowId: 'u1' }, fields: ['id', 'tenantId'],
    });
    expect(givenContext(view, user, { id: 'u1', tenantId: 7 }, { notes: 'n' })?.context).toEqual({ scope: '7', rowId: 'u1' });
  });

  it('gives nothing when the row must be read: id or scope missing, not exact, or a scope move', () => {
    expect(givenContext(view, user, { id: 'u1' }, { notes: 'n' })).toBeUndefined();
    expect(givenContext(view, user, { tenantId: 't1' }, { notes: 'n' })).toBeUndefined();
    expect(givenContext(view, user, { id: { equals: 'u1' }, tenantId: 't1' }, { notes: 'n' })).toBeUndefined();
    expect(givenContext(view, user, { id: 'u1', tenantId: '' }, { notes: 'n' })).toBeUndefined();
    expect(givenContext(view, user, { id: 'u1', tenantId: 't1' }, { notes: 'n', tenantId: 't2' })).toBeUndefined();
    expect(givenContext(view, user, { id: 'u1', tenantId: 't1' }, { notes: 'n', tenantId: { set: 't2' } })).toBeUndefined();
  });
});

describe('an update sealed for the where\'s id', () => {
  it('is re-sealed for the id of the row the database returned, only where it still holds this update\'s value', async () => {
    const crypto = new FieldCrypto({ keyring: new LocalKeyring(randomBytes(32)), keyStore: new MemoryKeyStore(), cache: { ttlMs: 60_000 } });
    const repairs: { where: Record<string, unknown>; data: Record<string, unknown> }[] = [];
    const base = { user: { updateMany: async (args: (typeof repairs)[number]) => (repairs.push(args), { count: 1 }) } };
    const handler = new OperationHandler(view, crypto, new ResultDecryptor(view, crypto, 'throw'), base);
    let sent = '';
    const params: QueryParams = {
      model: 'User', operation: 'update', args: { where: { id: 'u1', tenantId: 't1' }, data: { notes: 'a note' } },
      // the database matched `U1` for `u1` (a case-insensitive collation)
      query: async (args) => {
        sent = (args.data as { notes: string }).notes;
        return { id: 'U1', tenantId: 't1', notes: sent };
      },
    };
    expect(await handler.handle(params)).toEqual({ id: 'U1', tenantId: 't1', notes: 'a note' });
    expect(repairs).toHaveLength(1);
    expect(repairs[0].where).toEqual({ id: 'U1', tenantId: 't1', notes: sent });
    const resealed = repairs[0].data.notes as string;
    expect(await crypto.decrypt(resealed, { model: 'users', field: 'notes', rowId: 'U1' })).toBe('a note');
    await expect(crypto.decrypt(sent, { model: 'users', field: 'notes', rowId: 'U1' })).rejects.toThrow();
  });

  it('is left alone when the returned row is the one the where named', async () => {
    const crypto = new FieldCrypto({ keyring: new LocalKeyring(randomBytes(32)), keyStore: new MemoryKeyStore(), cache: { ttlMs: 60_000 } });
    const base = { user: { updateMany: async () => { throw new Error('no repair expected'); } } };
    const handler = new OperationHandler(view, crypto, new ResultDecryptor(view, crypto, 'throw'), base);
    const result = await handler.handle({
      model: 'User', operation: 'update', args: { where: { id: 'u1', tenantId: 't1' }, data: { notes: 'kept' } },
      query: async (args) => ({ id: 'u1', tenantId: 't1', notes: (args.data as { notes: string }).notes }),
    });
    expect(result).toEqual({ id: 'u1', tenantId: 't1', notes: 'kept' });
  });
});
