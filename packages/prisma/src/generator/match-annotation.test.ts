import { validateSchema } from './build-schema';
import type { DmmfDocument, DmmfField, DmmfModel } from './dmmf';

type FieldInit = Partial<DmmfField> & { name: string };

const field = (init: FieldInit): DmmfField => ({
  kind: 'scalar',
  type: 'String',
  isList: false,
  isRequired: true,
  isUnique: false,
  isId: false,
  hasDefaultValue: init.default !== undefined,
  ...init,
});

const keyStore: DmmfModel = {
  name: 'HushfieldKey',
  dbName: null,
  primaryKey: null,
  fields: [
    { name: 'id', isId: true, default: { name: 'uuid', args: [] } },
    { name: 'keyId' },
    { name: 'kind' },
    { name: 'scope' },
    { name: 'version', type: 'Int' },
    { name: 'state' },
    { name: 'wrappedKey', isRequired: false },
    { name: 'keyringId' },
    { name: 'createdAt', type: 'DateTime', default: { name: 'now', args: [] } },
    { name: 'updatedAt', type: 'DateTime', isUpdatedAt: true },
  ].map((f) => field(f as FieldInit)),
  uniqueIndexes: [
    { name: null, fields: ['kind', 'scope', 'version'] },
    { name: null, fields: ['keyId', 'version'] },
  ],
};

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
        ].map((f) => field(f as FieldInit)),
      },
      keyStore,
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
