import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore, UnsupportedQueryError } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '../../metadata';
import { guardQuery } from './query-guard';
import { WhereRewriter } from './rewrite-where';
import { scopeOfWhere } from './where-scope';
import { blindIndexSpec, SchemaView } from '../schema-view';
import { scalarField as scalar } from '../../metadata.fixture';

const member: ModelMeta = {
  name: 'Member',
  dbName: 'members',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  scopeField: 'tenantId',
  fields: {
    id: scalar('id'),
    tenantId: scalar('tenantId'),
    email: scalar('email'),
    emailIdx: scalar('emailIdx'),
    phone: scalar('phone'),
    phoneIdx: scalar('phoneIdx'),
    org: scalar('org', { kind: 'object', type: 'Org', relationModel: 'Org' }),
  },
  encrypted: {
    email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
    phone: { name: 'phone', dbName: 'phone', mode: 'strict', optional: true },
  },
  blindIndexes: {
    emailIdx: {
      name: 'emailIdx',
      dbName: 'email_idx',
      source: 'email',
      normalize: ['lowercase@1'],
      bits: 256,
      perScope: true,
      unique: false,
      optional: false,
    },
    phoneIdx: {
      name: 'phoneIdx',
      dbName: 'phone_idx',
      source: 'phone',
      normalize: ['digits@1'],
      bits: 256,
      unique: false,
      optional: true,
    },
  },
  uniqueIndexes: [{ name: 'tenantId_emailIdx', fields: ['tenantId', 'emailIdx'] }],
};
const org: ModelMeta = {
  name: 'Org',
  dbName: 'orgs',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: false,
  fields: {
    id: scalar('id'),
    members: scalar('members', { kind: 'object', type: 'Member', isList: true, relationModel: 'Member' }),
  },
  encrypted: {},
  blindIndexes: {},
  uniqueIndexes: [],
};
const schema: HushfieldSchema = {
  formatVersion: 1,
  keyStoreModel: 'HushfieldKey',
  models: { Member: member, Org: org },
};
const view = new SchemaView(schema);

describe('scopeOfWhere', () => {
  it.each([
    [{ tenantId: 'acme' }, 'acme'],
    [{ tenantId: { equals: 'acme' } }, 'acme'],
    [{ AND: [{ tenantId: 'acme' }] }, 'acme'],
    [{ AND: { AND: [{ tenantId: 'acme' }] } }, 'acme'],
    [{ tenantId_emailIdx: { tenantId: 'acme', emailIdx: 'x' } }, 'acme'],
    [{ tenantId: 7 }, '7'],
    [{ tenantId: { equals: 'acme', mode: 'insensitive' } }, undefined],
    [{ tenantId: { in: ['acme'] } }, undefined],
    [{ OR: [{ tenantId: 'acme' }] }, undefined],
    [{ NOT: { tenantId: 'acme' } }, undefined],
    [{ tenantId: '' }, undefined],
    [{}, undefined],
  ])('%j names %p', (where, scope) => {
    expect(scopeOfWhere(member, where)).toBe(scope);
  });

  it('names nothing on a model without a scope', () => {
    expect(scopeOfWhere(org, { id: 'x' })).toBeUndefined();
  });
});

