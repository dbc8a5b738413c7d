import { parseAnnotations } from './annotations';

const field = (doc: string) => parseAnnotations(doc, 'field');

describe('field annotations', () => {
  it('defaults @encrypted to strict mode', () => {
    expect(field('@encrypted')).toEqual({ annotations: [{ kind: 'encrypted', mode: 'strict' }], problems: [] });
  });

  it.each([
    ['@encrypted(mode: migrating)', 'migrating'],
    ['@encrypted(mode: "readonly")', 'readonly'],
    ['@encrypted(mode: strict)', 'strict'],
    ['@encrypted()', 'strict'],
    ['@encrypted?mode=strict', 'strict'],
    ['@encrypted?mode=readonly', 'readonly'],
    ['@encrypted?mode=migrating', 'migrating'],
    ['@encrypted?readonly', 'readonly'],
    ['@encrypted?strict', 'strict'],
    // prisma-field-encryption's deprecated flags: readonly takes precedence over strict there.
    ['@encrypted?strict&readonly', 'readonly'],
    ['@encrypted?readonly&strict', 'readonly'],
  ])('reads %s as mode %s', (doc, mode) => {
    expect(field(doc)).toEqual({ annotations: [{ kind: 'encrypted', mode }], problems: [] });
  });

  it('reads a blind index with defaults', () => {
    expect(field('@blindIndex(source: email)').annotations).toEqual([
      { kind: 'blindIndex', source: 'email', normalize: [], bits: 256 },
    ]);
  });

  it('reads a blind index with normalizers and a length', () => {
    expect(field('@blindIndex(source: "ssn", normalize: "digits, collapse-whitespace", bits: 16)').annotations).toEqual(
      [{ kind: 'blindIndex', source: 'ssn', normalize: ['digits@1', 'collapse-whitespace@1'], bits: 16 }],
    );
  });

  it('reads versioned normalizers, any bit count from 1 to 256, and the expected number of values', () => {
    expect(
      field('@blindIndex(source: email, normalize: "trim@1,lowercase", bits: 13, expected: 1000000)').annotations,
    ).toEqual([
      { kind: 'blindIndex', source: 'email', normalize: ['trim@1', 'lowercase@1'], bits: 13, expected: 1_000_000 },
    ]);
    expect(field('@blindIndex(source: email, bits: 1)').annotations).toEqual([
      { kind: 'blindIndex', source: 'email', normalize: [], bits: 1 },
    ]);
  });

  it('reads perScope: true, migrating and false, and refuses any other value', () => {
    expect(field('@blindIndex(source: email, perScope: true)').annotations).toEqual([
      { kind: 'blindIndex', source: 'email', normalize: [], bits: 256, perScope: true },
    ]);
    expect(field('@blindIndex(source: email, perScope: migrating)').annotations).toEqual([
      { kind: 'blindIndex', source: 'email', normalize: [], bits: 256, perScope: 'migrating' },
    ]);
    expect(field('@blindIndex(source: email, perScope: false)').annotations).toEqual([
      { kind: 'blindIndex', source: 'email', normalize: [], bits: 256 },
    ]);
    for (const value of ['yes', '"true"', '1']) {
      const parsed = field(`@blindIndex(source: email, perScope: ${value})`);
      expect(parsed.annotations).toEqual([]);
      expect(parsed.problems.join('\n')).toContain('perScope');
    }
  });

  it('reads the prisma-field-encryption hash as a full-length blind index', () => {
    const doc = '@encryption:hash(email)?normalize=lowercase&normalize=trim&algorithm=sha512&outputEncoding=base64';
    expect(field(doc)).toEqual({
      annotations: [{ kind: 'blindIndex', source: 'email', normalize: ['lowercase@1', 'trim@1'], bits: 256 }],
      problems: [],
    });
  });

  it('accepts @encryption:cursor without effect', () => {
    expect(field('@encryption:cursor')).toEqual({ annotations: [{ kind: 'cursor' }], problems: [] });
  });

  it.each([
    ['@encrypt', 'unknown annotation @encrypt (did you mean @encrypted?)'],
    ['@encrpyted', 'unknown annotation @encrpyted (did you mean @encrypted?)'],
    ['@blindindex(source: email)', 'unknown annotation @blindindex (did you mean @blindIndex?)'],
    ['@encryption:hsh(email)', 'unknown annotation @encryption:hsh (did you mean @encryption:hash?)'],
    ['@encrypted(mode: lenient)', '"lenient" is not a valid mode'],
    ['@encrypted(mod: strict)', '@encrypted has no argument "mod"'],
    ['@encrypted(strict)', 'takes named arguments'],
    ['@encrypted(mode: strict, mode: strict)', 'gives "mode" twice'],
    ['@encrypted?mode=lenient', '"lenient" is not a valid mode'],
    ['@encrypted?mode=strict&mode=readonly', 'names two different modes'],
    ['@encrypted?mode=strict&readonly', 'names two different modes'],
    ['@encrypted?fast', '@encrypted has no option "fast"'],
    ['@encrypted(mode: strict)?mode=strict', 'mixes (arguments) and ?options'],
    ['@blindIndex', '@blindIndex needs "source"'],
    ['@blindIndex(normalize: "trim")', '@blindIndex needs "source"'],
    ['@blindIndex(source: 12)', '"source" must name a field'],
    ['@blindIndex(source: email, bits: 257)', 'bits must be an integer from 1 to 256, got "257"'],
    ['@blindIndex(source: email, bits: 0)', 'bits must be an integer from 1 to 256'],
    ['@blindIndex(source: email, bits: -3)', 'bits must be an integer from 1 to 256'],
    ['@blindIndex(source: email, bits: "16")', 'bits must be an integer from 1 to 256'],
    ['@blindIndex(source: email, bits: 16, expected: 0)', 'expected must be a positive integer'],
    ['@blindIndex(source: email, bits: 16, expected: "many")', 'expected must be a positive integer'],
    ['@blindIndex(source: email, bits: 16, expected: -1)', 'expected must be a positive integer'],
    ['@blindIndex(source: email, normalize: "lowercase@2")', '"lowercase@2" is not a valid normalize'],
    ['@blindIndex(source: email, normalize: "lower")', '"lower" is not a valid normalize'],
    ['@blindIndex(source: email, length: 16)', '@blindIndex has no argument "length"'],
    ['@blindIndex(source: email)?bits=8', 'does not take "?option=value" options'],
    ['@encryption:hash', 'needs exactly one source field'],
    ['@encryption:hash(a, b)', 'needs exactly one source field'],
    ['@encryption:hash(email)?normalize=spaces', 'normalize=spaces from prisma-field-encryption is not supported'],
    [
      '@encryption:hash(email)?normalize=diacritics',
      'normalize=diacritics from prisma-field-encryption is not supported',
    ],
    ['@encryption:hash(email)?normalize=shout', '"shout" is not a valid normalize'],
    ['@encryption:hash(email)?pepper=x', 'has no option "pepper"'],
    ['@encryption:hash(email)?normalize', 'option "normalize" needs a value'],
    ['@encryption:cursor(id)', 'takes no arguments'],
    ['@encryption(scope: tenantId)', 'belongs on a model'],
  ])('rejects %s', (doc, message) => {
    const parsed = field(doc);
    expect(parsed.annotations).toEqual([]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toContain(message);
  });

  it('keeps reading after a problem and reports each one', () => {
    const parsed = field('@encrypt\n@blindIndex(source: email)\n@encrypted(mode: x)');
    expect(parsed.annotations).toEqual([{ kind: 'blindIndex', source: 'email', normalize: [], bits: 256 }]);
    expect(parsed.problems).toHaveLength(2);
  });
});

describe('model annotations', () => {
  it('reads the scope field', () => {
    expect(parseAnnotations('A tenant-scoped model.\n@encryption(scope: tenantId)', 'model')).toEqual({
      annotations: [{ kind: 'model', scope: 'tenantId' }],
      problems: [],
    });
  });

  it('reads the bound field, alone or with the scope', () => {
    expect(parseAnnotations('@encryption(bind: publicId)', 'model').annotations).toEqual([
      { kind: 'model', bind: 'publicId' },
    ]);
    expect(parseAnnotations('@encryption(scope: orgId, bind: publicId)', 'model').annotations).toEqual([
      { kind: 'model', scope: 'orgId', bind: 'publicId' },
    ]);
    expect(parseAnnotations('@encryption(bind: "not a name")', 'model').problems).toHaveLength(1);
  });

  it.each([
    ['@encryption', '@encryption needs "scope"'],
    ['@encryption(tenant: tenantId)', 'has no argument "tenant"'],
    ['@encryption(scope: tenantId)?x=1', 'does not take'],
    ['@encrypted', '@encrypted belongs on a field'],
    ['@blindIndex(source: a)', '@blindIndex belongs on a field'],
  ])('rejects %s', (doc, message) => {
    const parsed = parseAnnotations(doc, 'model');
    expect(parsed.annotations).toEqual([]);
    expect(parsed.problems[0]).toContain(message);
  });
});
