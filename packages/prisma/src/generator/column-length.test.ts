import { randomBytes } from 'node:crypto';
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import { validateSchema } from './build-schema';
import type { DmmfDocument } from './dmmf';
import { MIN_ENVELOPE_LENGTH, maxIndexLength } from './field-declaration';
import { dmmfField, keyStoreModel } from './dmmf.fixture';

// The generator refuses length-limited columns that can never hold what core writes. These
// tests tie its bounds to core's real output, so a change of the envelope format shows here.

const crypto = new FieldCrypto({
  keyring: new LocalKeyring(randomBytes(32)),
  keyStore: new MemoryKeyStore(),
  cache: { ttlMs: 60_000 },
});

const field = dmmfField;
const keyStore = keyStoreModel();

function problems(
  email: [string, string[]] | null,
  index: [string, string[]] | null,
  bits = 256,
  provider?: string,
): string[] {
  const document: DmmfDocument = {
    datamodel: {
      models: [
        keyStore,
        {
          name: 'User',
          dbName: null,
          primaryKey: null,
          uniqueIndexes: [],
          fields: [
            field({ name: 'id', isId: true }),
            field({ name: 'email', documentation: '@encrypted', nativeType: email }),
            field({ name: 'emailIdx', documentation: `@blindIndex(source: email, bits: ${bits})`, nativeType: index }),
          ],
        },
      ],
    },
  };
  return validateSchema(document, provider === undefined ? {} : { provider }).problems;
}

describe('length-limited columns', () => {
  it('knows the shortest envelope core writes', async () => {
    const row = await crypto.rowEncryptor('default');
    try {
      const envelope = row.encrypt('', { model: 'users', field: 'email' });
      // Core's key ids are longer than the 1 character the bound assumes.
      expect(envelope.length).toBe(MIN_ENVELOPE_LENGTH + row.keyId.length - 1);
    } finally {
      row.dispose();
    }
  });

  it.each([1, 7, 8, 12, 16, 100, 128, 255, 256])('knows an upper bound of a %i-bit index value', async (bits) => {
    const value = await crypto.blindIndex(
      { model: 'users', field: 'email_idx', name: 'email_idx', normalize: [], bits },
      'a@b.c',
    );
    expect(value.length).toBeLessThanOrEqual(maxIndexLength(bits));
    // 'v1.n1.' instead of 'v' + 10 digits + '.n' + 3 digits + '.'
    expect(value.length).toBe(maxIndexLength(bits) - 11);
  });

  it('rejects an encrypted @db.VarChar that cannot hold an envelope', () => {
    expect(problems(['VarChar', ['100']], null)).toEqual([
      `User.email: @encrypted column is @db.VarChar(100), too short for any envelope (at least ${MIN_ENVELOPE_LENGTH} characters); widen it or drop the length`,
    ]);
  });

  it('rejects a blind-index @db.Char shorter than its longest value', () => {
    expect(problems(null, ['Char', ['40']])).toEqual([
      'User.emailIdx: @blindIndex column is @db.Char(40), too short for a 256-bit index (at least 60 characters); widen it or drop the length',
    ]);
    expect(problems(null, ['Char', ['40']], 64)).toEqual([]);
    // 12 bits take 2 bytes, 3 base64url characters: 'v' + 10 + '.n' + 3 + '.' + 3 = 20.
    expect(problems(null, ['Char', ['19']], 12)).toEqual([
      'User.emailIdx: @blindIndex column is @db.Char(19), too short for a 12-bit index (at least 20 characters); widen it or drop the length',
    ]);
    expect(problems(null, ['Char', ['20']], 12)).toEqual([]);
  });

  it("on MySQL, rejects an encrypted String left at Prisma's default VARCHAR(191), naming the types that fit", async () => {
    const [problem] = problems(null, null, 256, 'mysql');
    expect(problem).toContain('User.email: @encrypted String has no @db type, which on MySQL is VARCHAR(191)');
    expect(problem).toContain('@db.Text');
    // The bound it states is real: the longest value that fits 191 characters, and one byte more does not.
    const fits = Number(/only values up to (\d+) bytes/.exec(problem)![1]);
    const row = await crypto.rowEncryptor('default');
    try {
      const spare = row.keyId.length - 1;
      expect(row.encrypt('x'.repeat(fits), { model: 'users', field: 'email' }).length - spare).toBeLessThanOrEqual(191);
      expect(row.encrypt('x'.repeat(fits + 3), { model: 'users', field: 'email' }).length - spare).toBeGreaterThan(191);
    } finally {
      row.dispose();
    }
    expect(problems(['Text', []], null, 256, 'mysql')).toEqual([]);
    expect(problems(['MediumText', []], null, 256, 'mysql')).toEqual([]);
    expect(problems(null, null, 256, 'postgresql')).toEqual([]);
    expect(problems(null, null, 256, 'sqlite')).toEqual([]);
  });

  it('rejects an encrypted @db.Char where the provider pads shorter values (envelopes vary in length)', () => {
    const padded =
      'User.email: @encrypted column is @db.Char(600), which returns a shorter value padded with spaces ' +
      '(PostgreSQL, SQL Server), and envelopes vary in length: no value would decrypt; use @db.Text or @db.VarChar(n)';
    expect(problems(['Char', ['600']], null, 256, 'postgresql')).toEqual([padded]);
    expect(problems(['Char', ['600']], null)).toEqual([padded]);
    // MySQL returns a CHAR value without trailing spaces, which an envelope never has
    expect(problems(['Char', ['255']], null, 256, 'mysql')).toEqual([]);
  });

  it('accepts wide enough, unbounded and other native types', () => {
    expect(problems(['VarChar', ['1024']], ['VarChar', ['64']])).toEqual([]);
    expect(problems(['Text', []], ['VarChar', []])).toEqual([]);
    expect(problems(null, null)).toEqual([]);
  });
});
