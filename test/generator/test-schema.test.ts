/**
 * The generator on the repository's test schema (`prisma/schema.prisma`), through the real
 * `prisma generate`: the metadata the extension, CLI and benches read, and a generated module
 * that type-checks against `HushfieldSchema` (and stops type-checking when it is wrong).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildGenerator, cleanUp, GENERATOR_BIN, ROOT, runPrismaGenerate, type GenerateResult } from './run-generate';

jest.setTimeout(300_000);
const execFileAsync = promisify(execFile);

let result: GenerateResult;

beforeAll(async () => {
  await buildGenerator();
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-test-schema-'));
  // The repository schema as is, minus the client generator (not under test here), with the
  // hushfield generator named by absolute path.
  const schema = readFileSync(join(ROOT, 'prisma', 'schema.prisma'), 'utf8')
    .replace(/generator client \{[^}]*\}/, '')
    .replace('node ../packages/prisma/dist/generator/bin.js', `node ${GENERATOR_BIN}`);
  writeFileSync(join(dir, 'schema.prisma'), schema);
  result = await runPrismaGenerate(dir, join(dir, 'schema.prisma'), join(dir, 'generated', 'hushfield'));
});

afterAll(() => cleanUp(result));

async function typeCheck(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const dir = join(result.dir, `tsc-${Object.keys(files).length}-${Date.now()}`);
  mkdirSync(join(dir, 'generated'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node10',
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        baseUrl: '.',
        paths: { '@hushfield/prisma': [join(ROOT, 'packages', 'prisma', 'dist', 'index.d.ts')] },
      },
      files: Object.keys(files),
    }),
  );
  try {
    await execFileAsync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: dir });
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout) };
  }
}

describe('the generated metadata of the test schema', () => {
  it('generates', () => {
    expect(result.output).toContain('Generated hushfield schema');
    expect(result.status).toBe(0);
  });

  it('describes User: uuid ids bound to rows, tenant scope, a unique and a truncated blind index', () => {
    expect(result.schema!.models.User).toMatchObject({
      dbName: 'users',
      idFields: ['id'],
      idGeneration: 'uuid',
      bindRowId: true,
      scopeField: 'tenantId',
      encrypted: {
        email: { name: 'email', dbName: 'email', mode: 'strict', optional: false },
        ssn: { name: 'ssn', dbName: 'ssn', mode: 'strict', optional: true },
        notes: { name: 'notes', dbName: 'notes', mode: 'strict', optional: true },
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
      },
    });
    expect(Object.keys(result.schema!.models.User.encrypted)).toEqual(['email', 'ssn', 'notes']);
  });

  it('describes Contact: per-scope blind indexes, scoped by its organization', () => {
    const contact = result.schema!.models.Contact;
    expect(contact.scopeField).toBe('orgId');
    expect(contact.blindIndexes.emailIdx).toMatchObject({ perScope: true, bits: 256, dbName: 'email_idx' });
    expect(contact.blindIndexes.phoneIdx).toMatchObject({ perScope: true, bits: 12 });
    expect('perScope' in result.schema!.models.User.blindIndexes.emailIdx).toBe(false);
  });

  it('describes Post, Account, Customer and the key store', () => {
    const { models, keyStoreModel } = result.schema!;
    expect(keyStoreModel).toBe('HushfieldKey');
    expect(Object.keys(models)).toEqual([
      'User',
      'Post',
      'Account',
      'Customer',
      'Device',
      'Organization',
      'Member',
      'Invoice',
      'Contact',
      'Document',
      'Person',
      'Setting',
      'Ticket',
      'Shipment',
      'ShipmentLabel',
      'Team',
      'TeamNote',
      'TicketNote',
      'Receipt',
      'Voucher',
      'Locker',
      'Billing',
      'Passport',
      'Folder',
      'Label',
      'GiftCard',
      'SeatHold',
      'HushfieldKey',
      'HushfieldCheckpoint',
      'HushfieldRun',
      'HushfieldRange',
      'HushfieldAuditEvent',
    ]);
    expect(models.Post).toMatchObject({
      dbName: 'posts',
      idGeneration: 'autoincrement',
      bindRowId: false,
      encrypted: { body: { mode: 'strict' } },
    });
    expect(models.Post.fields.author).toMatchObject({
      kind: 'object',
      relationModel: 'User',
      relationName: 'PostToUser',
      relationFromFields: ['authorId'],
      relationToFields: ['id'],
    });
    expect(models.User.fields.posts).toMatchObject({ kind: 'object', relationName: 'PostToUser' });
    expect(models.User.fields.posts.relationFromFields).toBeUndefined();
    expect(models.Device).toMatchObject({
      bindRowId: true,
      scopeField: 'tenantId',
      fields: { id: { uuid: true }, tenantId: { uuid: true } },
    });
    expect(models.Device.fields.serial.uuid).toBeUndefined();
    expect(models.Locker).toMatchObject({
      scopeField: 'siteCode',
      fields: { siteCode: { dbName: 'site_code', maxLength: 8, fixedLength: 'pads' } },
    });
    expect(models.Post.scopeField).toBeUndefined();
    expect(models.Account).toMatchObject({
      idGeneration: 'cuid',
      bindRowId: true,
      encrypted: { externalId: { dbName: 'external_id' } },
      blindIndexes: { externalIdIdx: { dbName: 'external_id_idx', source: 'externalId', bits: 256, unique: false } },
      uniqueIndexes: [{ name: 'provider_externalIdIdx', fields: ['provider', 'externalIdIdx'] }],
    });
    expect(models.Customer).toMatchObject({
      bindRowId: false,
      encrypted: { email: { mode: 'migrating', optional: false }, phone: { mode: 'migrating', optional: true } },
      blindIndexes: { emailIdx: { source: 'email', unique: true, optional: true } },
    });
    expect(models.HushfieldKey.encrypted).toEqual({});
  });

  it('binds Receipt to its public id and Voucher to its code, and neither to the id the database assigns', () => {
    const { models } = result.schema!;
    expect(models.Receipt).toMatchObject({
      idGeneration: 'autoincrement',
      bindRowId: true,
      bindField: 'publicId',
      bindGeneration: 'cuid',
      scopeField: 'orgId',
    });
    expect(models.Voucher).toMatchObject({ bindRowId: true, bindField: 'code', bindGeneration: 'none' });
    expect(models.Ticket.bindRowId).toBe(false);
    // An Int id that is a foreign key (the ticket's): known before the write, so bound.
    expect(models.TicketNote).toMatchObject({ idFields: ['id'], idGeneration: 'none', bindRowId: true });
    expect(models.ShipmentLabel).toMatchObject({ idFields: ['id'], idGeneration: 'none', bindRowId: true });
    // The shipment's own BigInt id the caller gives, which no relation holds: not bound.
    expect(models.Shipment.bindRowId).toBe(false);
  });

  it('describes the scopes of Organization, Member and Invoice and the foreign keys that carry them', () => {
    const { models } = result.schema!;
    expect(models.Organization).toMatchObject({ idGeneration: 'uuid', bindRowId: true, scopeField: 'id' });
    expect(models.Member).toMatchObject({ idGeneration: 'cuid', scopeField: 'orgId', scopeRelation: 'org' });
    expect(models.Member.fields.org).toMatchObject({ relationFromFields: ['orgId'], relationToFields: ['id'] });
    expect(models.Invoice).toMatchObject({ scopeField: 'orgId', scopeRelation: 'member' });
    expect(models.Invoice.fields.member).toMatchObject({
      relationFromFields: ['memberId', 'orgId'],
      relationToFields: ['id', 'orgId'],
    });
  });

  it('emits a module that type-checks as HushfieldSchema with literal types', async () => {
    const check = [
      "import type { HushfieldSchema } from '@hushfield/prisma';",
      "import { hushfieldSchema } from './generated/index';",
      'const schema: HushfieldSchema = hushfieldSchema;',
      'const bits: 16 = hushfieldSchema.models.User.blindIndexes.ssnIdx.bits;',
      "const mode: 'migrating' = hushfieldSchema.models.Customer.encrypted.email.mode;",
      'export { schema, bits, mode };',
    ].join('\n');
    const checked = await typeCheck({ 'generated/index.ts': result.index!, 'check.ts': check });
    expect(checked).toEqual({ ok: true, output: '' });
  });

  it('emits a module whose type check catches a wrong value', async () => {
    const tampered = result.index!.replace('"mode": "migrating"', '"mode": "lenient"');
    expect(tampered).not.toBe(result.index);
    const checked = await typeCheck({ 'generated/index.ts': tampered });
    expect(checked.ok).toBe(false);
    expect(checked.output).toContain('"lenient"');
  });
});
