import type { ModelMeta } from '../metadata';
import { KnownScopes } from './known-scopes';

const model = (name: string) => ({ name }) as ModelMeta;

describe('KnownScopes', () => {
  it('recalls the scope last remembered for a row of a model, and forgets it', () => {
    const known = new KnownScopes();
    known.remember(model('User'), 'u1', 't1');
    known.remember(model('User'), 'u1', 't2');
    expect(known.recall(model('User'), 'u1')).toBe('t2');
    expect(known.recall(model('Account'), 'u1')).toBeUndefined();
    known.forget(model('User'), 'u1');
    expect(known.recall(model('User'), 'u1')).toBeUndefined();
  });

  it('keeps at most its bound, dropping the least recently remembered row first', () => {
    const known = new KnownScopes(2);
    known.remember(model('User'), 'a', 't');
    known.remember(model('User'), 'b', 't');
    known.remember(model('User'), 'a', 't'); // refreshed: `b` is now the oldest
    known.remember(model('User'), 'c', 't');
    expect(known.recall(model('User'), 'b')).toBeUndefined();
    expect(known.recall(model('User'), 'a')).toBe('t');
    expect(known.recall(model('User'), 'c')).toBe('t');
  });
});
