import { ConfigError } from '@hushfield/core';
import { buildSchema, readSettings, validateSchema } from './build-schema';
import type { DmmfDefault, DmmfDocument, DmmfField, DmmfModel } from './dmmf';
import { idGenerationOf } from './field-declaration';
import { dmmfField, dmmfModel, type FieldInit, keyStoreModel } from './dmmf.fixture';

const field = dmmfField;
const model = dmmfModel;
const keyStore = keyStoreModel;

const doc = (...models: DmmfModel[]): DmmfDocument => ({ datamodel: { models: [...models, keyStore()] } });

const user = (overrides: FieldInit[] = [], extra: Partial<DmmfModel> = {}): DmmfModel => {
  const base: FieldInit[] = [
    { name: 'id', isId: true, default: { name: 'uuid', args: [] } },
    { name: 'tenantId' },
    { name: 'email', documentation: '@encrypted' },
    {
      name: 'emailIdx',
      dbName: 'email_idx',
      isUnique: true,
      documentation: '@blindIndex(source: email, normalize: "lowercase,trim")',
    },
  ];
  const fields = base.filter((f) => !overrides.some((o) => o.name === f.name)).concat(overrides);
  return model('User', fields, { dbName: 'users', documentation: '@encryption(scope: tenantId)', ...extra });
};

function problemsOf(document: DmmfDocument, keyStoreModel?: string): string[] {
  const result = validateSchema(document, { keyStoreModel });
  expect(result.schema).toBeNull();
  return result.problems;
}

