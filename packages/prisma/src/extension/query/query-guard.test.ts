import { InvalidArgumentError, UnsupportedQueryError } from '@hushfield/core';
import type { HushfieldSchema, ModelMeta } from '../../metadata';
import { guardQuery } from './query-guard';
import { SchemaView } from '../schema-view';
import { scalarField as field } from '../../metadata.fixture';

const schema: HushfieldSchema = {
  formatVersion: 1,
  keyStoreModel: 'HushfieldKey',
  models: {
    Person: {
      name: 'Person',
      dbName: 'people',
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      fields: {
        id: field('id', { isId: true }),
        email: field('email'),
        emailIdx: field('emailIdx'),
        ssn: field('ssn'),
        ssnIdx: field('ssnIdx'),
        note: field('note'),
        pets: field('pets', { kind: 'object', type: 'Pet', isList: true, relationModel: 'Pet' }),
        memos: field('memos', {
          kind: 'object',
          type: 'Memo',
          isList: true,
          relationModel: 'Memo',
          relationName: 'MemoOwner',
        }),
        // Memos this person wrote: the foreign key does not hold the memo's scope (its owner).
        authored: field('authored', {
          kind: 'object',
          type: 'Memo',
          isList: true,
          relationModel: 'Memo',
          relationName: 'MemoAuthor',
        }),
      },
      encrypted: {
        email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
        ssn: { name: 'ssn', dbName: 'ssn', mode: 'strict', optional: true },
        note: { name: 'note', dbName: 'note', mode: 'strict', optional: true },
      },
      blindIndexes: {
        emailIdx: {
          name: 'emailIdx',
          dbName: 'email_idx',
          source: 'email',
          normalize: [],
          bits: 256,
          unique: true,
          optional: false,
        },
        ssnIdx: {
          name: 'ssnIdx',
          dbName: 'ssn_idx',
          source: 'ssn',
          normalize: [],
          bits: 16,
          unique: false,
          optional: true,
        },
      },
      uniqueIndexes: [],
    },
    Pet: {
      name: 'Pet',
      dbName: 'pets',
      idFields: ['id'],
      idGeneration: 'autoincrement',
      bindRowId: false,
      fields: {
        id: field('id', { isId: true, type: 'Int' }),
        name: field('name'),
        owner: field('owner', { kind: 'object', type: 'Person', relationModel: 'Person' }),
        memo: field('memo', { kind: 'object', type: 'Memo', relationModel: 'Memo', isRequired: false }),
      },
      encrypted: { name: { name: 'name', dbName: 'name', mode: 'strict', optional: false } },
      blindIndexes: {},
      uniqueIndexes: [],
    },
    Memo: {
      name: 'Memo',
      dbName: 'memos',
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      scopeField: 'ownerId',
      scopeRelation: 'owner',
      fields: {
        id: field('id', { isId: true }),
        ownerId: field('ownerId'),
        text: field('text'),
        owner: field('owner', {
          kind: 'object',
          type: 'Person',
          relationModel: 'Person',
          relationName: 'MemoOwner',
          // The owner's team, which the reviewer relation below references too.
          relationFromFields: ['ownerId'],
          relationToFields: ['teamId'],
        }),
        authorId: field('authorId'),
        author: field('author', {
          kind: 'object',
          type: 'Person',
          relationModel: 'Person',
          relationName: 'MemoAuthor',
          relationFromFields: ['authorId'],
          relationToFields: ['id'],
        }),
        // A second relation whose foreign key also holds the scope.
        reviewerId: field('reviewerId'),
        reviewer: field('reviewer', {
          kind: 'object',
          type: 'Person',
          relationModel: 'Person',
          relationFromFields: ['reviewerId', 'ownerId'],
          relationToFields: ['id', 'teamId'],
        }),
      },
      encrypted: { text: { name: 'text', dbName: 'text', mode: 'strict', optional: false } },
      blindIndexes: {
        // Keyed per scope: a lookup must name the owner in the same where.
        textIdx: {
          name: 'textIdx',
          dbName: 'text_idx',
          source: 'text',
          normalize: [],
          bits: 256,
          unique: false,
          optional: false,
          perScope: true,
        },
      },
      uniqueIndexes: [],
    },
  },
};
const view = new SchemaView(schema);
const guard = (model: string, operation: string, args: Record<string, unknown>, batch = false) =>
  guardQuery(view, schema.models[model], operation, args, batch);
