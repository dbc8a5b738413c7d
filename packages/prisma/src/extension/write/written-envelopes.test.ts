import { randomBytes } from 'node:crypto';
import { DecryptionError, FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '../../metadata';
import { ResultDecryptor } from '../read/decrypt-result';
import { OperationHandler, type QueryParams } from '../query/operations';
import { SchemaView } from '../schema-view';
import { WrittenEnvelopes } from './written-envelopes';
import { scalarField as scalar } from '../../metadata.fixture';

const strict = (name: string) => ({ name, dbName: name, mode: 'strict' as const, optional: false });
const user: ModelMeta = {
  name: 'User',
  dbName: 'users',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  scopeField: 'tenantId',
  fields: { id: scalar('id'), tenantId: scalar('tenantId'), email: scalar('email'), notes: scalar('notes') },
  encrypted: { email: strict('email'), notes: strict('notes') },
  blindIndexes: {},
  uniqueIndexes: [],
};
const view = new SchemaView({ formatVersion: 1, keyStoreModel: 'K', models: { User: user } } as HushfieldSchema);

function setup() {
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 60_000 },
  });
  const decrypted: string[] = [];
  const decryptMany = crypto.decryptMany.bind(crypto);
  crypto.decryptMany = (items) => {
    decrypted.push(...items.map((item) => item.ctx.field));
    return decryptMany(items);
  };
  const decryptor = new ResultDecryptor(view, crypto, 'throw');
  return { crypto, decrypted, handler: new OperationHandler(view, crypto, decryptor, {}), decryptor };
}

describe('WrittenEnvelopes', () => {
  it('answers only the exact envelope, model, field and row id it recorded', () => {
    const sealed = new WrittenEnvelopes();
    sealed.add('env-1', 'secret', 'users', 'email', 'row-1', 't1');
    expect(sealed.plaintextOf('env-1', 'users', 'email', 'row-1', 't1')).toBe('secret');
    expect(sealed.plaintextOf('env-2', 'users', 'email', 'row-1', 't1')).toBeUndefined();
    expect(sealed.plaintextOf('env-1', 'users', 'notes', 'row-1', 't1')).toBeUndefined();
    expect(sealed.plaintextOf('env-1', 'users', 'email', 'row-2', 't1')).toBeUndefined();
    expect(sealed.plaintextOf('env-1', 'users', 'email', undefined, 't1')).toBeUndefined();
    expect(sealed.plaintextOf('env-1', 'posts', 'email', 'row-1', 't1')).toBeUndefined();
  });

  it('answers a row of another scope only when the read does not check the scope', () => {
    const sealed = new WrittenEnvelopes();
    sealed.add('env-1', 'secret', 'users', 'email', 'row-1', 't1');
    // Decrypting would refuse it for the row's scope: it is decrypted (and refused) instead.
    expect(sealed.plaintextOf('env-1', 'users', 'email', 'row-1', 't2')).toBeUndefined();
    // A model whose reads check no scope (unscoped, or its scopes being migrated).
    expect(sealed.plaintextOf('env-1', 'users', 'email', 'row-1', undefined)).toBe('secret');
  });

  it('keeps only the last of an envelope recorded twice', () => {
    const sealed = new WrittenEnvelopes();
    sealed.add('env-1', 'first', 'users', 'email', 'row-1', 't1');
    sealed.add('env-1', 'second', 'users', 'notes', 'row-1', 't1');
    expect(sealed.size).toBe(1);
    expect(sealed.plaintextOf('env-1', 'users', 'email', 'row-1', 't1')).toBeUndefined();
    expect(sealed.plaintextOf('env-1', 'users', 'notes', 'row-1', 't1')).toBe('second');
  });

  it('answers the same way once it holds more envelopes than it lists (a batch write)', () => {
    const sealed = new WrittenEnvelopes();
    const rows = Array.from({ length: 20 }, (_, i) => `row-${i}`);
    for (const row of rows) {
      sealed.add(`env-${row}-email`, `email of ${row}`, 'users', 'email', row, 't1');
      sealed.add(`env-${row}-notes`, `notes of ${row}`, 'users', 'notes', row, 't1');
    }
    expect(sealed.size).toBe(40);
    for (const row of rows) {
      expect(sealed.plaintextOf(`env-${row}-email`, 'users', 'email', row, 't1')).toBe(`email of ${row}`);
      expect(sealed.plaintextOf(`env-${row}-notes`, 'users', 'notes', row, 't1')).toBe(`notes of ${row}`);
      // The envelope of another field, row or scope of the same write is not answered for this one.
      expect(sealed.plaintextOf(`env-${row}-notes`, 'users', 'email', row, 't1')).toBeUndefined();
      expect(sealed.plaintextOf(`env-${row}-email`, 'users', 'email', 'row-x', 't1')).toBeUndefined();
      expect(sealed.plaintextOf(`env-${row}-email`, 'users', 'email', row, 't2')).toBeUndefined();
    }
    expect(sealed.plaintextOf('env-row-0-email', 'posts', 'email', 'row-0', 't1')).toBeUndefined();
    // Recorded again once in the Map: replaced there too.
    sealed.add('env-row-0-email', 'again', 'users', 'email', 'row-0', 't1');
    expect(sealed.size).toBe(40);
    expect(sealed.plaintextOf('env-row-0-email', 'users', 'email', 'row-0', 't1')).toBe('again');
  });

  it('compares envelopes by content, not by the string object', () => {
    const sealed = new WrittenEnvelopes();
    const envelope = ['hfe$1$key$1$', 'AAAA$', 'BBBB'].join('');
    sealed.add(envelope, 'secret', 'users', 'email', 'row-1', 't1');
    // The database hands back an equal string, not the one that was sent.
    const returned = Buffer.from(envelope, 'latin1').toString('latin1');
    expect(sealed.plaintextOf(returned, 'users', 'email', 'row-1', 't1')).toBe('secret');
    expect(sealed.plaintextOf(`${returned.slice(0, -1)}C`, 'users', 'email', 'row-1', 't1')).toBeUndefined();
  });
});