describe('buildSchema', () => {
  it('carries perScope: true into the index metadata, and leaves it out otherwise', () => {
    const scoped = buildSchema(
      doc(user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, perScope: true)' }])),
    );
    expect(scoped.models.User.blindIndexes.emailIdx.perScope).toBe(true);
    const migrating = buildSchema(
      doc(user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, perScope: migrating)' }])),
    );
    expect(migrating.models.User.blindIndexes.emailIdx.perScope).toBe('migrating');
    const shared = buildSchema(
      doc(user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, perScope: false)' }])),
    );
    expect('perScope' in shared.models.User.blindIndexes.emailIdx).toBe(false);
  });

  it('records the relation whose foreign key is the scope field, and none when there is no such relation', () => {
    const tenant = model('Tenant', [
      { name: 'id', isId: true },
      { name: 'users', kind: 'object', type: 'User', isList: true },
    ]);
    const withRelation = buildSchema(
      doc(user([{ name: 'tenant', kind: 'object', type: 'Tenant', relationFromFields: ['tenantId'] }]), tenant),
    );
    expect(withRelation.models.User.scopeRelation).toBe('tenant');
    expect(buildSchema(doc(user())).models.User.scopeRelation).toBeUndefined();
  });

  it("records a relation's onUpdate when the schema writes one (a cascade to a bound id is refused at run time)", () => {
    const tenant = model('Tenant', [
      { name: 'id', isId: true },
      { name: 'users', kind: 'object', type: 'User', isList: true },
    ]);
    const relation = (extra: Partial<DmmfField>) =>
      buildSchema(
        doc(
          user([
            {
              name: 'tenant',
              kind: 'object',
              type: 'Tenant',
              relationFromFields: ['tenantId'],
              relationToFields: ['id'],
              ...extra,
            },
          ]),
          tenant,
        ),
      ).models.User.fields.tenant;
    expect(relation({ relationOnUpdate: 'Restrict' })).toMatchObject({ relationOnUpdate: 'Restrict' });
    expect(relation({}).relationOnUpdate).toBeUndefined();
  });

  it('describes models, encrypted fields, blind indexes, scope and ids', () => {
    const schema = buildSchema(doc(user([{ name: 'posts', kind: 'object', type: 'Post', isList: true }])));
    expect(schema.formatVersion).toBe(1);
    expect(schema.keyStoreModel).toBe('HushfieldKey');
    const meta = schema.models.User;
    expect(meta).toMatchObject({
      name: 'User',
      dbName: 'users',
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      scopeField: 'tenantId',
      encrypted: { email: { name: 'email', dbName: 'email', mode: 'strict', optional: false } },
      blindIndexes: {
        emailIdx: {
          name: 'emailIdx',
          dbName: 'email_idx',
          source: 'email',
          normalize: ['lowercase@1', 'trim@1'],
          bits: 256,
          unique: true,
          optional: false,
        },
      },
      uniqueIndexes: [],
    });
    expect(meta.fields.posts).toEqual({
      name: 'posts',
      dbName: 'posts',
      kind: 'object',
      type: 'Post',
      isList: true,
      isRequired: true,
      isId: false,
      relationModel: 'Post',
    });
    expect(meta.fields.emailIdx.dbName).toBe('email_idx');
    expect(schema.models.HushfieldKey.encrypted).toEqual({});
  });

  it('names compound uniques as Prisma names their input', () => {
    const account = model(
      'Account',
      [
        { name: 'id', isId: true, default: { name: 'cuid', args: [] } },
        { name: 'provider' },
        { name: 'externalId', documentation: '@encrypted' },
        { name: 'externalIdIdx', documentation: '@blindIndex(source: externalId)' },
        { name: 'a' },
        { name: 'b' },
      ],
      {
        uniqueIndexes: [
          { name: null, fields: ['provider', 'externalIdIdx'] },
          { name: 'pair', fields: ['a', 'b'] },
        ],
      },
    );
    expect(buildSchema(doc(account)).models.Account.uniqueIndexes).toEqual([
      { name: 'provider_externalIdIdx', fields: ['provider', 'externalIdIdx'] },
      { name: 'pair', fields: ['a', 'b'] },
    ]);
  });

  it('maps the prisma-field-encryption aliases onto the same metadata', () => {
    const legacy = model('Legacy', [
      { name: 'id', type: 'Int', isId: true, default: { name: 'autoincrement', args: [] } },
      { name: 'email', documentation: '@encrypted?mode=readonly' },
      {
        name: 'emailHash',
        isRequired: false,
        isUnique: true,
        documentation: '@encryption:hash(email)?normalize=lowercase&normalize=trim',
      },
      { name: 'cursor', isUnique: true, documentation: '@encryption:cursor' },
    ]);
    const meta = buildSchema(doc(legacy)).models.Legacy;
    expect(meta.encrypted.email.mode).toBe('readonly');
    expect(meta.blindIndexes.emailHash).toMatchObject({
      source: 'email',
      normalize: ['lowercase@1', 'trim@1'],
      bits: 256,
      unique: true,
      optional: true,
    });
    expect(meta.bindRowId).toBe(false);
    expect(meta.idGeneration).toBe('autoincrement');
  });

  it('uses a configured key-store model', () => {
    const document = { datamodel: { models: [keyStore('Keys')] } };
    expect(buildSchema(document, { keyStoreModel: 'Keys' }).keyStoreModel).toBe('Keys');
    expect(problemsOf(document)).toEqual([expect.stringContaining('the key-store model HushfieldKey is missing')]);
  });

  it('throws one ConfigError listing every problem with model and field', () => {
    const bad = user([
      { name: 'age', type: 'Int', documentation: '@encrypted' },
      { name: 'note', documentation: '@encrpyted' },
    ]);
    let thrown: unknown;
    try {
      buildSchema(doc(bad));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe('HUSHFIELD_CONFIG');
    expect((thrown as Error).message).toContain('hushfield: 2 problems in the schema');
    expect((thrown as Error).message).toContain(
      'User.age: @encrypted is only supported on String, String[], Json and Bytes fields, not Int',
    );
    expect((thrown as Error).message).toContain('User.note: unknown annotation @encrpyted');
  });
});

describe('id generation and row binding', () => {
  const idOf = (def: DmmfDefault | undefined, type = 'String') => field({ name: 'id', type, isId: true, default: def });

  it.each<[DmmfDefault | undefined, string]>([
    [{ name: 'uuid', args: [] }, 'uuid'],
    [{ name: 'uuid', args: [4] }, 'uuid'],
    [{ name: 'uuid', args: [7] }, 'uuid7'],
    [{ name: 'cuid', args: [] }, 'cuid'],
    [{ name: 'cuid', args: [1] }, 'cuid'],
    [{ name: 'cuid', args: [2] }, 'cuid2'],
    [{ name: 'ulid', args: [] }, 'ulid'],
    [{ name: 'nanoid', args: [] }, 'nanoid'],
    [{ name: 'nanoid', args: [21] }, 'nanoid'],
    [{ name: 'nanoid', args: [12] }, 'nanoid(12)'],
    [{ name: 'autoincrement', args: [] }, 'autoincrement'],
    [{ name: 'dbgenerated', args: ['gen_random_uuid()'] }, 'database'],
    [{ name: 'sequence', args: [] }, 'database'],
    ['fixed', 'database'],
    [undefined, 'none'],
  ])('reads @default %j as %s', (def, expected) => {
    expect(idGenerationOf(idOf(def))).toBe(expected);
  });

  it.each<[string, DmmfDefault | undefined, string, boolean]>([
    ['client-generated uuid', { name: 'uuid', args: [] }, 'String', true],
    ['cuid2', { name: 'cuid', args: [2] }, 'String', true],
    ['ulid', { name: 'ulid', args: [] }, 'String', true],
    ['nanoid', { name: 'nanoid', args: [] }, 'String', true],
    ['uuid(7)', { name: 'uuid', args: [7] }, 'String', true],
    ['nanoid(12)', { name: 'nanoid', args: [12] }, 'String', true],
    ['caller-supplied String', undefined, 'String', true],
    ['autoincrement', { name: 'autoincrement', args: [] }, 'Int', false],
    ['database-generated', { name: 'dbgenerated', args: ['gen_random_uuid()'] }, 'String', false],
    ['caller-supplied Int', undefined, 'Int', false],
  ])('binds rows for a %s id: %s', (_label, def, type, bound) => {
    const m = model('M', [
      { name: 'id', type, isId: true, default: def },
      { name: 'secret', documentation: '@encrypted' },
    ]);
    expect(buildSchema(doc(m)).models.M.bindRowId).toBe(bound);
  });

  // A 1:1 profile keyed by its user's id: known before the write (given, or the related row's).
  it.each([
    ['Int', 'Int'],
    ['BigInt', 'BigInt'],
    ['String', 'String'],
  ])('binds rows of a %s id that is a foreign key', (_label, type) => {
    const profile = model('Profile', [
      { name: 'id', type, isId: true },
      { name: 'bio', documentation: '@encrypted' },
      { name: 'user', kind: 'object', type: 'Account', relationFromFields: ['id'], relationToFields: ['id'] },
    ]);
    const account = model('Account', [
      { name: 'id', type, isId: true, default: type === 'String' ? undefined : { name: 'autoincrement', args: [] } },
      { name: 'profile', kind: 'object', type: 'Profile', isRequired: false },
    ]);
    expect(buildSchema(doc(profile, account)).models.Profile).toMatchObject({ idGeneration: 'none', bindRowId: true });
    // An Int id that no relation holds stays unbound: its stored values were sealed without it.
    expect(buildSchema(doc(account)).models.Account.bindRowId).toBe(type === 'String');
  });

  it('does not bind rows of a compound primary key', () => {
    const m = model('M', [{ name: 'a' }, { name: 'b' }, { name: 's', documentation: '@encrypted' }], {
      primaryKey: { name: null, fields: ['a', 'b'] },
    });
    expect(buildSchema(doc(m)).models.M).toMatchObject({
      idFields: ['a', 'b'],
      idGeneration: 'none',
      bindRowId: false,
    });
  });
});

describe('@encryption(bind: f)', () => {
  const receipt = (
    publicId: FieldInit,
    documentation = '@encryption(bind: publicId)',
    extra: Partial<DmmfModel> = {},
  ) =>
    model(
      'Receipt',
      [
        { name: 'id', type: 'Int', isId: true, default: { name: 'autoincrement', args: [] } },
        { ...publicId },
        { name: 'payee', documentation: '@encrypted' },
      ],
      { documentation, ...extra },
    );
  const unique = (init: Omit<FieldInit, 'name'> = {}): FieldInit => ({ name: 'publicId', isUnique: true, ...init });

  it.each<[string, FieldInit, string]>([
    ['a client-generated cuid', unique({ default: { name: 'cuid', args: [] } }), 'cuid'],
    ['a client-generated uuid', unique({ default: { name: 'uuid', args: [] } }), 'uuid'],
    ['a value the caller gives', unique(), 'none'],
  ])('binds values to %s', (_label, publicId, generation) => {
    expect(buildSchema(doc(receipt(publicId))).models.Receipt).toMatchObject({
      idGeneration: 'autoincrement',
      bindRowId: true,
      bindField: 'publicId',
      bindGeneration: generation,
    });
  });

  it('takes a Text, VarChar (long enough), Uuid, Citext or MySQL *Text column', () => {
    for (const native of [
      ['Text', []],
      ['VarChar', ['36']],
      ['Citext', []],
      ['LongText', []],
      ['Uuid', []],
    ] as const) {
      const m = receipt(unique({ nativeType: [native[0], [...native[1]]], default: { name: 'uuid', args: [] } }));
      expect(buildSchema(doc(m)).models.Receipt.bindField).toBe('publicId');
    }
  });

  it('takes a one-field @@unique, and scope and bind in one annotation or two', () => {
    const fields: FieldInit = { name: 'publicId', default: { name: 'ulid', args: [] } };
    const compound = { uniqueIndexes: [{ name: null, fields: ['publicId'] }] };
    expect(buildSchema(doc(receipt(fields, undefined, compound))).models.Receipt.bindField).toBe('publicId');
    const scoped = model(
      'Receipt',
      [
        { name: 'id', type: 'Int', isId: true, default: { name: 'autoincrement', args: [] } },
        unique({ default: { name: 'cuid', args: [] } }),
        { name: 'orgId' },
        { name: 'payee', documentation: '@encrypted' },
      ],
      { documentation: '@encryption(scope: orgId, bind: publicId)' },
    );
    expect(buildSchema(doc(scoped)).models.Receipt).toMatchObject({ scopeField: 'orgId', bindField: 'publicId' });
    const twoLines = { ...scoped, documentation: '@encryption(scope: orgId)\n@encryption(bind: publicId)' };
    expect(buildSchema(doc(twoLines)).models.Receipt).toMatchObject({ scopeField: 'orgId', bindField: 'publicId' });
  });

  it('binds a field unique together with the scope field: a compound @@id or @@unique, in either order', () => {
    const setting = (extra: Partial<DmmfModel>) =>
      model('Setting', [{ name: 'orgId' }, { name: 'name' }, { name: 'value', documentation: '@encrypted' }], {
        documentation: '@encryption(scope: orgId, bind: name)',
        ...extra,
      });
    for (const fields of [
      ['orgId', 'name'],
      ['name', 'orgId'],
    ]) {
      expect(buildSchema(doc(setting({ primaryKey: { name: null, fields } }))).models.Setting).toMatchObject({
        idFields: fields,
        idGeneration: 'none',
        bindRowId: true,
        bindField: 'name',
        bindGeneration: 'none',
        scopeField: 'orgId',
      });
    }
    const withId = model(
      'Setting',
      [
        { name: 'id', type: 'Int', isId: true, default: { name: 'autoincrement', args: [] } },
        { name: 'orgId' },
        { name: 'name' },
        { name: 'value', documentation: '@encrypted' },
      ],
      {
        documentation: '@encryption(scope: orgId, bind: name)',
        uniqueIndexes: [{ name: null, fields: ['name', 'orgId'] }],
      },
    );
    expect(buildSchema(doc(withId)).models.Setting).toMatchObject({ bindRowId: true, bindField: 'name' });
  });

  it('leaves a model without bind as it was: no bound field in the schema', () => {
    const plain = buildSchema(doc(receipt(unique(), '@encryption(scope: publicId)'))).models.Receipt;
    expect(plain.bindRowId).toBe(false);
    expect('bindField' in plain).toBe(false);
  });

  it.each<[string, DmmfModel, string]>([
    [
      'a missing field',
      receipt(unique(), '@encryption(bind: nope)'),
      'Receipt.nope: @encryption(bind: nope) names no field',
    ],
    ['a field that is not unique', receipt({ name: 'publicId' }), 'the bound field must be @unique (or the @id)'],
    ['an optional field', receipt(unique({ isRequired: false })), 'a required String scalar (it is optional)'],
    ['an Int field', receipt(unique({ type: 'Int' })), 'a required String scalar (it is Int)'],
    ['a list', receipt(unique({ isList: true })), '(it is a list)'],
    [
      'a relation field',
      receipt(unique({ kind: 'object', type: 'Order', relationFromFields: ['orderKey'] })),
      'a required String scalar (it is a relation field)',
    ],
    [
      'a value the database chooses',
      receipt(unique({ default: { name: 'dbgenerated', args: ['gen_random_uuid()'] } })),
      'its value is chosen by the database (database) after the write',
    ],
    [
      'an encrypted field',
      receipt(unique({ documentation: '@encrypted' })),
      'the bound field cannot be encrypted or an index',
    ],
    [
      'a model whose id is bound already',
      model(
        'M',
        [
          { name: 'id', isId: true, default: { name: 'uuid', args: [] } },
          unique({ default: { name: 'cuid', args: [] } }),
          { name: 's', documentation: '@encrypted' },
        ],
        { documentation: '@encryption(bind: publicId)' },
      ),
      'M.publicId: @encryption(bind: publicId): values are already bound to the id id',
    ],
    [
      'a compound id',
      receipt(unique(), undefined, {
        fields: [
          field({ name: 'a' }),
          field({ name: 'b' }),
          field({ name: 'publicId', isUnique: true }),
          field({ name: 'payee', documentation: '@encrypted' }),
        ],
        primaryKey: { name: null, fields: ['a', 'b'] },
      }),
      'on a model with a compound @@id needs @encryption(scope: ...) too',
    ],
    [
      'no id at all (told not of a compound @@id it does not have)',
      receipt(unique(), undefined, {
        fields: [field({ name: 'publicId', isUnique: true }), field({ name: 'payee', documentation: '@encrypted' })],
      }),
      'on a model without an @id needs @encryption(scope: ...) too',
    ],
    [
      'a field unique only together with a field that is not the scope',
      model(
        'Setting',
        [{ name: 'orgId' }, { name: 'team' }, { name: 'name' }, { name: 'v', documentation: '@encrypted' }],
        {
          documentation: '@encryption(scope: orgId, bind: name)',
          primaryKey: { name: null, fields: ['team', 'name'] },
        },
      ),
      'or unique together with the scope field (@@id or @@unique([orgId, name]))',
    ],
    [
      'a field unique only together with the scope and a third field',
      model(
        'Setting',
        [{ name: 'orgId' }, { name: 'team' }, { name: 'name' }, { name: 'v', documentation: '@encrypted' }],
        {
          documentation: '@encryption(scope: orgId, bind: name)',
          primaryKey: { name: null, fields: ['orgId', 'team', 'name'] },
        },
      ),
      'or unique together with the scope field',
    ],
    [
      'two bind arguments',
      receipt(unique(), '@encryption(bind: publicId)\n@encryption(bind: payee)'),
      'Receipt: model has more than one @encryption(bind: ...)',
    ],
    ['no argument', receipt(unique(), '@encryption()'), '@encryption needs "scope" or "bind"'],
    [
      'a padded Char column',
      receipt(unique({ nativeType: ['Char', ['30']], default: { name: 'cuid', args: [] } })),
      'a @db.Char column does not return the value as written',
    ],
    [
      'a VarChar too short for its generated values',
      receipt(unique({ nativeType: ['VarChar', ['20']], default: { name: 'cuid', args: [] } })),
      'VarChar(20) is shorter than the 25 characters of a cuid() value',
    ],
    [
      'a VarChar too short for a sized nanoid',
      receipt(unique({ nativeType: ['VarChar', ['10']], default: { name: 'nanoid', args: [12] } })),
      'VarChar(10) is shorter than the 12 characters of a nanoid(12) value',
    ],
    [
      'a VarChar too short for a uuid(7)',
      receipt(unique({ nativeType: ['VarChar', ['32']], default: { name: 'uuid', args: [7] } })),
      'VarChar(32) is shorter than the 36 characters of a uuid(7) value',
    ],
    ['an Xml column', receipt(unique({ nativeType: ['Xml', []] })), 'a @db.Xml column'],
    ['an Inet column', receipt(unique({ nativeType: ['Inet', []] })), 'a @db.Inet column'],
    [
      "a relation's foreign key",
      receipt(unique(), undefined, {
        fields: [
          field({ name: 'id', type: 'Int', isId: true, default: { name: 'autoincrement', args: [] } }),
          field({ name: 'publicId', isUnique: true }),
          field({
            name: 'owner',
            kind: 'object',
            type: 'Owner',
            relationFromFields: ['publicId'],
            relationToFields: ['email'],
          }),
          field({ name: 'payee', documentation: '@encrypted' }),
        ],
      }),
      'the bound field is a foreign key of the relation owner',
    ],
  ])('refuses %s', (_label, m, problem) => {
    expect(problemsOf(doc(m)).join('\n')).toContain(problem);
  });
});

describe('encrypted field types', () => {
  it('accepts Json, Json?, Bytes, Bytes? and String[] and records their type (String has none)', () => {
    const m = user([
      { name: 'profile', type: 'Json', documentation: '@encrypted' },
      { name: 'extra', type: 'Json', isRequired: false, documentation: '@encrypted' },
      { name: 'scan', type: 'Bytes', nativeType: ['ByteA', []], documentation: '@encrypted' },
      {
        name: 'thumb',
        type: 'Bytes',
        isRequired: false,
        nativeType: ['VarBinary', ['98']],
        documentation: '@encrypted',
      },
      { name: 'tags', isList: true, documentation: '@encrypted' },
      { name: 'codes', isList: true, nativeType: ['VarChar', ['200']], documentation: '@encrypted' },
    ]);
    const { encrypted } = buildSchema(doc(m)).models.User;
    expect(encrypted.profile).toEqual({
      name: 'profile',
      dbName: 'profile',
      mode: 'strict',
      optional: false,
      type: 'Json',
    });
    expect(encrypted.extra).toMatchObject({ optional: true, type: 'Json' });
    expect(encrypted.scan).toMatchObject({ type: 'Bytes' });
    expect(encrypted.thumb).toMatchObject({ optional: true, type: 'Bytes' });
    expect(encrypted.tags).toMatchObject({ type: 'String[]' });
    expect(encrypted.codes).toMatchObject({ type: 'String[]' });
    expect(encrypted.email).not.toHaveProperty('type');
  });

  it('checks a list element column length like a String column', () => {
    const m = user([{ name: 'tags', isList: true, nativeType: ['VarChar', ['40']], documentation: '@encrypted' }]);
    expect(validateSchema(doc(m)).problems).toEqual([
      expect.stringContaining('User.tags: @encrypted column is @db.VarChar(40)'),
    ]);
  });

  it("records a list's element bound, which the extension checks each envelope against, and refuses padded elements", () => {
    const m = user([{ name: 'tags', isList: true, nativeType: ['VarChar', ['300']], documentation: '@encrypted' }]);
    const { schema, problems } = validateSchema(doc(m), { provider: 'postgresql' });
    expect(problems).toEqual([]);
    expect(schema!.models.User.fields.tags).toMatchObject({ isList: true, maxLength: 300 });
    const padded = user([{ name: 'tags', isList: true, nativeType: ['Char', ['300']], documentation: '@encrypted' }]);
    expect(validateSchema(doc(padded), { provider: 'postgresql' }).problems).toEqual([
      expect.stringContaining('User.tags: @encrypted column is @db.Char(300), which returns a shorter value padded'),
    ]);
  });
});

describe('schema validation', () => {
  it.each<[string, DmmfModel, string]>([
    [
      'an @encrypted Int',
      user([{ name: 'age', type: 'Int', documentation: '@encrypted' }]),
      'User.age: @encrypted is only supported on String, String[], Json and Bytes fields, not Int',
    ],
    [
      'an @encrypted DateTime',
      user([{ name: 'born', type: 'DateTime', documentation: '@encrypted' }]),
      'User.born: @encrypted is only supported on String, String[], Json and Bytes fields, not DateTime: its ' +
        'ciphertext is text or bytes',
    ],
    [
      'an @encrypted Decimal',
      user([{ name: 'balance', type: 'Decimal', documentation: '@encrypted' }]),
      'User.balance: @encrypted is only supported on String, String[], Json and Bytes fields, not Decimal',
    ],
    [
      'an @encrypted Int list',
      user([{ name: 'codes', type: 'Int', isList: true, documentation: '@encrypted' }]),
      'User.codes: @encrypted is only supported on String, String[], Json and Bytes fields, not Int[]',
    ],
    [
      'an @encrypted enum',
      user([{ name: 'role', kind: 'enum', type: 'Role', documentation: '@encrypted' }]),
      'User.role: @encrypted is only supported on String, String[], Json and Bytes fields, not Role',
    ],
    [
      'an @encrypted Bytes in a column too short for a binary envelope',
      user([{ name: 'scan', type: 'Bytes', nativeType: ['VarBinary', ['64']], documentation: '@encrypted' }]),
      'User.scan: @encrypted column is @db.VarBinary(64), too short for a binary envelope (at least 98 bytes)',
    ],
    [
      'a blind index of a Json field',
      user([
        { name: 'profile', type: 'Json', documentation: '@encrypted' },
        { name: 'profileIdx', documentation: '@blindIndex(source: profile)' },
      ]),
      'User.profileIdx: @blindIndex source "profile" is a Json field; blind indexes are computed from String fields only',
    ],
    [
      'a blind index of a String list',
      user([
        { name: 'tags', isList: true, documentation: '@encrypted' },
        { name: 'tagsIdx', documentation: '@blindIndex(source: tags)' },
      ]),
      'User.tagsIdx: @blindIndex source "tags" is a String[] field',
    ],
    [
      'an @encrypted relation field, which has no column',
      user([{ name: 'org', kind: 'object', type: 'Org', documentation: '@encrypted' }]),
      'User.org: @encrypted on a relation field does nothing: the relation to Org has no column of its own to ' +
        'encrypt; annotate the fields of Org that hold the values',
    ],
    [
      'an @encrypted enum field',
      user([{ name: 'region', kind: 'enum', type: 'Region', documentation: '@encrypted' }]),
      "User.region: @encrypted is only supported on String, String[], Json and Bytes fields, not Region (an enum): its column holds only the names of Region's values, never a ciphertext; to encrypt the value, make the field a String",
    ],
    [
      'an @encrypted id',
      user([{ name: 'id', isId: true, documentation: '@encrypted' }]),
      'User.id: @encrypted cannot be on an @id field',
    ],
    [
      'an @encrypted field with a default',
      user([{ name: 'notes', default: 'none', documentation: '@encrypted' }]),
      'User.notes: @encrypted field has a @default',
    ],
    [
      'an @encrypted foreign key',
      user([
        { name: 'orgId', documentation: '@encrypted' },
        { name: 'org', kind: 'object', type: 'Org', relationName: 'OrgToUser', relationFromFields: ['orgId'] },
      ]),
      'User.orgId: @encrypted field is a foreign key of relation org',
    ],
    [
      'a blind index on an Int column',
      user([{ name: 'emailIdx', type: 'Int', documentation: '@blindIndex(source: email)' }]),
      'User.emailIdx: @blindIndex column must be a String or String?, not Int',
    ],
    [
      'a blind index with a missing source',
      user([{ name: 'emailIdx', documentation: '@blindIndex(source: mail)' }]),
      'User.emailIdx: @blindIndex source "mail" is not a field of this model',
    ],
    [
      'a blind index of a plaintext field',
      user([{ name: 'nameIdx', documentation: '@blindIndex(source: tenantId)' }]),
      'User.nameIdx: @blindIndex source "tenantId" is not encrypted',
    ],
    [
      'a truncated @unique index',
      user([{ name: 'emailIdx', isUnique: true, documentation: '@blindIndex(source: email, bits: 16)' }]),
      'User.emailIdx: @blindIndex truncated to 16 bits cannot be @unique',
    ],
    [
      'a truncated index in a compound unique',
      user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, bits: 32)' }], {
        uniqueIndexes: [{ name: null, fields: ['tenantId', 'emailIdx'] }],
      }),
      'User.emailIdx: @blindIndex truncated to 32 bits cannot be part of @@unique([tenantId, emailIdx])',
    ],
    [
      'a required index of an optional source',
      user([
        { name: 'ssn', isRequired: false, documentation: '@encrypted' },
        { name: 'ssnIdx', documentation: '@blindIndex(source: ssn)' },
      ]),
      'User.ssnIdx: @blindIndex column is required but its source "ssn" is optional',
    ],
    [
      'a blind index with a default',
      user([{ name: 'emailIdx', default: 'x', documentation: '@blindIndex(source: email)' }]),
      'User.emailIdx: @blindIndex column has a @default',
    ],
    [
      'a per-scope index on a model without a scope',
      user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, perScope: true)' }], {
        documentation: null,
      }),
      'User.emailIdx: @blindIndex(perScope: true) needs the model to have a scope',
    ],
    [
      'a perScope that is not true or false',
      user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, perScope: yes)' }]),
      'User.emailIdx: @blindIndex: "yes" is not a valid perScope (expected one of: true, false, migrating)',
    ],
    [
      'bits out of range',
      user([{ name: 'emailIdx', documentation: '@blindIndex(source: email, bits: 512)' }]),
      'User.emailIdx: @blindIndex: bits must be an integer from 1 to 256, got "512"',
    ],
    [
      'a field both encrypted and an index',
      user([{ name: 'emailIdx', documentation: '@encrypted\n@blindIndex(source: email)' }]),
      'User.emailIdx: a field can carry one of @encrypted, @blindIndex or @matchIndex',
    ],
    [
      'a misspelled field annotation',
      user([{ name: 'email', documentation: '@encrypt' }]),
      'User.email: unknown annotation @encrypt (did you mean @encrypted?)',
    ],
    [
      'a misspelled model annotation',
      user([], { documentation: '@encyrption(scope: tenantId)' }),
      'User: unknown annotation @encyrption (did you mean @encryption?)',
    ],
    [
      'a missing scope field',
      user([], { documentation: '@encryption(scope: tenant)' }),
      'User.tenant: @encryption(scope: tenant) names no field of this model',
    ],
    [
      'an optional scope field',
      user([{ name: 'tenantId', isRequired: false }]),
      'User.tenantId: @encryption(scope: tenantId): the scope field must be a required String, Int or BigInt scalar (it is optional)',
    ],
    ['a list scope field', user([{ name: 'tenantId', isList: true }]), '(it is a list)'],
    [
      'a relation scope field',
      user([{ name: 'tenantId', kind: 'object', type: 'Tenant', relationFromFields: ['tenantKey'] }]),
      '(it is a relation field; name its foreign key, tenantKey)',
    ],
    ['an enum scope field', user([{ name: 'tenantId', kind: 'enum', type: 'Region' }]), '(it is an enum field)'],
    ['a DateTime scope field', user([{ name: 'tenantId', type: 'DateTime' }]), '(it is DateTime)'],
    [
      'an Inet scope column, which rewrites its values',
      user([{ name: 'tenantId', nativeType: ['Inet', []] }]),
      'User.tenantId: @encryption(scope: tenantId): a @db.Inet column does not return every value as written',
    ],
    ['a VarBit scope column', user([{ name: 'tenantId', nativeType: ['VarBit', ['16']] }]), 'a @db.VarBit column'],
    [
      'an encrypted scope field',
      user([{ name: 'tenantId', documentation: '@encrypted' }]),
      'User.tenantId: @encryption(scope: tenantId): the scope field cannot be encrypted',
    ],
    [
      'two scopes',
      user([], { documentation: '@encryption(scope: tenantId)\n@encryption(scope: id)' }),
      'User: model has more than one @encryption(scope: ...)',
    ],
  ])('rejects %s', (_label, m, message) => {
    const problems = problemsOf(doc(m));
    expect(problems).toContainEqual(expect.stringContaining(message));
  });

  it('accepts ordinary documentation and foreign @tags', () => {
    const m = user([{ name: 'tenantId', documentation: 'The tenant, see @see Tenant.\nWrite to ops@example.com.' }]);
    expect(validateSchema(doc(m)).problems).toEqual([]);
  });

  it('accepts a scope column that returns its values as written, or whose changes the extension refuses', () => {
    for (const nativeType of [
      ['Text', []],
      ['VarChar', ['64']],
      ['Char', ['36']],
      ['Uuid', []],
      ['Citext', []],
      ['NVarChar', ['64']], // SQL Server
      ['String', ['64']], // CockroachDB
    ] as [string, string[]][])
      expect(validateSchema(doc(user([{ name: 'tenantId', nativeType }]))).problems).toEqual([]);
  });

  it("records a String column's declared length, and what the provider's Char(n) does to a shorter value", () => {
    const lengths = (provider: string | undefined) => {
      const m = user([
        { name: 'tenantId', nativeType: ['Char', ['8']] },
        { name: 'region', nativeType: ['VarChar', ['16']] },
        { name: 'note', nativeType: ['Text', []] },
        { name: 'email', documentation: '@encrypted', nativeType: ['Text', []] },
      ]);
      const { schema } = validateSchema(doc(m), provider === undefined ? {} : { provider });
      const { fields } = schema!.models.User;
      return [fields.tenantId, fields.region, fields.note, fields.id].map((f) => [f.maxLength, f.fixedLength]);
    };
    expect(lengths('postgresql')).toEqual([
      [8, 'pads'],
      [16, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    expect(lengths('mysql')[0]).toEqual([8, 'trims']);
    // `@db.Char` without a length is CHAR(1)
    const single = validateSchema(doc(user([{ name: 'tenantId', nativeType: ['Char', []] }])), {
      provider: 'postgresql',
    });
    expect(single.schema?.models.User.fields.tenantId).toMatchObject({ maxLength: 1, fixedLength: 'pads' });
    expect(lengths(undefined)[0]).toEqual([8, 'either']);
  });

  it("records the bytes a MySQL TEXT type holds, and nothing for PostgreSQL's unbounded TEXT", () => {
    const bytes = (provider: string) => {
      const m = user([
        { name: 'email', documentation: '@encrypted', nativeType: ['Text', []] },
        { name: 'tiny', isRequired: false, documentation: '@encrypted', nativeType: ['TinyText', []] },
        { name: 'medium', isRequired: false, documentation: '@encrypted', nativeType: ['MediumText', []] },
        { name: 'long', isRequired: false, documentation: '@encrypted', nativeType: ['LongText', []] },
      ]);
      const { fields } = validateSchema(doc(m), { provider }).schema!.models.User;
      return [fields.email, fields.tiny, fields.medium, fields.long].map((f) => f.maxBytes);
    };
    expect(bytes('mysql')).toEqual([65_535, 255, 16_777_215, undefined]);
    expect(bytes('postgresql')[0]).toBeUndefined();
  });

  it('records the bytes a MySQL VARBINARY(n) or bounded BLOB holds for an encrypted Bytes field', () => {
    const bytes = (nativeType: [string, string[]]) => {
      const m = user([
        { name: 'email', documentation: '@encrypted', nativeType: ['Text', []] },
        { name: 'blob', type: 'Bytes', isRequired: false, documentation: '@encrypted', nativeType },
      ]);
      return validateSchema(doc(m), { provider: 'mysql' }).schema!.models.User.fields.blob.maxBytes;
    };
    expect(bytes(['VarBinary', ['300']])).toBe(300);
    expect(bytes(['Blob', []])).toBe(65_535);
    expect(bytes(['TinyBlob', []])).toBe(255);
    expect(bytes(['LongBlob', []])).toBeUndefined();
  });

  it('rejects an encrypted Bytes field in a fixed-length BINARY(n), which pads it with zero bytes', () => {
    const blob = (nativeType: [string, string[]]) =>
      user([
        { name: 'email', documentation: '@encrypted', nativeType: ['Text', []] },
        { name: 'blob', type: 'Bytes', isRequired: false, documentation: '@encrypted', nativeType },
      ]);
    expect(validateSchema(doc(blob(['Binary', ['200']])), { provider: 'mysql' }).problems).toEqual([
      'User.blob: @encrypted column is @db.Binary(200), which stores a shorter value padded with zero bytes, and ' +
        'binary envelopes vary in length: no value would decrypt; use @db.VarBinary(n) or a BLOB type',
    ]);
    expect(validateSchema(doc(blob(['VarBinary', ['200']])), { provider: 'mysql' }).problems).toEqual([]);
    expect(validateSchema(doc(blob(['LongBlob', []])), { provider: 'mysql' }).problems).toEqual([]);
  });

  it('rejects a bound id generated on the client that its Char(n) column pads or any column cannot hold', () => {
    const withId = (generated: DmmfDefault, nativeType: [string, string[]]) =>
      doc(
        user([
          { name: 'id', isId: true, default: generated, nativeType },
          { name: 'email', documentation: '@encrypted', nativeType: ['Text', []] },
        ]),
      );
    const cuid: DmmfDefault = { name: 'cuid', args: [] };
    const uuid: DmmfDefault = { name: 'uuid', args: [] };
    expect(validateSchema(withId(cuid, ['Char', ['36']]), { provider: 'postgresql' }).problems).toEqual([
      "User.id: the row id is bound into the model's encrypted values and generated on the client as cuid() " +
        '(25 characters), which a @db.Char(36) column returns padded with spaces, so no value would decrypt; ' +
        'declare @db.Char(25) or @db.Text',
    ]);
    expect(validateSchema(withId(cuid, ['Char', ['36']]), {}).problems).toHaveLength(1);
    expect(validateSchema(withId(uuid, ['VarChar', ['30']]), { provider: 'postgresql' }).problems).toEqual([
      expect.stringContaining(
        'as uuid() (36 characters), which a @db.VarChar(30) column cannot hold; declare @db.VarChar(36)',
      ),
    ]);
    // MySQL's CHAR returns a shorter id as written; a full-length Char, a VarChar or Text hold any.
    expect(validateSchema(withId(cuid, ['Char', ['36']]), { provider: 'mysql' }).problems).toEqual([]);
    expect(validateSchema(withId(uuid, ['Char', ['36']]), { provider: 'postgresql' }).problems).toEqual([]);
    expect(validateSchema(withId(cuid, ['VarChar', ['36']]), { provider: 'postgresql' }).problems).toEqual([]);
    // an id the database assigns is not bound, so its column is not checked
    expect(
      validateSchema(
        doc(
          user([{ name: 'id', isId: true, default: { name: 'dbgenerated', args: [] }, nativeType: ['Char', ['36']] }]),
        ),
        {
          provider: 'postgresql',
        },
      ).problems,
    ).toEqual([]);
  });

  it('accepts an Int or BigInt scope field', () => {
    expect(buildSchema(doc(user([{ name: 'tenantId', type: 'BigInt' }]))).models.User.scopeField).toBe('tenantId');
  });

  it('accepts a truncated index that is not unique and an optional index of a required source', () => {
    const m = user([{ name: 'emailIdx', isRequired: false, documentation: '@blindIndex(source: email, bits: 16)' }]);
    expect(buildSchema(doc(m)).models.User.blindIndexes.emailIdx).toMatchObject({
      bits: 16,
      unique: false,
      optional: true,
    });
  });
});

describe('bucket size warnings', () => {
  const indexed = (annotation: string) => user([{ name: 'emailIdx', isRequired: false, documentation: annotation }]);

  it('records expected and warns about nothing when buckets hold 2 to 1000 values', () => {
    const result = validateSchema(doc(indexed('@blindIndex(source: email, bits: 16, expected: 1000000)')));
    expect(result.warnings).toEqual([]);
    expect(result.schema?.models.User.blindIndexes.emailIdx).toMatchObject({ bits: 16, expected: 1_000_000 });
  });

  it('warns when buckets would be too small to hide values (privacy), suggesting bit counts', () => {
    const result = validateSchema(doc(indexed('@blindIndex(source: email, bits: 24, expected: 1000000)')));
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([
      'User.emailIdx: @blindIndex with 24 bits and 1000000 expected values puts ~0.06 values in each bucket: most values would ' +
        'sit alone in theirs, so the truncated index still tells them apart (privacy); use bits from 10 to 18 (2 to 1000 values per bucket)',
    ]);
  });

  it('warns when buckets would be too large (many candidates per lookup)', () => {
    expect(validateSchema(doc(indexed('@blindIndex(source: email, bits: 8, expected: 1000000)'))).warnings).toEqual([
      'User.emailIdx: @blindIndex with 8 bits and 1000000 expected values puts ~3906 values in each bucket: every lookup would ' +
        'fetch and decrypt that many candidate rows; use bits from 10 to 18 (2 to 1000 values per bucket)',
    ]);
  });

  it('warns that expected changes nothing at full length, and when too few values exist for any truncation', () => {
    expect(validateSchema(doc(indexed('@blindIndex(source: email, expected: 5000)'))).warnings).toEqual([
      expect.stringContaining(
        'no bits, so it is full length (unique per value) and expected changes nothing; to truncate it for ' +
          'privacy, use bits from 3 to 11',
      ),
    ]);
    expect(validateSchema(doc(indexed('@blindIndex(source: email, bits: 1, expected: 3)'))).warnings).toEqual([
      expect.stringContaining('there are too few values for any truncation to hide them: keep the full length'),
    ]);
  });

  it('keeps warnings apart from problems', () => {
    const result = validateSchema(
      doc(
        indexed('@blindIndex(source: email, bits: 24, expected: 1000000)'),
        model('Other', [
          { name: 'id', isId: true },
          { name: 'x', documentation: '@encrypt' },
        ]),
      ),
    );
    expect(result.schema).toBeNull();
    expect(result.problems).toHaveLength(1);
    expect(result.warnings).toHaveLength(1);
  });
});

describe('key-store model checks', () => {
  const broken = (change: (fields: DmmfField[]) => DmmfField[], extra: Partial<DmmfModel> = {}): DmmfDocument => {
    const good = keyStore();
    return { datamodel: { models: [{ ...good, fields: change([...good.fields]), ...extra }] } };
  };
  const without = (name: string) => (fields: DmmfField[]) => fields.filter((f) => f.name !== name);
  const replace = (init: FieldInit) => (fields: DmmfField[]) =>
    fields.map((f) => (f.name === init.name ? field(init) : f));

  it.each<[string, DmmfDocument, string]>([
    ['without keyId', broken(without('keyId')), 'HushfieldKey.keyId must be String'],
    ['with an Int scope', broken(replace({ name: 'scope', type: 'Int' })), 'HushfieldKey.scope must be String'],
    ['with a String version', broken(replace({ name: 'version' })), 'HushfieldKey.version must be Int'],
    ['with a required wrappedKey', broken(replace({ name: 'wrappedKey' })), 'HushfieldKey.wrappedKey must be String?'],
    [
      'with an optional state',
      broken(replace({ name: 'state', isRequired: false })),
      'HushfieldKey.state must be String',
    ],
    [
      'without a createdAt default',
      broken(replace({ name: 'createdAt', type: 'DateTime' })),
      'HushfieldKey.createdAt must be DateTime with a @default',
    ],
    [
      'without @updatedAt',
      broken(replace({ name: 'updatedAt', type: 'DateTime' })),
      'HushfieldKey.updatedAt must be DateTime with @updatedAt',
    ],
    [
      'without the version unique',
      broken((f) => f, { uniqueIndexes: [{ name: null, fields: ['keyId', 'version'] }] }),
      'HushfieldKey needs @@unique([kind, scope, version])',
    ],
    [
      'without the key-id unique',
      broken((f) => f, { uniqueIndexes: [{ name: null, fields: ['version', 'scope', 'kind'] }] }),
      'HushfieldKey needs @@unique([keyId, version])',
    ],
    [
      'with an id lacking a default',
      broken(replace({ name: 'id', isId: true })),
      'HushfieldKey needs a single @id with a default',
    ],
    [
      'with annotations',
      broken(replace({ name: 'scope', documentation: '@encrypted' })),
      'HushfieldKey is the key store and cannot carry hushfield annotations',
    ],
  ])('rejects a key store %s', (_label, document, message) => {
    expect(problemsOf(document)).toContainEqual(expect.stringContaining(message));
  });
});

describe('generator settings', () => {
  it('reads keyStoreModel', () => {
    expect(readSettings({ keyStoreModel: 'Keys' })).toEqual({ settings: { keyStoreModel: 'Keys' }, problems: [] });
  });

  it('rejects unknown options and bad model names', () => {
    expect(readSettings({ keyStoreModle: 'Keys' }).problems).toEqual([
      'unknown generator option "keyStoreModle" (hushfield reads: keyStoreModel)',
    ]);
    expect(readSettings({ keyStoreModel: ['A', 'B'] }).problems).toEqual([
      'generator option keyStoreModel must be a single model name',
    ]);
    expect(readSettings({ keyStoreModel: 'no spaces' }).problems).toHaveLength(1);
  });
});

const contact = (matchField: FieldInit, extra: FieldInit[] = []): DmmfDocument => ({
  datamodel: {
    models: [
      {
        name: 'Contact',
        dbName: 'contacts',
        primaryKey: null,
        uniqueIndexes: [],
        fields: [
          { name: 'id', isId: true, default: { name: 'uuid', args: [] } },
          { name: 'name', documentation: '@encrypted' },
          { name: 'plain' },
          matchField,
          ...extra,
        ].map(field),
      },
      keyStore(),
    ],
  },
});

const matchColumn = (documentation: string, overrides: Partial<FieldInit> = {}): FieldInit => ({
  name: 'nameMatch',
  dbName: 'name_match',
  type: 'Int',
  isList: true,
  documentation,
  ...overrides,
});

describe('@matchIndex in the generator', () => {
  it('records the index with its defaults, and lowercase as a per-code-point case fold', () => {
    const result = validateSchema(contact(matchColumn('@matchIndex(source: name)')), { provider: 'postgresql' });
    expect(result.problems).toEqual([]);
    expect(result.schema?.models.Contact.matchIndexes).toEqual({
      nameMatch: {
        name: 'nameMatch',
        dbName: 'name_match',
        source: 'name',
        tokens: 3,
        bits: 1024,
        hashes: 3,
        fold: 'none',
        maxLength: 256,
      },
    });
    const folded = validateSchema(
      contact(matchColumn('@matchIndex(source: name, normalize: "lowercase", tokens: 4, bits: 4096, hashes: 2)')),
    );
    expect(folded.schema?.models.Contact.matchIndexes?.nameMatch).toMatchObject({
      fold: 'case',
      tokens: 4,
      bits: 4096,
      hashes: 2,
    });
    // A model without match indexes carries none.
    expect(result.schema?.models.HushfieldKey.matchIndexes).toBeUndefined();
  });

  it.each<[string, DmmfDocument, string | undefined, string]>([
    [
      'a String column',
      contact(matchColumn('@matchIndex(source: name)', { type: 'String', isList: false })),
      undefined,
      'Contact.nameMatch: @matchIndex column must be Int[]',
    ],
    [
      'a database without integer arrays',
      contact(matchColumn('@matchIndex(source: name)')),
      'mysql',
      'Contact.nameMatch: @matchIndex needs PostgreSQL',
    ],
    [
      'a plaintext source',
      contact(matchColumn('@matchIndex(source: plain)')),
      undefined,
      '@matchIndex source "plain" is not an encrypted String field',
    ],
    [
      'a missing source',
      contact(matchColumn('@matchIndex(source: nope)')),
      undefined,
      '@matchIndex source "nope" is not a field of this model',
    ],
    [
      'bits that are not a power of two',
      contact(matchColumn('@matchIndex(source: name, bits: 1000)')),
      undefined,
      'bits must be an integer a power of two from 64 to 65536, got "1000"',
    ],
    [
      'one-code-point tokens',
      contact(matchColumn('@matchIndex(source: name, tokens: 1)')),
      undefined,
      'tokens must be an integer from 2 to 5',
    ],
    [
      'a normalizer that breaks substring matching',
      contact(matchColumn('@matchIndex(source: name, normalize: "nfkc")')),
      undefined,
      'normalize must be "lowercase"',
    ],
    [
      'a default',
      contact(matchColumn('@matchIndex(source: name)', { default: [] as never })),
      undefined,
      '@matchIndex column has a @default',
    ],
    [
      'a misspelt name',
      contact(matchColumn('@matchindex(source: name)')),
      undefined,
      'unknown annotation @matchindex (did you mean @matchIndex?)',
    ],
  ])('refuses %s', (_what, document, provider, message) => {
    const result = validateSchema(document, provider === undefined ? {} : { provider });
    expect(result.schema).toBeNull();
    expect(result.problems).toContainEqual(expect.stringContaining(message));
  });
});

describe('models of one table name in two database schemas (@@schema)', () => {
  const account = (name: string, schema: string | null, fields: FieldInit[]): DmmfModel =>
    model(name, [{ name: 'id', isId: true }, ...fields], { dbName: 'users', schema });
  const email: FieldInit = { name: 'email', documentation: '@encrypted' };

  it('refuses two that both encrypt a column of one name: a value copied between them would decrypt', () => {
    const result = validateSchema(doc(account('AuthUser', 'auth', [email]), account('Profile', 'public', [email])));
    expect(result.schema).toBeNull();
    expect(result.problems).toEqual([
      'Profile: its table and AuthUser\'s are both named "users" (in the database schemas "public" and "auth") ' +
        'and both encrypt the column "email": values are bound to the table and column names, not the schema, so ' +
        'a value copied from one table to the other would decrypt there; give one of the tables another name ' +
        '(@@map) or encrypt the column in one model only',
    ]);
  });

  it('compares column names, not Prisma field names', () => {
    const mapped = account('Profile', 'public', [{ name: 'mail', dbName: 'email', documentation: '@encrypted' }]);
    const result = validateSchema(doc(account('AuthUser', 'auth', [email]), mapped));
    expect(result.problems).toEqual([expect.stringContaining('both encrypt the column "email"')]);
  });

  it.each([
    ['only one of them encrypts', [email], [{ name: 'email' }]],
    ['they encrypt columns of different names', [email], [{ name: 'phone', documentation: '@encrypted' }]],
  ])('accepts them when %s', (_what, first: FieldInit[], second: FieldInit[]) => {
    const result = validateSchema(doc(account('AuthUser', 'auth', first), account('Profile', 'public', second)));
    expect(result.problems).toEqual([]);
  });

  it('accepts tables of other names, in one schema or in two', () => {
    const other = model('Person', [{ name: 'id', isId: true }, email], { dbName: 'people', schema: 'public' });
    expect(validateSchema(doc(account('AuthUser', 'auth', [email]), other)).problems).toEqual([]);
  });
});

describe('an @encrypted String[] with a default', () => {
  const list = (init: Partial<FieldInit>) =>
    user([{ name: 'phones', isList: true, documentation: '@encrypted', ...init }]);

  it('accepts @default([]): an empty list holds no plaintext', () => {
    const { schema, problems } = validateSchema(doc(list({ default: [] })));
    expect(problems).toEqual([]);
    expect(schema!.models.User.encrypted.phones).toMatchObject({ type: 'String[]', optional: false });
  });

  it.each([
    ['a list with elements', list({ default: ['+1 555 0100'] })],
    ['a String with an empty default', user([{ name: 'phone', default: '', documentation: '@encrypted' }])],
    ['a Json list default', user([{ name: 'extra', type: 'Json', default: '[]', documentation: '@encrypted' }])],
  ])('still refuses %s', (_what, document) => {
    expect(validateSchema(doc(document)).problems).toEqual([
      expect.stringContaining('@encrypted field has a @default'),
    ]);
  });
});

describe('a model without an id', () => {
  // A member's password apart from the member row, keyed by a unique foreign key.
  const secret = (extra: FieldInit[] = []) =>
    model('MemberSecret', [
      { name: 'hash', documentation: '@encrypted' },
      { name: 'memberId', isUnique: true },
      { name: 'member', kind: 'object', type: 'Member', relationFromFields: ['memberId'], relationToFields: ['id'] },
      ...extra,
    ]);
  const member = model('Member', [
    { name: 'id', isId: true, default: { name: 'uuid', args: [] } },
    { name: 'secret', kind: 'object', type: 'MemberSecret', isRequired: false },
  ]);

  it('warns that its values are not bound to their rows, and how to bind them', () => {
    const result = validateSchema(doc(secret(), member));
    expect(result.schema?.models.MemberSecret.bindRowId).toBe(false);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^MemberSecret: .*no @id.*copied to another MemberSecret row/),
    ]);
    expect(result.warnings[0]).toContain('make memberId the @id (`memberId String @id`');
    // An Int foreign key made the @id is bound as well (it is known before the write).
    const intKey = secret().fields.map((f) => (f.name === 'memberId' ? { ...f, type: 'Int' } : f));
    const warning = validateSchema(doc({ ...secret(), fields: intKey }, member)).warnings[0];
    expect(warning).toContain('make memberId the @id (`memberId Int @id`');
    const asId = intKey.map((f) => (f.name === 'memberId' ? { ...f, isId: true, isUnique: false } : f));
    const bound = validateSchema(doc({ ...secret(), fields: asId }, member));
    expect(bound.warnings).toEqual([]);
    expect(bound.schema?.models.MemberSecret.bindRowId).toBe(true);
    // A unique field that is no foreign key is not suggested: only a new String id is.
    const plainKey = secret().fields.filter((f) => f.name !== 'member');
    const other = validateSchema(doc({ ...secret(), fields: plainKey }, member)).warnings[0];
    expect(other).not.toContain('make memberId');
    expect(other).toContain('give it `id String @id @default(uuid())`');
  });

  it('warns of nothing once it has an id, or when it encrypts nothing', () => {
    const withId = secret([{ name: 'id', isId: true, default: { name: 'cuid', args: [] } }]);
    expect(validateSchema(doc(withId, member)).warnings).toEqual([]);
    const plain = model('Note', [{ name: 'key', isUnique: true }, { name: 'text' }]);
    expect(validateSchema(doc(plain, member)).warnings).toEqual([]);
  });
});