const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedQueryError);
    return error as UnsupportedQueryError;
  }
  throw new Error('expected a refusal');
};

describe('guardQuery', () => {
  it('accepts equality, in, notIn, not and null checks through a full-length blind index', () => {
    expect(() =>
      guard('Person', 'findMany', {
        where: { email: 'a', AND: [{ email: { in: ['a'] } }, { email: { notIn: ['b'], not: 'c' } }], note: null },
      }),
    ).not.toThrow();
    expect(() =>
      guard('Person', 'findMany', { where: { OR: [{ emailIdx: 'a' }], NOT: { email: { not: { equals: 'x' } } } } }),
    ).not.toThrow();
  });

  it('names model, field and operation of a refused filter', () => {
    expect(refusal(() => guard('Person', 'findMany', { where: { email: { contains: 'a' } } }))).toMatchObject({
      model: 'Person',
      field: 'email',
      operation: 'contains',
    });
    expect(refusal(() => guard('Person', 'findMany', { where: { note: 'x' } }))).toMatchObject({
      field: 'note',
      operation: 'equals',
    });
    expect(
      refusal(() => guard('Person', 'findMany', { where: { pets: { some: { name: { in: ['rex'] } } } } })),
    ).toMatchObject({ model: 'Pet', field: 'name', operation: 'in' });
  });

  it('reports a blind-index column filter under its source field', () => {
    expect(refusal(() => guard('Person', 'findMany', { where: { emailIdx: { startsWith: 'a' } } }))).toMatchObject({
      field: 'email',
      operation: 'startsWith',
    });
  });

  it('allows truncated-index equality only at the top level of the root where, outside batches', () => {
    expect(() => guard('Person', 'findMany', { where: { ssn: '1', AND: [{ ssn: { in: ['2'] } }] } })).not.toThrow();
    expect(refusal(() => guard('Person', 'findMany', { where: { OR: [{ ssn: '1' }] } }))).toMatchObject({
      field: 'ssn',
    });
    expect(refusal(() => guard('Person', 'findMany', { where: { ssn: { notIn: ['1'] } } }))).toMatchObject({
      operation: 'notIn',
    });
    expect(refusal(() => guard('Person', 'findMany', { where: { ssn: '1' } }, true))).toMatchObject({ field: 'ssn' });
    expect(refusal(() => guard('Person', 'findMany', { cursor: { ssn: '1' } }))).toMatchObject({ field: 'ssn' });
  });

  it('refuses ordering, distinct and aggregates over ciphertext and writes to index columns or bound ids', () => {
    expect(refusal(() => guard('Pet', 'findMany', { orderBy: [{ owner: { email: 'asc' } }] }))).toMatchObject({
      model: 'Person',
      field: 'email',
    });
    expect(refusal(() => guard('Person', 'findMany', { select: { pets: { distinct: ['name'] } } }))).toMatchObject({
      model: 'Pet',
      operation: 'distinct',
    });
    expect(refusal(() => guard('Pet', 'aggregate', { _min: { name: true } }))).toMatchObject({ operation: '_min' });
    expect(refusal(() => guard('Person', 'create', { data: { email: 'a', emailIdx: 'b' } }))).toMatchObject({
      field: 'emailIdx',
      operation: 'set',
    });
    expect(refusal(() => guard('Person', 'update', { where: { id: '1' }, data: { id: '2' } }))).toMatchObject({
      field: 'id',
      operation: 'update',
    });
    expect(() => guard('Person', 'create', { data: { id: '1', email: 'a' } })).not.toThrow();
  });

  it('groups by a per-scope index only where groups cannot span scopes', () => {
    // Equal texts of two owners have different index values: grouping by the index alone splits them.
    for (const args of [{ distinct: ['textIdx'] }, { where: { ownerId: { in: ['p1'] } }, distinct: ['textIdx'] }]) {
      expect(refusal(() => guard('Memo', 'findMany', args))).toMatchObject({
        model: 'Memo',
        field: 'textIdx',
        operation: 'distinct',
      });
    }
    // A field's count in having reveals nothing its column does not; any other condition on it is refused.
    expect(() =>
      guard('Person', 'groupBy', {
        by: ['id'],
        having: { email: { _count: { gt: 1 } }, OR: [{ ssnIdx: { _count: {} } }] },
      }),
    ).not.toThrow();
    for (const having of [
      { email: { _count: { gt: 1 }, equals: 'x' } },
      { email: { _min: { gt: 'a' } } },
      { email: {} },
      { NOT: { emailIdx: 'v1' } },
    ]) {
      expect(refusal(() => guard('Person', 'groupBy', { by: ['id'], having }))).toMatchObject({
        operation: 'groupBy having',
      });
    }
    expect(refusal(() => guard('Memo', 'groupBy', { by: ['textIdx'], _count: true }))).toMatchObject({
      field: 'textIdx',
      operation: 'groupBy by',
    });
    // Along a relation whose foreign key does not hold the scope, one parent's rows span scopes.
    expect(
      refusal(() => guard('Person', 'findMany', { include: { authored: { distinct: ['textIdx'] } } })),
    ).toMatchObject({ model: 'Memo', operation: 'distinct' });
    expect(
      refusal(() => guard('Person', 'findMany', { select: { authored: { where: {}, distinct: ['textIdx'] } } })),
    ).toMatchObject({ model: 'Memo', operation: 'distinct' });
    // Along the scope relation, the rows of one parent share its scope (Prisma's distinct is per parent).
    expect(() => guard('Person', 'findMany', { include: { memos: { distinct: ['textIdx'] } } })).not.toThrow();
    expect(() =>
      guard('Person', 'findMany', { select: { memos: { select: { id: true }, distinct: ['textIdx'] } } }),
    ).not.toThrow();
    // ... nor where the relations are joined into one query (relationLoadStrategy: 'join'),
    expect(
      refusal(() =>
        guard('Person', 'findMany', { relationLoadStrategy: 'join', include: { memos: { distinct: ['textIdx'] } } }),
      ),
    ).toMatchObject({ model: 'Memo', operation: 'distinct' });
    // ... nor at the root.
    expect(refusal(() => guard('Memo', 'findMany', { include: { owner: true }, distinct: ['textIdx'] }))).toMatchObject(
      { model: 'Memo', operation: 'distinct' },
    );
    // With the scope field grouped by too, or one scope given in the where, groups stay within a scope.
    expect(() => guard('Memo', 'findMany', { distinct: ['ownerId', 'textIdx'] })).not.toThrow();
    expect(() => guard('Memo', 'findMany', { where: { ownerId: 'p1' }, distinct: ['textIdx'] })).not.toThrow();
    expect(() => guard('Memo', 'groupBy', { by: ['textIdx', 'ownerId'], _count: true })).not.toThrow();
    expect(() =>
      guard('Memo', 'groupBy', { where: { AND: [{ ownerId: { equals: 'p1' } }] }, by: ['textIdx'], _count: true }),
    ).not.toThrow();
    expect(() =>
      guard('Person', 'findMany', { include: { memos: { where: { ownerId: 'p1' }, distinct: ['textIdx'] } } }),
    ).not.toThrow();
  });

  it('refuses grouping by a per-scope index still migrating from the shared one, even within a scope', () => {
    const migrating: HushfieldSchema = structuredClone(schema);
    const memo = migrating.models.Memo as { blindIndexes: Record<string, { perScope?: true | 'migrating' }> };
    memo.blindIndexes.textIdx.perScope = 'migrating';
    const migratingView = new SchemaView(migrating);
    expect(
      refusal(() =>
        guardQuery(
          migratingView,
          migrating.models.Memo,
          'findMany',
          { where: { ownerId: 'p1' }, distinct: ['textIdx'] },
          false,
        ),
      ),
    ).toMatchObject({ model: 'Memo', field: 'textIdx', operation: 'distinct' });
  });
});

