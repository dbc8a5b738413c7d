import type { HushfieldSchema, ModelMeta } from '../../metadata';
import { SchemaView } from '../schema-view';
import { ensureSelected, planAt, stripAdded } from './selection';
import { scalarField as scalar, relationField as relation } from '../../metadata.fixture';

const user: ModelMeta = {
  name: 'User',
  dbName: 'users',
  idFields: ['id'],
  idGeneration: 'uuid',
  bindRowId: true,
  fields: { id: scalar('id'), name: scalar('name'), email: scalar('email'), posts: relation('posts', 'Post', true) },
  encrypted: { email: { name: 'email', dbName: 'email', mode: 'strict', optional: false } },
  blindIndexes: {},
  uniqueIndexes: [],
};
const post: ModelMeta = {
  name: 'Post',
  dbName: 'posts',
  idFields: ['id'],
  idGeneration: 'cuid',
  bindRowId: true,
  fields: { id: scalar('id'), body: scalar('body'), author: relation('author', 'User', false) },
  encrypted: { body: { name: 'body', dbName: 'body', mode: 'strict', optional: false } },
  blindIndexes: {},
  uniqueIndexes: [],
};
const view = new SchemaView({
  formatVersion: 1,
  keyStoreModel: 'K',
  models: { User: user, Post: post },
} as HushfieldSchema);

describe('ensureSelected', () => {
  it('adds the id of a bound model to a select or omit that drops it, at any depth, and strips it again', () => {
    const { args, strip } = ensureSelected(view, user, {
      select: { email: true, posts: { select: { body: true, author: { omit: { id: true } } } } },
    });
    expect(args).toEqual({
      select: { email: true, id: true, posts: { select: { body: true, id: true, author: { omit: { id: false } } } } },
    });
    const result = {
      email: 'e',
      id: 'u1',
      posts: [{ body: 'b', id: 'p1', author: { id: 'u1', name: 'n', email: 'e' } }],
    };
    stripAdded(result, strip);
    expect(result).toEqual({ email: 'e', posts: [{ body: 'b', author: { name: 'n', email: 'e' } }] });
  });

  it('adds nothing when no encrypted field is selected or the id is already there', () => {
    expect(ensureSelected(view, user, { select: { name: true } }).strip).toEqual({ fields: [], relations: {} });
    expect(ensureSelected(view, user, { select: { id: true, email: true } }).strip).toEqual({
      fields: [],
      relations: {},
    });
    expect(ensureSelected(view, user, { include: { posts: true } }).strip).toEqual({ fields: [], relations: {} });
  });

  it('finds the plan below a fluent-API data path', () => {
    const { strip } = ensureSelected(view, user, { select: { posts: { select: { body: true } } } });
    expect(planAt(strip, ['select', 'posts'])).toEqual({ fields: ['id'], relations: {} });
  });

  it("asks for a field the client's own omit leaves out, unless the query settles it", () => {
    const omitting = new SchemaView(view.schema, { clientOmit: { user: { id: true }, post: { id: true } } });
    const { args, strip } = ensureSelected(omitting, user, { include: { posts: true } });
    expect(args).toEqual({ omit: { id: false }, include: { posts: { omit: { id: false } } } });
    expect(strip).toEqual({ fields: ['id'], relations: { posts: { fields: ['id'], relations: {} } } });
    // The query's own omit (either way) overrides the client's, as in Prisma.
    expect(ensureSelected(omitting, user, { omit: { id: false } }).strip.fields).toEqual([]);
    expect(ensureSelected(omitting, user, { omit: { id: true } }).args).toEqual({ omit: { id: false } });
    expect(ensureSelected(omitting, user, { omit: { id: undefined } }).strip.fields).toEqual([]);
    // A relation left out (false, undefined) stays out.
    for (const posts of [false, undefined]) {
      expect(ensureSelected(omitting, user, { include: { posts } }).args).toEqual({
        omit: { id: false },
        include: { posts },
      });
      expect(ensureSelected(omitting, user, { select: { email: true, posts } }).args).toEqual({
        select: { email: true, posts, id: true },
      });
    }
    // Without encrypted fields in the result, nothing is needed.
    expect(ensureSelected(omitting, user, { omit: { email: true } }).strip.fields).toEqual([]);
  });
});
