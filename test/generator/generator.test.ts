/**
 * The hushfield generator run by the real `prisma generate` (Prisma 7.10) on fixture schemas:
 * every failure case fails generation with a message naming model and field, and the valid
 * schemas (every annotation form, the prisma-field-encryption aliases, the repository's test
 * schema) emit exactly the expected metadata.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HushfieldSchema } from '@hushfield/prisma';
import {
  buildGenerator,
  cleanUp,
  directives,
  FIXTURES,
  generateFixture,
  mapLimit,
  type GenerateResult,
} from './run-generate';

jest.setTimeout(300_000);

const invalid = readdirSync(join(FIXTURES, 'invalid'))
  .filter((f) => f.endsWith('.prisma'))
  .sort();
const valid = readdirSync(join(FIXTURES, 'valid'))
  .filter((f) => f.endsWith('.prisma'))
  .sort();
const results = new Map<string, GenerateResult>();

beforeAll(async () => {
  await buildGenerator();
  const fixtures = [...invalid.map((f) => `invalid/${f}`), ...valid.map((f) => `valid/${f}`)];
  const runs = await mapLimit(fixtures, 3, generateFixture);
  fixtures.forEach((fixture, i) => results.set(fixture, runs[i]));
});

afterAll(() => {
  for (const result of results.values()) cleanUp(result);
});

function succeeded(fixture: string): HushfieldSchema {
  const result = results.get(fixture)!;
  if (result.status !== 0) throw new Error(`prisma generate failed for ${fixture}:\n${result.output}`);
  expect(result.index).toContain('as const satisfies HushfieldSchema');
  return result.schema!;
}

describe('prisma generate with an invalid schema', () => {
  it('has a fixture for every failure case', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(20);
  });

  it.each(invalid)('fails for %s and names the model and field', (fixture) => {
    const expected = directives(readFileSync(join(FIXTURES, 'invalid', fixture), 'utf8'), 'EXPECT');
    expect(expected.length).toBeGreaterThan(0);
    const result = results.get(`invalid/${fixture}`)!;
    expect(result.status).not.toBe(0);
    expect(result.schema).toBeNull();
    // Exactly the expected problems: each fixture isolates one failure case.
    expect(result.output).toContain(
      `hushfield: ${expected.length} problem${expected.length === 1 ? '' : 's'} in the schema`,
    );
    for (const message of expected) expect(result.output).toContain(message);
  });
});

describe('prisma generate with a valid schema', () => {
  it('emits every annotation form of hushfield', () => {
    const { models, keyStoreModel } = succeeded('valid/every-form.prisma');
    expect(keyStoreModel).toBe('HushfieldKey');
    expect(models.Patient).toMatchObject({
      dbName: 'patients',
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      scopeField: 'clinicId',
      encrypted: {
        email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
        ssn: { name: 'ssn', dbName: 'ssn', mode: 'strict', optional: true },
        phone: { name: 'phone', dbName: 'phone', mode: 'migrating', optional: true },
        legacyNote: { name: 'legacyNote', dbName: 'legacyNote', mode: 'readonly', optional: true },
      },
      blindIndexes: {
        emailIdx: {
          name: 'emailIdx',
          dbName: 'email_idx',
          source: 'email',
          normalize: ['lowercase@1', 'trim@1'],
          bits: 256,
          unique: true,
          optional: false,
        },
        ssnIdx: {
          name: 'ssnIdx',
          dbName: 'ssn_idx',
          source: 'ssn',
          normalize: ['digits@1'],
          bits: 16,
          unique: false,
          optional: true,
        },
        phoneIdx: {
          name: 'phoneIdx',
          dbName: 'phoneIdx',
          source: 'phone',
          normalize: ['nfkc@1', 'collapse-whitespace@1', 'uppercase@1'],
          bits: 64,
          unique: false,
          optional: true,
        },
      },
      uniqueIndexes: [],
    });
    expect(models.Patient.fields.clinicId).toEqual({
      name: 'clinicId',
      dbName: 'clinic_id',
      kind: 'scalar',
      type: 'String',
      isList: false,
      isRequired: true,
      isId: false,
    });
    expect(models.Patient.fields.visits).toMatchObject({
      kind: 'object',
      type: 'Visit',
      isList: true,
      relationModel: 'Visit',
    });
    expect(models.Visit).toMatchObject({
      dbName: 'visits',
      idGeneration: 'autoincrement',
      bindRowId: false,
      scopeField: 'practiceId',
      encrypted: { reason: { dbName: 'reason_enc', mode: 'strict' } },
      blindIndexes: {
        reasonIdx: { dbName: 'reason_idx', source: 'reason', normalize: ['trim@1'], bits: 256, unique: false },
      },
      uniqueIndexes: [
        { name: 'practiceId_reasonIdx', fields: ['practiceId', 'reasonIdx'] },
        { name: 'patientPractice', fields: ['patientId', 'practiceId'] },
      ],
    });
  });

  it('maps the prisma-field-encryption forms onto the same metadata', () => {
    const member = succeeded('valid/aliases.prisma').models.Member;
    expect(member.encrypted).toEqual({
      email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
      name: { name: 'name', dbName: 'name', mode: 'strict', optional: true },
      bio: { name: 'bio', dbName: 'bio', mode: 'readonly', optional: true },
      phone: { name: 'phone', dbName: 'phone', mode: 'migrating', optional: true },
      token: { name: 'token', dbName: 'token', mode: 'readonly', optional: true },
    });
    expect(member.blindIndexes).toEqual({
      emailHash: {
        name: 'emailHash',
        dbName: 'emailHash',
        source: 'email',
        normalize: ['lowercase@1', 'trim@1'],
        bits: 256,
        unique: true,
        optional: true,
      },
      nameHash: {
        name: 'nameHash',
        dbName: 'nameHash',
        source: 'name',
        normalize: [],
        bits: 256,
        unique: false,
        optional: true,
      },
    });
    expect(Object.keys(member.encrypted)).not.toContain('handle');
  });

  it('reads how each id is generated and binds rows only where the id is known before the write', () => {
    const { models } = succeeded('valid/id-generation.prisma');
    const summary = Object.fromEntries(
      Object.values(models)
        .filter((m) => m.name.startsWith('By'))
        .map((m) => [m.name, [m.idGeneration, m.bindRowId]]),
    );
    expect(summary).toEqual({
      ByUuid: ['uuid', true],
      ByUuid7: ['uuid7', true],
      ByCuid: ['cuid', true],
      ByCuid2: ['cuid2', true],
      ByUlid: ['ulid', true],
      ByNanoid: ['nanoid', true],
      ByNanoid16: ['nanoid(16)', true],
      BySequence: ['autoincrement', false],
      ByDatabase: ['database', false],
      ByCaller: ['none', true],
      ByCompound: ['none', false],
    });
    expect(models.ByCompound.idFields).toEqual(['a', 'b']);
  });

  it('accepts Json, Json?, Bytes, Bytes? and String[] fields and records their types', () => {
    const { encrypted } = succeeded('valid/typed-fields.prisma').models.Chart;
    expect(encrypted).toEqual({
      body: { name: 'body', dbName: 'body', mode: 'strict', optional: false, type: 'Json' },
      extra: { name: 'extra', dbName: 'extra', mode: 'strict', optional: true, type: 'Json' },
      scan: { name: 'scan', dbName: 'scan', mode: 'strict', optional: false, type: 'Bytes' },
      thumb: { name: 'thumb', dbName: 'thumb', mode: 'migrating', optional: true, type: 'Bytes' },
      codes: { name: 'codes', dbName: 'diagnosis_codes', mode: 'strict', optional: false, type: 'String[]' },
    });
  });

  it('uses the key-store model named in the generator block', () => {
    const schema = succeeded('valid/custom-key-store.prisma');
    expect(schema.keyStoreModel).toBe('EncryptionKey');
    expect(schema.models.EncryptionKey.dbName).toBe('encryption_keys');
    expect(schema.models.HushfieldKey).toBeUndefined();
  });

  it("reads a real application's shapes: other generators' annotations, models without a single id, @@map(name:)", () => {
    const { models } = succeeded('valid/adopted-app.prisma');
    const summary = Object.fromEntries(
      Object.values(models)
        .filter((m) => m.name !== 'HushfieldKey')
        .map((m) => [m.name, [m.dbName, m.idFields, m.idGeneration, m.bindRowId, Object.keys(m.encrypted)]]),
    );
    expect(summary).toEqual({
      MemberSecret: ['MemberSecret', [], 'none', false, ['hash']],
      Member: ['members', ['id'], 'autoincrement', false, ['email', 'fullName', 'twoFactorSecret', 'phones']],
      Meeting: ['Meeting', ['id'], 'autoincrement', false, ['description']],
      Credential: ['Credential', ['id'], 'autoincrement', false, ['key']],
      Hook: ['Hook', ['id'], 'none', true, ['secret']],
      Deployment: ['Deployment', ['id'], 'database', false, ['licenseKey']],
      CalendarCache: ['CalendarCache', ['credentialId', 'key'], 'none', false, ['value']],
    });
    expect(models.Member.blindIndexes.emailIdx).toMatchObject({ dbName: 'email_idx', source: 'email', unique: true });
    expect(models.Member.uniqueIndexes).toEqual([
      { name: 'emailIdx', fields: ['emailIdx'] },
      { name: 'emailIdx_handle', fields: ['emailIdx', 'handle'] },
    ]);
    expect(models.Member.fields.createdDate.dbName).toBe('created');
    expect(Object.values(models).filter((m) => 'schema' in m)).toEqual([]);
    expect(models.Member.fields.movedFrom).toMatchObject({ kind: 'object', isList: true, relationModel: 'Member' });
    expect(models.Meeting.fields.members).toMatchObject({ relationName: 'member_meeting', relationModel: 'Member' });
    expect(models.Credential.encrypted.key.type).toBe('Json');
    expect(models.Member.encrypted.phones.type).toBe('String[]'); // @default([]): an empty list holds no plaintext
    expect(models.Hook.uniqueIndexes).toEqual([{ name: 'hookIdentifier', fields: ['subscriberUrl', 'createdAt'] }]);
  });

  it('accepts one table name in two database schemas when only one of the models encrypts the column', () => {
    const { models } = succeeded('valid/multi-schema.prisma');
    expect(models.AuthUser.dbName).toBe('users');
    expect([models.AuthUser.schema, models.Profile.schema, models.Session.schema]).toEqual(['auth', 'public', 'auth']);
    expect(models.AuthUser.encrypted).toEqual({});
    expect(models.Profile).toMatchObject({
      dbName: 'users',
      bindRowId: true,
      encrypted: { email: { dbName: 'email' } },
    });
    expect(models.Session).toMatchObject({ dbName: 'sessions', idGeneration: 'uuid7', bindRowId: true });
  });
});
