import { classifyName, closestName, editDistance } from './annotation-names';

describe('annotation vocabulary', () => {
  it('measures edits and adjacent transpositions', () => {
    expect(editDistance('encrypted', 'encrypted')).toBe(0);
    expect(editDistance('encrpyted', 'encrypted')).toBe(1);
    expect(editDistance('encrypt', 'encrypted')).toBe(2);
  });

  it.each([
    'encrypt',
    'encrpyted',
    'Encrypted',
    'blindindex',
    'encryption:hsh',
    'encyrption',
    'decrypted',
    'hushfield',
  ])('treats @%s as a misspelling of ours', (name) => expect(classifyName(name)).toBe('lookalike'));

  it.each(['deprecated', 'see', 'namespace', 'map', 'id', 'unique'])('leaves @%s to others', (name) => {
    expect(classifyName(name)).toBe('foreign');
  });

  it('suggests the closest name', () => {
    expect(closestName('encrpyted')).toBe('encrypted');
    expect(closestName('blindindex')).toBe('blindIndex');
    expect(closestName('encryption:hsh')).toBe('encryption:hash');
  });
});