describe('a write reading back what it sealed', () => {
  const create = (query: QueryParams['query']): QueryParams => ({
    model: 'User',
    operation: 'create',
    args: { data: { tenantId: 't1', email: 'ada@example.com', notes: 'n' } },
    query,
  });

  it('returns the plaintexts of its own envelopes without decrypting them', async () => {
    const { handler, crypto, decrypted } = setup();
    let sent: Record<string, unknown> = {};
    const result = await handler.handle(
      create(async (args) => {
        sent = { ...(args.data as object) };
        return { ...sent };
      }),
    );
    expect(crypto.isEnvelope(sent.email as string)).toBe(true);
    expect(result).toEqual({ id: sent.id, tenantId: 't1', email: 'ada@example.com', notes: 'n' });
    expect(decrypted).toEqual([]);
  });

  it('decrypts an envelope the database returns under another field, and refuses it', async () => {
    const { handler, decrypted } = setup();
    // e.g. a trigger that swapped the two columns: each value is bound to the other field
    const swapped = handler.handle(
      create(async (args) => {
        const data = args.data as Record<string, unknown>;
        return { ...data, email: data.notes, notes: data.email };
      }),
    );
    await expect(swapped).rejects.toBeInstanceOf(DecryptionError);
    expect(decrypted.sort()).toEqual(['email', 'notes']);
  });

  it('decrypts an envelope returned in a row of another scope, and refuses it', async () => {
    const { handler, decrypted } = setup();
    // e.g. a trigger that moved the row to another tenant as it was written
    const moved = handler.handle(create(async (args) => ({ ...(args.data as object), tenantId: 't2' })));
    await expect(moved).rejects.toBeInstanceOf(DecryptionError);
    expect(decrypted.sort()).toEqual(['email', 'notes']);
  });

  it('refuses its own envelopes in a row returned without its scope, as a read would', async () => {
    const { handler, decrypted } = setup();
    const unscoped = handler.handle(create(async (args) => ({ ...(args.data as object), tenantId: null })));
    await expect(unscoped).rejects.toThrow(/tenantId/);
    expect(decrypted).toEqual([]);
  });

  it('decrypts an envelope returned for another row id, and refuses it', async () => {
    const { handler, decrypted } = setup();
    const moved = handler.handle(create(async (args) => ({ ...(args.data as object), id: 'another-row' })));
    await expect(moved).rejects.toBeInstanceOf(DecryptionError);
    expect(decrypted.sort()).toEqual(['email', 'notes']);
  });

  it('still decrypts values of the result that the write did not seal', async () => {
    const { handler, crypto, decrypted } = setup();
    const writer = await crypto.rowEncryptor('t1');
    const stored = writer.encrypt('older notes', { model: 'users', field: 'notes', rowId: 'u1' });
    writer.dispose();
    const update: QueryParams = {
      model: 'User',
      operation: 'upsert',
      args: { where: { id: 'u1' }, create: { id: 'u1', tenantId: 't1', email: 'a@b.c', notes: 'new' }, update: {} },
      query: async (args) => ({ ...(args.create as object), notes: stored }),
    };
    // upsert reads the row's scope first; this handler's base client has none, so stub the read
    (handler as unknown as { reader: { context: () => Promise<unknown> } }).reader.context = async () => ({
      row: { scope: 't1', rowId: 'u1' },
      data: {},
    });
    expect(await handler.handle(update)).toMatchObject({ email: 'a@b.c', notes: 'older notes' });
    expect(decrypted).toEqual(['notes']);
  });
});
