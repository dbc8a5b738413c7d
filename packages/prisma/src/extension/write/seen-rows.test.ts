import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '../../metadata';
import { ResultDecryptor } from '../read/decrypt-result';
import { KnownScopes, rememberedContext } from './seen-rows';
import { OperationHandler, type QueryParams } from '../query/operations';
import { SchemaView } from '../schema-view';
import { scalarField as scalar } from '../../metadata.fixture';

const user: ModelMeta = {
  name: 'User',
  dbName: 'users',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  scopeField: 'tenantId',
  fields: { id: scalar('id'), tenantId: scalar('tenantId'), notes: scalar('notes') },
  encrypted: { notes: { name: 'notes', dbName: 'notes', mode: 'strict', optional: true } },
  blindIndexes: {},
  uniqueIndexes: [],
};
const view = new SchemaView({ formatVersion: 1, keyStoreModel: 'K', models: { User: user } } as HushfieldSchema);

describe('rememberedContext', () => {
  const known = new KnownScopes();
  known.remember(user, 'u1', 't1');
  known.remember(user, 'u7', 7);

  it('seals for the remembered id and scope and narrows the where to that scope', () => {
    expect(rememberedContext(view, user, { id: 'u1' }, { notes: 'n' }, known)).toEqual({
      given: { context: { scope: 't1', rowId: 'u1' }, fields: ['id', 'tenantId'] },
      where: { id: 'u1', tenantId: 't1' },
    });
  });

  it('narrows with the scope value as the database returned it (a number for an Int column)', () => {
    const remembered = rememberedContext(view, user, { id: 'u7' }, { notes: 'n' }, known);
    expect(remembered?.where).toEqual({ id: 'u7', tenantId: 7 });
    expect(remembered?.given.context.scope).toBe('7');
  });

  it('narrows beside conditions of its own, leaving them as given', () => {
    expect(
      rememberedContext(view, user, { id: 'u1', AND: { name: 'Ann' }, OR: [{ name: 'Bo' }] }, { notes: 'n' }, known)
        ?.where,
    ).toEqual({ id: 'u1', AND: { name: 'Ann' }, OR: [{ name: 'Bo' }], tenantId: 't1' });
  });

  it('keeps a where that names the remembered scope itself as it is', () => {
    expect(rememberedContext(view, user, { id: 'u1', tenantId: 't1' }, { notes: 'n' }, known)?.where).toEqual({
      id: 'u1',
      tenantId: 't1',
    });
  });

  it('gives nothing when the row must be read: not remembered, another scope named, not exact, or a scope move', () => {
    expect(rememberedContext(view, user, { id: 'u2' }, { notes: 'n' }, known)).toBeUndefined();
    // the caller's scope is never used: another scope (even one differing only in case) is read first
    expect(rememberedContext(view, user, { id: 'u1', tenantId: 'T1' }, { notes: 'n' }, known)).toBeUndefined();
    expect(rememberedContext(view, user, { id: 'u7', tenantId: '7' }, { notes: 'n' }, known)).toBeUndefined();
    expect(rememberedContext(view, user, { id: { equals: 'u1' } }, { notes: 'n' }, known)).toBeUndefined();
    expect(rememberedContext(view, user, { id: 'u1' }, { notes: 'n', tenantId: 't2' }, known)).toBeUndefined();
    expect(rememberedContext(view, user, { id: 'u1' }, { notes: 'n', tenantId: { set: 't2' } }, known)).toBeUndefined();
  });
});

describe("an update sealed for the where's id", () => {
  it("is re-sealed for the id of the row the database returned, only where it still holds this update's value", async () => {
    const crypto = new FieldCrypto({
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 60_000 },
    });
    const repairs: { where: Record<string, unknown>; data: Record<string, unknown> }[] = [];
    const base = { user: { updateMany: async (args: (typeof repairs)[number]) => (repairs.push(args), { count: 1 }) } };
    const handler = new OperationHandler(view, crypto, new ResultDecryptor(view, crypto, 'throw'), base);
    await handler.handle({
      model: 'User',
      operation: 'findUnique',
      args: { where: { id: 'u1' } },
      query: async () => ({ id: 'u1', tenantId: 't1' }),
    });
    let sent = '';
    const params: QueryParams = {
      model: 'User',
      operation: 'update',
      args: { where: { id: 'u1' }, data: { notes: 'a note' } },
      // the database matched `U1` for `u1` (`u1` re-created as `U1` under a case-insensitive collation)
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
    const crypto = new FieldCrypto({
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 60_000 },
    });
    const base = {
      user: {
        updateMany: async () => {
          throw new Error('no repair expected');
        },
      },
    };
    const handler = new OperationHandler(view, crypto, new ResultDecryptor(view, crypto, 'throw'), base);
    await handler.handle({
      model: 'User',
      operation: 'findUnique',
      args: { where: { id: 'u1' } },
      query: async () => ({ id: 'u1', tenantId: 't1' }),
    });
    const result = await handler.handle({
      model: 'User',
      operation: 'update',
      args: { where: { id: 'u1' }, data: { notes: 'kept' } },
      query: async (args) => ({ id: 'u1', tenantId: 't1', notes: (args.data as { notes: string }).notes }),
    });
    expect(result).toEqual({ id: 'u1', tenantId: 't1', notes: 'kept' });
  });
});

const model = (name: string) => ({ name }) as ModelMeta;

describe('KnownScopes', () => {
  it('recalls the scope last remembered for a row of a model, and forgets it', () => {
    const known = new KnownScopes();
    known.remember(model('User'), 'u1', 't1');
    known.remember(model('User'), 'u1', 't2');
    expect(known.recall(model('User'), 'u1')).toBe('t2');
    expect(known.recall(model('Account'), 'u1')).toBeUndefined();
    known.forget(model('User'), 'u1');
    expect(known.recall(model('User'), 'u1')).toBeUndefined();
  });

  it('keeps at most its bound, dropping the least recently remembered row first', () => {
    const known = new KnownScopes(2);
    known.remember(model('User'), 'a', 't');
    known.remember(model('User'), 'b', 't');
    known.remember(model('User'), 'a', 't'); // refreshed: `b` is now the oldest
    known.remember(model('User'), 'c', 't');
    expect(known.recall(model('User'), 'b')).toBeUndefined();
    expect(known.recall(model('User'), 'a')).toBe('t');
    expect(known.recall(model('User'), 'c')).toBe('t');
  });

  it('evicts as a list in recency order would, over thousands of remembers and forgets', () => {
    const known = new KnownScopes(8);
    const recency: [string, number][] = []; // least recently remembered first
    // Park-Miller: its products stay below 2 ** 53, so every step is exact.
    let seed = 7;
    const random = (n: number) => (seed = (seed * 48_271) % 2_147_483_647) % n;
    const ids = Array.from({ length: 30 }, (_, r) => `r${r}`);
    for (let step = 0; step < 5_000; step++) {
      const id = `r${random(30)}`;
      const at = recency.findIndex(([held]) => held === id);
      if (at >= 0) recency.splice(at, 1);
      if (random(5) === 0) {
        known.forget(model('User'), id);
      } else {
        known.remember(model('User'), id, step);
        recency.push([id, step]);
        if (recency.length > 8) recency.shift();
      }
      // One assertion per step: 30 per step took 13 s.
      const expected = ids.map((held) => recency.find(([r]) => r === held)?.[1]);
      expect([step, ids.map((held) => known.recall(model('User'), held))]).toEqual([step, expected]);
    }
  });
});