describe('guardQuery: an encrypted String written with set', () => {
  it('refuses { set } beside another key (Prisma refuses it, and sealing would drop the key), naming no value', () => {
    const thrown = (data: Record<string, unknown>) => {
      try {
        guard('Person', 'update', { where: { id: 'p-1' }, data });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const email of [
      { set: 'SECRET@x.io', x: 1 },
      { set: 'SECRET@x.io', equals: 'SECRET@x.io' },
    ]) {
      const error = thrown({ email });
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('Person.email');
      expect(String(error)).not.toContain('SECRET');
    }
    expect(thrown({ email: { set: 'a@x.io', x: undefined } })).toBeUndefined();
    expect(thrown({ email: { set: null } })).toBeUndefined();
  });
});

describe('guardQuery: a to-one relation filter', () => {
  it('reads its direct filters as one where: the scope beside a per-scope lookup counts', () => {
    expect(() => guard('Pet', 'findMany', { where: { memo: { ownerId: 'p1', text: 'x' } } })).not.toThrow();
    expect(() => guard('Pet', 'findMany', { where: { memo: { is: { ownerId: 'p1', text: 'x' } } } })).not.toThrow();
    expect(refusal(() => guard('Pet', 'findMany', { where: { memo: { text: 'x' } } }))).toMatchObject({
      model: 'Memo',
      field: 'text',
    });
  });
});

describe('guardQuery: the scope set through a relation', () => {
  it('refuses an update that connects the row to another scope through the relation', () => {
    const error = refusal(() =>
      guard('Memo', 'update', { where: { id: 'm1' }, data: { owner: { connect: { id: 'p2' } } } }),
    );
    expect(error).toMatchObject({ model: 'Memo', field: 'owner', operation: 'update' });
  });

  it('refuses it through any other relation whose foreign key holds the scope', () => {
    const data = { reviewer: { connect: { id_teamId: { id: 'p3', teamId: 't2' } } } };
    expect(refusal(() => guard('Memo', 'update', { where: { id: 'm1' }, data }))).toMatchObject({
      model: 'Memo',
      field: 'reviewer',
      operation: 'update',
    });
  });

  it('refuses it in updateMany, upsert and a nested update too', () => {
    refusal(() => guard('Memo', 'updateMany', { where: {}, data: { owner: { connect: { id: 'p2' } } } }));
    refusal(() =>
      guard('Memo', 'upsert', {
        where: { id: 'm1' },
        create: { ownerId: 'p1', text: 't' },
        update: { owner: { connect: { id: 'p2' } } },
      }),
    );
    refusal(() =>
      guard('Person', 'update', {
        where: { id: 'p1' },
        data: { memos: { update: { where: { id: 'm1' }, data: { owner: { connect: { id: 'p2' } } } } } },
      }),
    );
  });

  it('allows a nested update of the related row, which links nothing', () => {
    const data = { text: 't', owner: { update: { note: 'n' } } };
    expect(() => guard('Memo', 'update', { where: { id: 'm1' }, data })).not.toThrow();
    const wrapped = { owner: { update: { where: { id: 'p1' }, data: { note: 'n' } } } };
    expect(() => guard('Memo', 'update', { where: { id: 'm1' }, data: wrapped })).not.toThrow();
    // One that changes the referenced field would cascade to the row's scope: still refused.
    const cascading = { owner: { update: { teamId: 't2' } } };
    expect(refusal(() => guard('Memo', 'update', { where: { id: 'm1' }, data: cascading }))).toMatchObject({
      model: 'Memo',
      field: 'ownerId',
    });
    // Beside an operation that links another row, still refused.
    const linking = { owner: { update: { note: 'n' }, connect: { id: 'p2' } } };
    expect(refusal(() => guard('Memo', 'update', { where: { id: 'm1' }, data: linking }))).toMatchObject({
      model: 'Memo',
      field: 'owner',
    });
  });

  it('allows a create that connects the relation (the scope comes from the scope field)', () => {
    expect(() => guard('Memo', 'create', { data: { ownerId: 'p1', text: 't' } })).not.toThrow();
  });
});

describe('guardQuery: a scope column whose referenced field is updated', () => {
  type Action = 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault';
  /** The test schema with both relations whose foreign key holds Memo's scope declaring `onUpdate`. */
  const withOnUpdate = (onUpdate: Action | undefined) => {
    const memo = schema.models.Memo;
    const fields = { ...memo.fields };
    for (const name of ['owner', 'reviewer']) {
      fields[name] = { ...fields[name], ...(onUpdate === undefined ? {} : { relationOnUpdate: onUpdate }) };
    }
    const changed: HushfieldSchema = { ...schema, models: { ...schema.models, Memo: { ...memo, fields } } };
    const changedView = new SchemaView(changed);
    return (model: string, operation: string, args: Record<string, unknown>) =>
      guardQuery(changedView, changed.models[model], operation, args, false);
  };
  const updates: [string, Record<string, unknown>][] = [
    ['update', { where: { id: 'p1' }, data: { teamId: 't2' } }],
    ['updateMany', { where: {}, data: { teamId: { set: 't2' } } }],
    ['upsert', { where: { id: 'p1' }, create: { id: 'p1', teamId: 't1' }, update: { teamId: 't2' } }],
  ];

  it('refuses it when the database would rewrite the scope: Cascade (the default), SetNull, SetDefault', () => {
    for (const onUpdate of [undefined, 'Cascade', 'SetNull', 'SetDefault'] as const) {
      const check = withOnUpdate(onUpdate);
      for (const [operation, args] of updates) {
        expect(refusal(() => check('Person', operation, args))).toMatchObject({ model: 'Memo', field: 'ownerId' });
      }
      // Nested under the memo, through the relation.
      const nested = { where: { id: 'm1' }, data: { owner: { update: { teamId: 't2' } } } };
      expect(refusal(() => check('Memo', 'update', nested))).toMatchObject({ model: 'Memo', field: 'ownerId' });
    }
  });

  it('leaves it to the database when it refuses the update itself: Restrict, NoAction', () => {
    for (const onUpdate of ['Restrict', 'NoAction'] as const) {
      const check = withOnUpdate(onUpdate);
      for (const [operation, args] of updates) expect(() => check('Person', operation, args)).not.toThrow();
    }
  });

  it('refuses it when any relation holding the scope rewrites it, though another restricts', () => {
    const memo = schema.models.Memo;
    const fields = {
      ...memo.fields,
      owner: { ...memo.fields.owner, relationOnUpdate: 'Restrict' as const },
      reviewer: { ...memo.fields.reviewer, relationOnUpdate: 'Cascade' as const },
    };
    const mixed: HushfieldSchema = { ...schema, models: { ...schema.models, Memo: { ...memo, fields } } };
    const mixedView = new SchemaView(mixed);
    const update = { where: { id: 'p1' }, data: { teamId: 't2' } };
    expect(refusal(() => guardQuery(mixedView, mixed.models.Person, 'update', update, false))).toMatchObject({
      model: 'Memo',
    });
  });
});

describe('guardQuery: a bound id that is a foreign key', () => {
  // A profile whose id is its user's: its values are bound to that id.
  const profiles = (onUpdate?: 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault', encrypted = true) => {
    const models: HushfieldSchema['models'] = {
      User: {
        name: 'User',
        dbName: 'users',
        idFields: ['id'],
        idGeneration: 'none',
        bindRowId: false,
        fields: {
          id: field('id', { isId: true }),
          name: field('name'),
          profile: field('profile', {
            kind: 'object',
            type: 'Profile',
            relationModel: 'Profile',
            relationName: 'ProfileUser',
            isRequired: false,
          }),
          posts: field('posts', { kind: 'object', type: 'Post', isList: true, relationModel: 'Post' }),
        },
        encrypted: {},
        blindIndexes: {},
        uniqueIndexes: [],
      },
      Post: {
        name: 'Post',
        dbName: 'posts',
        idFields: ['id'],
        idGeneration: 'autoincrement',
        bindRowId: false,
        fields: {
          id: field('id', { isId: true, type: 'Int' }),
          authorId: field('authorId'),
          author: field('author', {
            kind: 'object',
            type: 'User',
            relationModel: 'User',
            relationFromFields: ['authorId'],
            relationToFields: ['id'],
          }),
        },
        encrypted: {},
        blindIndexes: {},
        uniqueIndexes: [],
      },
      Profile: {
        name: 'Profile',
        dbName: 'profiles',
        idFields: ['id'],
        idGeneration: 'none',
        bindRowId: true,
        fields: {
          id: field('id', { isId: true }),
          bio: field('bio'),
          user: field('user', {
            kind: 'object',
            type: 'User',
            relationModel: 'User',
            relationName: 'ProfileUser',
            relationFromFields: ['id'],
            relationToFields: ['id'],
            ...(onUpdate === undefined ? {} : { relationOnUpdate: onUpdate }),
          }),
        },
        encrypted: encrypted ? { bio: { name: 'bio', dbName: 'bio', mode: 'strict', optional: true } } : {},
        blindIndexes: {},
        uniqueIndexes: [],
      },
    };
    const fkSchema: HushfieldSchema = { formatVersion: 1, keyStoreModel: 'HushfieldKey', models };
    const fkView = new SchemaView(fkSchema);
    return (model: string, operation: string, args: Record<string, unknown>) =>
      guardQuery(fkView, fkSchema.models[model], operation, args, false);
  };

  it('refuses changing the referenced id, which would cascade to the bound id under its values', () => {
    for (const onUpdate of [undefined, 'Cascade', 'SetNull', 'SetDefault'] as const) {
      const check = profiles(onUpdate);
      const error = refusal(() => check('User', 'update', { where: { id: 'u1' }, data: { id: 'u2' } }));
      expect(error).toMatchObject({ model: 'Profile', field: 'id', operation: 'updating User.id' });
      expect(error.message).toContain('read the Profile row through the extension, delete it');
      refusal(() => check('User', 'updateMany', { where: {}, data: { id: { set: 'u2' } } }));
      refusal(() =>
        check('User', 'upsert', { where: { id: 'u1' }, create: { id: 'u1', name: 'n' }, update: { id: 'u2' } }),
      );
      // Nested under the row that references the user.
      refusal(() => check('Post', 'update', { where: { id: 1 }, data: { author: { update: { id: 'u2' } } } }));
      refusal(() =>
        check('Post', 'update', {
          where: { id: 1 },
          data: { author: { update: { data: { id: 'u2' } } } },
        }),
      );
    }
  });

  it('allows it when the database refuses the update itself (Restrict, NoAction), or the child has nothing encrypted', () => {
    for (const onUpdate of ['Restrict', 'NoAction'] as const) {
      expect(() => profiles(onUpdate)('User', 'update', { where: { id: 'u1' }, data: { id: 'u2' } })).not.toThrow();
    }
    expect(() =>
      profiles(undefined, false)('User', 'update', { where: { id: 'u1' }, data: { id: 'u2' } }),
    ).not.toThrow();
    // Other fields of the user are not the profile's id.
    expect(() => profiles()('User', 'update', { where: { id: 'u1' }, data: { name: 'n' } })).not.toThrow();
  });

  it('refuses linking another row through the relation whose foreign key is the bound id, from either side', () => {
    const check = profiles();
    for (const link of [{ connect: { id: 'u2' } }, { create: { id: 'u2', name: 'n' } }, { connectOrCreate: {} }]) {
      expect(refusal(() => check('Profile', 'update', { where: { id: 'u1' }, data: { user: link } }))).toMatchObject({
        model: 'Profile',
        field: 'user',
      });
    }
    refusal(() =>
      check('Profile', 'upsert', {
        where: { id: 'u1' },
        create: { bio: 'b' },
        update: { user: { connect: { id: 'u2' } } },
      }),
    );
    // From the user's side: linking an existing profile gives it the user's id.
    for (const operation of ['create', 'update'] as const) {
      for (const op of ['connect', 'connectOrCreate']) {
        const data = { id: 'u3', profile: { [op]: { where: { id: 'p' }, create: { bio: 'b' } } } };
        expect(refusal(() => check('User', operation, { where: { id: 'u1' }, data }))).toMatchObject({
          model: 'Profile',
          field: 'id',
        });
      }
    }
    // A nested update of the user, a nested create or upsert of the profile link nothing: allowed.
    expect(() =>
      check('Profile', 'update', { where: { id: 'u1' }, data: { bio: 'b', user: { update: { name: 'n' } } } }),
    ).not.toThrow();
    expect(() =>
      check('User', 'update', {
        where: { id: 'u1' },
        data: { profile: { upsert: { create: { bio: 'b' }, update: { bio: 'c' } } } },
      }),
    ).not.toThrow();
    expect(() => check('User', 'create', { data: { id: 'u4', profile: { create: { bio: 'b' } } } })).not.toThrow();
    // Nothing encrypted in the profile: nothing bound to refuse for.
    expect(() =>
      profiles(undefined, false)('Profile', 'update', {
        where: { id: 'u1' },
        data: { user: { connect: { id: 'u2' } } },
      }),
    ).not.toThrow();
  });
});

describe('guardQuery: the cost of the bound-id checks on ordinary writes', () => {
  it('walks no relation back when the related model has no id bound through it (every write naming a relation)', () => {
    const model = (name: string, fields: ModelMeta['fields']): ModelMeta => ({
      name,
      dbName: name.toLowerCase(),
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      fields: { id: field('id', { isId: true }), ...fields },
      encrypted: {},
      blindIndexes: {},
      uniqueIndexes: [],
    });
    const relation = { kind: 'object' as const, relationName: 'NoteOwner' };
    const owner = model('Owner', {
      notes: field('notes', { ...relation, type: 'Note', relationModel: 'Note', isList: true }),
    });
    const note = model('Note', {
      ownerId: field('ownerId'),
      owner: field('owner', {
        ...relation,
        type: 'Owner',
        relationModel: 'Owner',
        relationFromFields: ['ownerId'],
        relationToFields: ['id'],
      }),
    });
    const local: HushfieldSchema = { formatVersion: 1, keyStoreModel: 'K', models: { Owner: owner, Note: note } };
    const view = new SchemaView(local);
    const back = jest.spyOn(view, 'backRelation');
    guardQuery(view, owner, 'update', { where: { id: 'o' }, data: { notes: { connect: { id: 'n' } } } }, false);
    guardQuery(view, note, 'create', { data: { owner: { connect: { id: 'o' } } } }, false);
    expect(back).not.toHaveBeenCalled();
  });
});
