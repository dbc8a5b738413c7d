import type { ModelMeta } from '@hushfield/prisma';
import { runFlags } from './migrator-resume';

const field = (name: string, extra: Partial<ModelMeta['fields'][string]> = {}) => ({
  name,
  dbName: name,
  kind: 'scalar' as const,
  type: 'String',
  isList: false,
  isRequired: true,
  isId: name === 'id',
  ...extra,
});

/** A profile whose id is its user's: its values may have been sealed without the id. */
const profile: ModelMeta = {
  name: 'Profile',
  dbName: 'profiles',
  idFields: ['id'],
  idGeneration: 'none',
  bindRowId: true,
  fields: {
    id: field('id'),
    bio: field('bio'),
    user: field('user', {
      kind: 'object',
      type: 'User',
      relationModel: 'User',
      relationFromFields: ['id'],
      relationToFields: ['id'],
    }),
  },
  encrypted: { bio: { name: 'bio', dbName: 'bio', mode: 'strict', optional: false } },
  blindIndexes: {},
  uniqueIndexes: [],
};

describe('runFlags', () => {
  it('records --rebind for a model bound to an id that is a foreign key, which --rebind rebinds', () => {
    // Else a run interrupted without --rebind is resumed by one with it, past rows it never rebound.
    expect(runFlags({ model: profile, rebind: true })).toEqual(['rebind']);
  });

  it('records no --rebind for a model bound to its own id, which --rebind leaves as it is', () => {
    const fields = { id: profile.fields.id, bio: profile.fields.bio };
    expect(runFlags({ model: { ...profile, fields }, rebind: true })).toEqual([]);
  });

  it('records --reindex for a model with an index, and not for one without', () => {
    // Else a run interrupted without --reindex is resumed by one with it, past rows it never reindexed.
    const emailIdx = { name: 'emailIdx', source: 'bio', bits: 256, unique: false, normalize: [] };
    const indexed = { ...profile, blindIndexes: { emailIdx } } as unknown as typeof profile;
    expect(runFlags({ model: indexed, reindex: true })).toEqual(['reindex']);
    expect(runFlags({ model: indexed })).toEqual([]);
    expect(runFlags({ model: profile, reindex: true })).toEqual([]);
  });
});