describe('lookups through a per-scope index', () => {
  const guard = (operation: string, args: object) => () => guardQuery(view, member, operation, args as never);

  it.each<[string, object]>([
    ['an equality with no scope', { where: { email: 'ada@example.com' } }],
    ['the scope under OR only', { where: { OR: [{ tenantId: 'acme' }], email: 'ada@example.com' } }],
    ['the scope in a sibling OR branch', { where: { OR: [{ tenantId: 'acme' }, { email: 'ada@example.com' }] } }],
    ['the scope as an in', { where: { tenantId: { in: ['acme'] }, email: 'ada@example.com' } }],
    ['an in with no scope', { where: { email: { in: ['a@x', 'b@x'] } } }],
    ['a not with no scope', { where: { email: { not: 'a@x' } } }],
    ['the index column with no scope', { where: { emailIdx: 'ada@example.com' } }],
    ['a cursor with no scope', { where: { tenantId: 'acme' }, cursor: { emailIdx: 'ada@example.com' } }],
  ])('are refused before any query: %s', (_label, args) => {
    expect(guard('findMany', args)).toThrow(UnsupportedQueryError);
    expect(guard('findMany', args)).toThrow('the same where must give Member.tenantId one value');
  });

  it('are refused in a relation filter that names the scope only outside it', () => {
    const args = { where: { members: { some: { email: 'ada@example.com' } } } };
    expect(() => guardQuery(view, org, 'findMany', args)).toThrow(UnsupportedQueryError);
    const scoped = { where: { members: { some: { tenantId: 'acme', email: 'ada@example.com' } } } };
    expect(() => guardQuery(view, org, 'findMany', scoped)).not.toThrow();
  });

  it.each<[string, object]>([
    ['the scope beside it', { where: { tenantId: 'acme', email: 'ada@example.com' } }],
    ['the scope in an AND', { where: { AND: [{ tenantId: 'acme' }, { email: 'ada@example.com' }] } }],
    ['the scope around an OR', { where: { tenantId: 'acme', OR: [{ email: 'a@x' }, { email: 'b@x' }] } }],
    ['the scope around a NOT', { where: { tenantId: 'acme', NOT: { email: 'a@x' } } }],
    [
      'each OR branch with its own scope',
      {
        where: {
          OR: [
            { tenantId: 'a', email: 'x' },
            { tenantId: 'b', email: 'y' },
          ],
        },
      },
    ],
    ['a compound unique', { where: { tenantId_emailIdx: { tenantId: 'acme', emailIdx: 'ada@example.com' } } }],
    ['a null check', { where: { email: null } }],
    ['a shared index on the same model', { where: { phone: '555 0100' } }],
  ])('are accepted with %s', (_label, args) => {
    expect(guard('findMany', args)).not.toThrow();
  });

  it('are computed with the scope the where names, and match nothing in a scope without a key', async () => {
    const crypto = new FieldCrypto({
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 60_000 },
    });
    const spec = blindIndexSpec(member, member.blindIndexes.emailIdx);
    const acme = await crypto.blindIndex(spec, 'ada@example.com', 'acme');
    const globex = await crypto.blindIndex(spec, 'ada@example.com', 'globex');
    const rewriter = new WhereRewriter(view, crypto, async () => {
      throw new Error('no side query expected');
    });
    expect(await rewriter.where(member, { tenantId: 'acme', email: 'ADA@example.com' }, 'root')).toEqual({
      tenantId: 'acme',
      emailIdx: acme,
    });
    expect(
      await rewriter.where(member, { OR: [{ tenantId: 'globex', email: 'ada@example.com' }], tenantId: 'x' }, 'root'),
    ).toEqual({ OR: [{ tenantId: 'globex', emailIdx: { in: [] } }], tenantId: 'x' });
    expect(
      await rewriter.where(member, { AND: [{ tenantId: 'globex' }], OR: [{ email: 'ada@example.com' }] }, 'root'),
    ).toEqual({ AND: [{ tenantId: 'globex' }], OR: [{ emailIdx: globex }] });
    expect(
      await rewriter.where(
        member,
        { tenantId_emailIdx: { tenantId: 'acme', emailIdx: 'ada@example.com' } },
        'uniqueRoot',
      ),
    ).toEqual({ tenantId_emailIdx: { tenantId: 'acme', emailIdx: acme } });
    // A scope with no key: nothing matches, no key is created, and a unique input names a value no row holds.
    expect(await rewriter.where(member, { tenantId: 'nobody', email: 'ada@example.com' }, 'root')).toEqual({
      tenantId: 'nobody',
      emailIdx: { in: [] },
    });
    const unique = (await rewriter.where(
      member,
      { tenantId_emailIdx: { tenantId: 'nobody', emailIdx: 'ada@example.com' } },
      'uniqueRoot',
    )) as { tenantId_emailIdx: { emailIdx: string } };
    expect(crypto.describeBlindIndex(unique.tenantId_emailIdx.emailIdx)).toBeNull();
    expect(await crypto.keys.list({ kind: 'scope', scope: 'nobody' })).toEqual([]);
  });
});
