import type { HushfieldSchema, ModelMeta } from '../metadata';
import { SchemaView } from './schema-view';
import { scalarField as scalar, relationField as relation } from '../metadata.fixture';

const model = (name: string, fields: ModelMeta['fields'], encrypted: ModelMeta['encrypted'] = {}): ModelMeta => ({
  name,
  dbName: name.toLowerCase(),
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: false,
  fields: { id: scalar('id'), ...fields },
  encrypted,
  blindIndexes: {},
  uniqueIndexes: [],
});

// Tag <-> Post -> User(email encrypted): Tag reaches ciphertext only through the cycle member Post.
const tag = model('Tag', { posts: relation('posts', 'Post', true) });
const post = model('Post', { tags: relation('tags', 'Tag', true), author: relation('author', 'User', false) });
const user = model(
  'User',
  { email: scalar('email') },
  { email: { name: 'email', dbName: 'email', mode: 'strict', optional: false } },
);
const schema = {
  formatVersion: 1,
  keyStoreModel: 'K',
  models: { Tag: tag, Post: post, User: user },
} as HushfieldSchema;

describe('SchemaView.isSensitive', () => {
  it('marks a model sensitive when it reaches encrypted fields through a relation cycle, whichever model is asked first', () => {
    const postFirst = new SchemaView(schema);
    expect(postFirst.isSensitive(post)).toBe(true);
    expect(postFirst.isSensitive(tag)).toBe(true);
    const tagFirst = new SchemaView(schema);
    expect(tagFirst.isSensitive(tag)).toBe(true);
    expect(tagFirst.isSensitive(post)).toBe(true);
  });

  it('marks a model with no path to an encrypted field insensitive, cycles included', () => {
    const a = model('A', { b: relation('b', 'B', false) });
    const b = model('B', { a: relation('a', 'A', true) });
    const view = new SchemaView({
      formatVersion: 1,
      keyStoreModel: 'K',
      models: { A: a, B: b, User: user },
    } as HushfieldSchema);
    expect(view.isSensitive(a)).toBe(false);
    expect(view.isSensitive(b)).toBe(false);
  });
});

describe('SchemaView.bindingRelations', () => {
  it("works out a model's relations whose foreign key is its bound id once, not on every write", () => {
    const owner = { ...relation('owner', 'User', false), relationFromFields: ['id'], relationToFields: ['id'] };
    const profile = model(
      'Profile',
      { bio: scalar('bio'), owner },
      { bio: { name: 'bio', dbName: 'bio', mode: 'strict', optional: false } },
    );
    const bound = { ...profile, bindRowId: true };
    const view = new SchemaView({ ...schema, models: { ...schema.models, Profile: bound } } as HushfieldSchema);
    const first = view.bindingRelations(bound);
    expect(first).toEqual(['owner']);
    // The same list the second time: nothing walked or allocated per update.
    expect(view.bindingRelations(bound)).toBe(first);
  });
});
