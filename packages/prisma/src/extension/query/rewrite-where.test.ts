import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '../../metadata';
import { WhereRewriter } from './rewrite-where';
import { blindIndexSpec, SchemaView } from '../schema-view';
import { scalarField as scalar } from '../../metadata.fixture';

const person: ModelMeta = {
  name: 'Person',
  dbName: 'people',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  fields: {
    id: scalar('id'),
    org: scalar('org'),
    email: scalar('email'),
    emailIdx: { ...scalar('emailIdx'), dbName: 'email_idx' },
    ssn: scalar('ssn'),
    ssnIdx: scalar('ssnIdx'),
    friend: { ...scalar('friend'), kind: 'object', type: 'Person', isRequired: false, relationModel: 'Person' },
  },
  encrypted: {
    email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
    ssn: { name: 'ssn', dbName: 'ssn', mode: 'strict', optional: true },
  },
  blindIndexes: {
    emailIdx: {
      name: 'emailIdx',
      dbName: 'email_idx',
      source: 'email',
      normalize: ['lowercase'],
      bits: 256,
      unique: false,
      optional: false,
    },
    ssnIdx: {
      name: 'ssnIdx',
      dbName: 'ssnIdx',
      source: 'ssn',
      normalize: ['digits'],
      bits: 16,
      unique: false,
      optional: true,
    },
  },
  uniqueIndexes: [{ name: 'org_emailIdx', fields: ['org', 'emailIdx'] }],
};
const schema: HushfieldSchema = { formatVersion: 1, keyStoreModel: 'HushfieldKey', models: { Person: person } };

describe('WhereRewriter', () => {
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 60_000 },
  });
  const index = (value: string) => crypto.blindIndex(blindIndexSpec(person, person.blindIndexes.emailIdx), value);
  const unique = jest.fn(
    async (_m: ModelMeta, _c: string, candidates: readonly string[]) => candidates[candidates.length - 1],
  );
  const rewriter = () => new WhereRewriter(new SchemaView(schema), crypto, unique);

  it('replaces equality, in, notIn and not on the source or the index column by index values', async () => {
    const a = await index('a@x');
    const b = await index('b@x');
    expect(await rewriter().where(person, { email: 'A@x', org: 'o' }, 'root')).toEqual({ emailIdx: a, org: 'o' });
    expect(await rewriter().where(person, { emailIdx: { in: ['a@x', 'B@x'] } }, 'root')).toEqual({
      emailIdx: { in: [a, b] },
    });
    expect(await rewriter().where(person, { email: { notIn: ['a@x'], not: 'b@x' } }, 'nested')).toEqual({
      emailIdx: { notIn: [a], not: b },
    });
    expect(await rewriter().where(person, { email: { not: { in: ['a@x'] } } }, 'nested')).toEqual({
      emailIdx: { not: { in: [a] } },
    });
  });

  it('keeps null checks on the source column and merges two conditions on one column with AND', async () => {
    const a = await index('a@x');
    expect(await rewriter().where(person, { email: null, ssn: { not: null } }, 'root')).toEqual({
      email: null,
      ssn: { not: null },
    });
    expect(await rewriter().where(person, { email: 'a@x', emailIdx: 'a@x' }, 'root')).toEqual({
      emailIdx: a,
      AND: [{ emailIdx: a }],
    });
  });

  it('rewrites AND/OR/NOT, relation filters and compound unique inputs given by source or index column', async () => {
    const a = await index('a@x');
    const where = {
      OR: [{ email: 'a@x' }],
      NOT: { friend: { is: { email: 'a@x' } } },
      AND: { friend: { email: 'a@x' } },
    };
    expect(await rewriter().where(person, where, 'root')).toEqual({
      OR: [{ emailIdx: a }],
      NOT: { friend: { is: { emailIdx: a } } },
      AND: { friend: { emailIdx: a } },
    });
    expect(await rewriter().where(person, { org_emailIdx: { org: 'o', email: 'a@x' } }, 'uniqueRoot')).toEqual({
      org_emailIdx: { org: 'o', emailIdx: a },
    });
    expect(await rewriter().where(person, { org_emailIdx: { org: 'o', emailIdx: 'a@x' } }, 'uniqueRoot')).toEqual({
      org_emailIdx: { org: 'o', emailIdx: a },
    });
  });

  it('collects truncated conditions only at the root', async () => {
    const root = rewriter();
    await root.where(person, { ssn: '1-2', AND: [{ ssn: { in: ['3'] } }], OR: [{ email: 'a@x' }] }, 'root');
    expect(root.truncated.map((c) => c.values)).toEqual([['1-2'], ['3']]);
    const nested = rewriter();
    await nested.where(person, { friend: { ssn: '1' } }, 'root');
    expect(nested.truncated).toEqual([]);
  });

  it('during an index rotation matches every version, and asks which one a unique input names', async () => {
    const before = await index('a@x');
    await crypto.keys.rotateIndexKey();
    const all = await crypto.blindIndexAll(blindIndexSpec(person, person.blindIndexes.emailIdx), 'a@x');
    expect(all).toHaveLength(2);
    expect(all).toContain(before);
    expect(await rewriter().where(person, { email: 'a@x' }, 'root')).toEqual({ emailIdx: { in: all } });
    expect(await rewriter().where(person, { emailIdx: 'a@x' }, 'uniqueRoot')).toEqual({
      emailIdx: all[all.length - 1],
    });
    expect(unique).toHaveBeenCalledWith(person, 'emailIdx', all, undefined);
    // In a compound unique input the other parts narrow which row's value it names.
    await rewriter().where(person, { org_emailIdx: { org: 'o1', emailIdx: 'a@x' } }, 'uniqueRoot');
    expect(unique).toHaveBeenLastCalledWith(person, 'emailIdx', all, { org: 'o1' });
  });
});
