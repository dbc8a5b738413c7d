import { checkEnums, checkSchemaText } from './stray-annotations';

describe('checkSchemaText', () => {
  it('reports an annotation written in a // comment above or beside a field, or above a model', () => {
    const text = [
      '// @encryption(scope: orgId)',
      'model Member {',
      '  id    String @id',
      '  orgId String',
      '  // @encrypted',
      '  email String',
      '  phone String? // @encrypted(mode: migrating)',
      '  //   @Encrypted',
      '  ssn   String?',
      '}',
    ].join('\n');
    expect(checkSchemaText(text)).toEqual([
      expect.stringMatching(/^Member: "\/\/ @encryption\(scope: orgId\)" is an ordinary comment/),
      expect.stringMatching(/^Member\.email: "\/\/ @encrypted" is an ordinary comment/),
      expect.stringMatching(/^Member\.phone: "\/\/ @encrypted\(mode: migrating\)" is an ordinary comment/),
      expect.stringMatching(/^Member\.ssn: "\/\/ @Encrypted" is an ordinary comment/),
    ]);
  });

  it('leaves prose, foreign tags, documentation and // inside strings alone', () => {
    const text = [
      '// EXPECT: Member.email: unknown annotation @encrypt',
      'model Member {',
      '  id    String @id',
      '  // Not secret (unlike the @encrypted email): sortable.',
      '  name  String',
      '  // @see the wiki',
      '  note  String @default("// @encrypted")',
      '  //// @encrypted',
      '  /// @encrypted',
      '  email String',
      '}',
    ].join('\n');
    expect(checkSchemaText(text)).toEqual([]);
  });

  it('reports annotations on @ignore, Unsupported and @@ignore members and on views, not on their plain fields', () => {
    const text = [
      'model A {',
      '  id  Int                     @id',
      '  /// @encrypted',
      '  old String?                 @ignore',
      '  tsv Unsupported("tsvector")? /// @encrypted',
      '  /// plain, ignored',
      '  raw String?                 @ignore',
      '}',
      'model B {',
      '  id Int @id',
      '  /// @encrypted',
      '  x  String',
      '  @@ignore',
      '}',
      'view V {',
      '  id Int    @unique',
      '  /// @blindIndex(source: x)',
      '  x  String',
      '}',
    ].join('\n');
    expect(checkSchemaText(text)).toEqual([
      expect.stringMatching(/^A\.old: @encrypted on a field Prisma leaves out of its client \(@ignore\)/),
      expect.stringMatching(/^A\.tsv: @encrypted on a field Prisma leaves out of its client \(Unsupported\)/),
      expect.stringMatching(/^B\.x: @encrypted on a field Prisma leaves out of its client \(@@ignore\)/),
      expect.stringMatching(/^V\.x: @blindIndex on a view cannot work/),
    ]);
  });
});

describe('checkEnums', () => {
  it('reports an annotation (or a lookalike) on an enum or a value, and leaves other documentation alone', () => {
    const problems = checkEnums([
      { name: 'Role', documentation: 'Roles. @see docs', values: [{ name: 'A', documentation: '@encrypt' }] },
      { name: 'Kind', documentation: '@encrypted', values: [{ name: 'B' }] },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^Role\.A: @encrypt on an enum value does nothing/),
      expect.stringMatching(/^Kind: @encrypted on an enum does nothing/),
    ]);
  });
});
