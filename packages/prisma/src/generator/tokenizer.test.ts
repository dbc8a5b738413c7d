import { classifyName } from './annotation-names';
import { tokenize, type NameClass } from './tokenizer';

const ours = ['encrypted', 'blindIndex', 'encryption', 'encryption:hash'];
const classify = (name: string): NameClass =>
  ours.includes(name) ? 'ours' : name.startsWith('encr') ? 'lookalike' : 'foreign';

describe('annotation tokenizer', () => {
  it('reads a bare annotation', () => {
    expect(tokenize('@encrypted', classify)).toEqual({
      annotations: [{ name: 'encrypted', args: null, query: null, text: '@encrypted' }],
      problems: [],
    });
  });

  it('reads named arguments of every value kind', () => {
    const { annotations } = tokenize('@blindIndex(source: email, normalize: "lowercase,trim", bits: 16)', classify);
    expect(annotations[0].args).toEqual([
      { key: 'source', value: { kind: 'identifier', text: 'email' } },
      { key: 'normalize', value: { kind: 'string', text: 'lowercase,trim' } },
      { key: 'bits', value: { kind: 'number', text: '16' } },
    ]);
  });

  it('reads single-quoted strings with escapes, negative numbers and a trailing comma', () => {
    const { annotations } = tokenize(`@blindIndex(normalize: 'a\\'b\\\\', bits: -8,)`, classify);
    expect(annotations[0].args).toEqual([
      { key: 'normalize', value: { kind: 'string', text: "a'b\\" } },
      { key: 'bits', value: { kind: 'number', text: '-8' } },
    ]);
  });

  it('reads positional arguments and a query string', () => {
    const { annotations } = tokenize('@encryption:hash(email)?normalize=lowercase&normalize=trim&salt', classify);
    expect(annotations[0]).toMatchObject({
      name: 'encryption:hash',
      args: [{ key: null, value: { kind: 'identifier', text: 'email' } }],
      query: [
        { key: 'normalize', value: 'lowercase' },
        { key: 'normalize', value: 'trim' },
        { key: 'salt', value: null },
      ],
    });
  });

  it('finds annotations among ordinary comment lines and after prose on the same line', () => {
    const doc =
      'The e-mail address, see RFC 5322.\npre @encrypted <- annotate fields to encrypt\n@blindIndex(source: email)';
    const { annotations, problems } = tokenize(doc, classify);
    expect(problems).toEqual([]);
    expect(annotations.map((a) => a.name)).toEqual(['encrypted', 'blindIndex']);
  });

  it('ignores foreign @names and e-mail addresses', () => {
    const { annotations, problems } = tokenize('@deprecated use x\nwrite to ops@encrypted.example', classify);
    expect(annotations).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('finds an annotation after any whitespace, a no-break space too', () => {
    const { annotations, problems } = tokenize('The e-mail address\u00a0@encrypted', classify);
    expect(problems).toEqual([]);
    expect(annotations.map((a) => a.name)).toEqual(['encrypted']);
  });

  it.each(['Email (@encrypted)', 'Email,@encrypted', '`@encrypted`', '*@encrypted*', '"@encrypt"'])(
    'reports an annotation glued to punctuation in %s instead of skipping it',
    (doc) => {
      const { annotations, problems } = tokenize(doc, classify);
      expect(annotations).toEqual([]);
      expect(problems).toHaveLength(1);
    },
  );

  it.each(['Handle, e.g. "@matchmaker"', 'Follow us (@cryptopunks)', '`@blindspot` on X'])(
    'leaves a handle glued to punctuation alone in %s when it is no near misspelling of ours',
    (doc) => {
      expect(tokenize(doc, classifyName)).toEqual({ annotations: [], problems: [] });
    },
  );

  it('reports a lookalike name instead of skipping it', () => {
    expect(tokenize('@encrpyted', classify).problems).toEqual([{ name: 'encrpyted', reason: 'lookalike', detail: '' }]);
  });

  it.each([
    ['@encrypted(mode: strict', 'expected "," or ")"'],
    ['@encrypted(mode strict)', 'expected "," or ")"'],
    ['@blindIndex(source: "email)', 'unterminated string'],
    ['@blindIndex(source: "a\\nb")', 'only \\" and \\\\ escapes'],
    ['@blindIndex(bits: 16x)', 'malformed number'],
    ['@blindIndex("source": email)', 'argument name must be a plain name'],
    ['@blindIndex(source: )', 'expected a value'],
    ['@encrypted?', 'expected an option name'],
    ['@encrypted?mode=', 'has "=" but no value'],
    ['@encrypted.', 'unexpected "." after the annotation'],
    ['@encrypted(mode: strict)x', 'unexpected "x" after the annotation'],
  ])('reports a syntax error in %s', (doc, detail) => {
    const { annotations, problems } = tokenize(doc, classify);
    expect(annotations).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0].reason).toBe('syntax');
    expect(problems[0].detail).toContain(detail);
  });

  it('refuses to scan an oversized comment', () => {
    expect(tokenize('x'.repeat(70_000), classify).problems[0].detail).toContain('longer than');
  });
});
