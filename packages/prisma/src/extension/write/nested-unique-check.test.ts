import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { BlindIndexMeta, HushfieldSchema, ModelMeta } from '../../metadata';
import { DataEncryptor } from './encrypt-data';
import { type Args, SchemaView } from '../schema-view';
import { modelMeta, namedRelationField as relation, scalarField as scalar } from '../../metadata.fixture';

const uniqueIndex: BlindIndexMeta = {
  name: 'codeIdx',
  dbName: 'codeIdx',
  source: 'code',
  normalize: [],
  bits: 256,
  unique: true,
  optional: false,
};
/** An unscoped, unbound model under `Owner.<relation>`, with a `@unique` blind index or none. */
const child = (name: string, unique: boolean): ModelMeta =>
  modelMeta(
    name,
    [
      scalar('id'),
      scalar('title'),
      scalar('ownerId'),
      relation('owner', 'Owner', `${name}ToOwner`, [['ownerId'], ['id']]),
    ].concat(unique ? [scalar('code'), scalar('codeIdx')] : []),
    {
      encrypted: unique
        ? { code: { name: 'code', dbName: 'code', mode: 'strict', optional: false } }
        : { title: { name: 'title', dbName: 'title', mode: 'strict', optional: false } },
      blindIndexes: unique ? { codeIdx: uniqueIndex } : {},
    },
  );
const owner = modelMeta(
  'Owner',
  [scalar('id'), relation('notes', 'Note', 'NoteToOwner'), relation('badges', 'Badge', 'BadgeToOwner')],
  { dbName: 'owners' },
);
const note = child('Note', false);
const badge = child('Badge', true);
const view = new SchemaView({
  formatVersion: 1,
  keyStoreModel: 'K',
  models: { Owner: owner, Note: note, Badge: badge },
} as HushfieldSchema);
const crypto = new FieldCrypto({
  keyring: new LocalKeyring(randomBytes(32)),
  keyStore: new MemoryKeyStore(),
  cache: { ttlMs: 60_000 },
});

/** An update of owner `1` with nested writes of every update shape under `relation`. */
async function updateUnder(relation: 'notes' | 'badges', data: Args): Promise<DataEncryptor> {
  const encryptor = new DataEncryptor(
    view,
    crypto,
    async (_model, where) => where,
    async () => ({ scope: 'default' }),
  );
  const writes = {
    [relation]: {
      update: { where: { id: 1 }, data },
      updateMany: { where: { title: 't' }, data },
      upsert: { where: { id: 2 }, create: { title: 't', ...data }, update: data },
    },
  };
  await encryptor.update(
    owner,
    writes,
    { scope: 'default' },
    'update',
    undefined,
    encryptor.updatedRow(owner, { id: 1 }),
  );
  return encryptor;
}

describe('nested updates and the unique check across key versions', () => {
  it("works out no link to the parent row (no walk of the target's fields) for a model without a unique blind index", async () => {
    const back = jest.spyOn(view, 'backRelation');
    const encryptor = await updateUnder('notes', { title: 'x' });
    expect(back).not.toHaveBeenCalled();
    expect(encryptor.updatedNested).toEqual([]);
    back.mockRestore();
  });

  it('keeps each nested update of a unique blind index, with the rows it writes under the parent row', async () => {
    const back = jest.spyOn(view, 'backRelation');
    const encryptor = await updateUnder('badges', { code: 'c-1' });
    expect(back).toHaveBeenCalled();
    back.mockRestore();
    const link = { owner: { is: { id: 1 } } };
    expect(encryptor.updatedNested).toEqual([
      { model: badge, data: { code: 'c-1' }, where: { AND: [{ id: 1 }, link] }, scope: 'default' },
      { model: badge, data: { code: 'c-1' }, where: { AND: [{ title: 't' }, link] }, scope: 'default' },
      { model: badge, data: { code: 'c-1' }, where: { AND: [{ id: 2 }, link] }, scope: 'default' },
    ]);
    // None for a nested update that writes no value of one.
    expect((await updateUnder('badges', { title: 'x' })).updatedNested).toEqual([]);
  });
});
