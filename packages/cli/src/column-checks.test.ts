import type { HushfieldSchema } from '@hushfield/prisma';
import { judgeColumns, type ColumnFact } from './column-checks';

const schema = {
  formatVersion: 1,
  keyStoreModel: 'HushfieldKey',
  models: {
    Ticket: {
      name: 'Ticket',
      dbName: 'tickets',
      scopeField: 'tenantId',
      bindRowId: false,
      fields: { tenantId: { name: 'tenantId', dbName: 'tenant_id' }, subject: { name: 'subject', dbName: 'subject' } },
      encrypted: { subject: { name: 'subject', dbName: 'subject' } },
      blindIndexes: {},
    },
    HushfieldKey: {
      name: 'HushfieldKey',
      dbName: 'hushfield_keys',
      bindRowId: false,
      fields: { scope: { name: 'scope', dbName: 'scope' } },
      encrypted: {},
      blindIndexes: {},
    },
  },
} as unknown as HushfieldSchema;

const column = (table: string, name: string, type: string, collation: string | null = null): ColumnFact => ({
  table,
  column: name,
  type,
  collation,
});

describe('judgeColumns', () => {
  it('finds nothing wrong with text columns in binary collations under a strict sql_mode', () => {
    const columns = [
      column('tickets', 'tenant_id', 'varchar', 'utf8mb4_bin'),
      column('tickets', 'subject', 'text', 'utf8mb4_bin'),
      column('hushfield_keys', 'scope', 'varchar', 'utf8mb4_nopad_bin'),
    ];
    expect(judgeColumns(schema, { provider: 'mysql', columns, strict: true })).toEqual([]);
    const mysql8 = [column('hushfield_keys', 'scope', 'varchar', 'utf8mb4_0900_bin')];
    expect(judgeColumns(schema, { provider: 'mysql', columns: mysql8, strict: true })).toEqual([]);
  });

  it('warns of a key table scope in a collation that ignores trailing spaces, naming it and the fix', () => {
    for (const collation of ['utf8mb4_bin', 'latin1_bin', 'utf8mb4_unicode_520_ci']) {
      const columns = [column('hushfield_keys', 'scope', 'varchar', collation)];
      const [finding, ...rest] = judgeColumns(schema, { provider: 'mysql', columns, strict: true });
      // a case-insensitive one fails first, and says so
      if (collation.endsWith('_ci')) {
        expect(finding).toMatchObject({ level: 'fail' });
        continue;
      }
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({
        level: 'warn',
        detail: { table: 'hushfield_keys', column: 'scope', collation },
        message: expect.stringMatching(
          new RegExp(`hushfield_keys\\.scope .* ${collation}, which ignores trailing spaces.*utf8mb4_nopad_bin`),
        ),
      });
    }
    const sqlite = [column('hushfield_keys', 'scope', 'text', 'RTRIM')];
    expect(judgeColumns(schema, { provider: 'sqlite', columns: sqlite, strict: true })).toEqual([
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/RTRIM.*without its COLLATE clause/) }),
    ]);
  });

  it('judges SQLite collations only: NOCASE scope and key scope, not CHAR types', () => {
    const columns = [
      column('tickets', 'tenant_id', 'char(16)', 'NOCASE'),
      column('tickets', 'subject', 'character', null),
      column('hushfield_keys', 'scope', 'text', 'NOCASE'),
    ];
    const findings = judgeColumns(schema, { provider: 'sqlite', columns, strict: true });
    expect(findings.map((f) => [f.level, f.detail.column, f.detail.collation])).toEqual([
      ['warn', 'tenant_id', 'NOCASE'],
      ['fail', 'scope', 'NOCASE'],
    ]);
    expect(
      judgeColumns(schema, {
        provider: 'sqlite',
        columns: [column('tickets', 'tenant_id', 'text', 'BINARY')],
        strict: true,
      }),
    ).toEqual([]);
  });

  it('finds a MySQL column (and table) the database spells in another case, and only on MySQL', () => {
    const columns = [
      column('Tickets', 'Tenant_ID', 'varchar', 'utf8mb4_general_ci'),
      column('HUSHFIELD_KEYS', 'SCOPE', 'varchar', 'utf8mb4_general_ci'),
    ];
    const findings = judgeColumns(schema, { provider: 'mysql', columns, strict: true });
    expect(findings.map((f) => [f.level, f.detail.column])).toEqual([
      ['warn', 'Tenant_ID'],
      ['fail', 'SCOPE'],
    ]);
    const postgres = [column('Tickets', 'Tenant_ID', 'character')];
    expect(judgeColumns(schema, { provider: 'postgresql', columns: postgres, strict: true })).toEqual([]);
  });

  it('warns of a MySQL session that cuts over-long values instead of refusing them', () => {
    expect(judgeColumns(schema, { provider: 'mysql', columns: [], strict: false })).toEqual([
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('sql_mode is not strict') }),
    ]);
  });

  it('fails a PostgreSQL key table scope of fixed length, and an encrypted column that pads', () => {
    const columns = [
      column('hushfield_keys', 'scope', 'character'),
      column('tickets', 'subject', 'character'),
      column('tickets', 'tenant_id', 'text'),
    ];
    const findings = judgeColumns(schema, { provider: 'postgresql', columns, strict: true });
    expect(findings.map((f) => [f.level, f.detail.column ?? f.detail.table])).toEqual([
      ['fail', 'subject'],
      ['fail', 'scope'],
    ]);
  });

  it('reports a column once, however many scope relations reference it', () => {
    const withRelations = {
      ...schema,
      models: {
        ...schema.models,
        Org: {
          name: 'Org',
          dbName: 'orgs',
          scopeField: 'id',
          bindRowId: true,
          idFields: ['id'],
          fields: { id: { name: 'id', dbName: 'id' } },
          encrypted: {},
          blindIndexes: {},
        },
        Member: {
          name: 'Member',
          dbName: 'members',
          scopeField: 'orgId',
          scopeRelation: 'org',
          bindRowId: false,
          fields: {
            orgId: { name: 'orgId', dbName: 'org_id' },
            org: { name: 'org', kind: 'object', relationModel: 'Org', relationToFields: ['id'] },
          },
          encrypted: {},
          blindIndexes: {},
        },
      },
    } as unknown as HushfieldSchema;
    const columns = [
      column('orgs', 'id', 'varchar', 'utf8mb4_general_ci'),
      column('members', 'org_id', 'varchar', 'utf8mb4_bin'),
    ];
    const findings = judgeColumns(withRelations, { provider: 'mysql', columns, strict: true });
    expect(findings.map((f) => [f.level, f.detail.table, f.detail.column])).toEqual([['warn', 'orgs', 'id']]);
  });
});
