import type { BlindIndexMeta, ModelMeta } from '../../metadata';
import { asWhereInput, indexedUniques, uniquesTouched } from './indexed-uniques';
import { scalarField as scalar } from '../../metadata.fixture';

const index = (name: string, source: string, unique: boolean): BlindIndexMeta => ({
  name,
  dbName: name,
  source,
  normalize: [],
  bits: 256,
  unique,
  optional: false,
});
/** An account: `@@unique([provider, externalIdIdx])`, and a `@unique` email index. */
const account: ModelMeta = {
  name: 'Account',
  dbName: 'accounts',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  fields: Object.fromEntries(
    ['id', 'provider', 'externalId', 'externalIdIdx', 'email', 'emailIdx', 'note'].map((name) => [name, scalar(name)]),
  ),
  encrypted: {
    externalId: { name: 'externalId', dbName: 'externalId', mode: 'strict', optional: false },
    email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
  },
  blindIndexes: {
    externalIdIdx: index('externalIdIdx', 'externalId', false),
    emailIdx: index('emailIdx', 'email', true),
  },
  uniqueIndexes: [{ name: 'provider_externalIdIdx', fields: ['provider', 'externalIdIdx'] }],
};

describe('uniquesTouched', () => {
  const [email, compound] = indexedUniques(account);

  it("names the constraints whose tuple a write changes: an index's source, or a compound's other field", () => {
    expect(email?.fields).toEqual(['emailIdx']);
    expect(compound?.fields).toEqual(['provider', 'externalIdIdx']);
    expect(uniquesTouched(account, { email: 'a@b.c' })).toEqual([email]);
    expect(uniquesTouched(account, { externalId: 'x' })).toEqual([compound]);
    expect(uniquesTouched(account, { provider: { set: 'github' } })).toEqual([compound]);
    expect(uniquesTouched(account, { provider: 'github', email: 'a@b.c' })).toEqual([email, compound]);
  });

  it('names none for a write of other fields, or of fields left undefined', () => {
    expect(uniquesTouched(account, { note: 'n' })).toEqual([]);
    expect(uniquesTouched(account, { provider: undefined, email: undefined })).toEqual([]);
    // The index column itself is the extension's to write: its source is what counts.
    expect(uniquesTouched(account, { emailIdx: 'v' })).toEqual([]);
  });
});

describe('asWhereInput', () => {
  it('spreads a compound unique input into its fields, and keeps fields and logical keys as they are', () => {
    const where = {
      provider_externalIdIdx: { provider: 'github', externalIdIdx: 'v' },
      id: 'a',
      AND: [{ note: 'n' }],
    };
    expect(asWhereInput(account, where)).toEqual({
      provider: 'github',
      externalIdIdx: 'v',
      id: 'a',
      AND: [{ note: 'n' }],
    });
    expect(asWhereInput(account, undefined)).toBeUndefined();
  });
});
