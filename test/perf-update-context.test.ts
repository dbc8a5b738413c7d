/**
 * An `update` of a row the client has seen (created, read or updated) is written without
 * reading the row first, under the id and scope the database last returned for it; a where
 * naming another scope, or a row the client has not seen, is read first as before; a row that
 * moved to another scope behind the client's back is read and written again.
 */
import { KeyDestroyedError } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import {
  createHarness,
  expectNoPlaintextIn,
  expectNoPlaintextInLog,
  type Harness,
  isEnvelope,
} from './extension/support';

describe('update of a row the client has seen', () => {
  let h: Harness;
  const secrets: string[] = [];
  const secret = (value: string) => {
    secrets.push(value);
    return value;
  };
  const userSelects = () => h.queries.filter((q) => /^SELECT/.test(q.query) && q.query.includes('"users"'));
  const create = (tenantId: string, email: string) =>
    h.prisma.user.create({ data: { tenantId, name: 'Upd', email: secret(email), emailIdx: computedBlindIndex } });

  beforeAll(async () => {
    // Rows are moved to another tenant in SQL, standing in for another client's move, which
    // leaves their other values under the old tenant's key: reads here skip the row-scope check
    // (test/extension/scope-check.test.ts), since what is checked is where updates seal.
    h = await createHarness({ migratingScopes: ['User'] });
  });
  afterEach(async () => {
    await expectNoPlaintextIn(h.db, 'users', secrets);
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  it('sends no read before the UPDATE and stores a value bound to the row', async () => {
    const user = await create('tenant-a', 'given@example.com');
    h.queries.length = 0;
    const updated = await h.prisma.user.update({
      where: { id: user.id, tenantId: 'tenant-a' },
      data: { notes: secret('given note') },
    });
    expect(updated).toMatchObject({ id: user.id, notes: 'given note', email: 'given@example.com' });
    expect(userSelects()).toEqual([]);
    const stored = (await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [user.id]))[0].notes;
    expect(isEnvelope(stored)).toBe(true);
    expect((await h.fresh().prisma.user.findUnique({ where: { id: user.id } }))?.notes).toBe('given note');
  });

  it("keeps the caller's selection: the id and scope it needs are stripped again", async () => {
    const user = await create('tenant-a', 'select@example.com');
    const updated = await h.prisma.user.update({
      where: { id: user.id, tenantId: 'tenant-a' },
      data: { notes: secret('selected note') },
      select: { notes: true },
    });
    expect(updated).toEqual({ notes: 'selected note' });
  });

  it('still reads the row first when the where gives only the id of a row the client has not seen', async () => {
    const user = await create('tenant-a', 'idonly@example.com');
    const other = h.fresh();
    await other.prisma.user.update({ where: { id: user.id }, data: { notes: secret('id-only note') } });
    expect(other.queries.filter((q) => /^SELECT/.test(q.query) && q.query.includes('"users"'))).toHaveLength(1);
    other.queries.length = 0;
    // now it has: the next update by id sends the UPDATE alone
    await other.prisma.user.update({ where: { id: user.id }, data: { notes: secret('id-only note 2') } });
    expect(other.queries.filter((q) => /^SELECT/.test(q.query) && q.query.includes('"users"'))).toEqual([]);
    expect(other.queries.map((q) => q.params).join('\n')).toContain('tenant-a');
    expect((await h.fresh().prisma.user.findUnique({ where: { id: user.id } }))?.notes).toBe('id-only note 2');
  });

  it("reads a row moved to another scope behind the client's back again, and seals under its new scope", async () => {
    const user = await create('tenant-c', 'moved@example.com');
    await h.db.query('UPDATE users SET "tenantId" = $1 WHERE id = $2', ['tenant-d', user.id]);
    h.queries.length = 0;
    const updated = await h.prisma.user.update({
      where: { id: user.id },
      data: { notes: secret('moved note') },
      select: { notes: true, tenantId: true },
    });
    expect(updated).toEqual({ notes: 'moved note', tenantId: 'tenant-d' });
    // the remembered scope missed (no row), the row was read, then written under its real scope
    const onUsers = h.queries.filter((q) => q.query.includes('"users"'));
    expect(onUsers.map((q) => q.query.split(' ')[0])).toEqual(['UPDATE', 'SELECT', 'UPDATE']);
    await h.prisma.$hushfield.crypto.keys.destroyScope('tenant-d');
    await expect(
      h.fresh().prisma.user.findUnique({ where: { id: user.id }, select: { notes: true } }),
    ).rejects.toBeInstanceOf(KeyDestroyedError);
  });

  it('retries inside an interactive transaction, which still commits', async () => {
    const user = await create('tenant-e', 'tx@example.com');
    await h.db.query('UPDATE users SET "tenantId" = $1 WHERE id = $2', ['tenant-f', user.id]);
    await h.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: user.id }, data: { notes: secret('tx note') } });
    });
    const read = await h
      .fresh()
      .prisma.user.findUnique({ where: { id: user.id }, select: { notes: true, tenantId: true } });
    expect(read).toEqual({ notes: 'tx note', tenantId: 'tenant-f' });
  });

  it('creates no key for a scope the where names but no row has', async () => {
    const scope = `never-used-${Date.now()}`;
    const keys = async () => (await h.db.query('SELECT 1 FROM hushfield_keys WHERE scope = $1', [scope])).length;
    await expect(
      h.prisma.user.update({ where: { id: 'no-such-row', tenantId: scope }, data: { notes: secret('nowhere note') } }),
    ).rejects.toMatchObject({ code: 'P2025' });
    expect(await keys()).toBe(0);
  });

  it('reports a missing row as Prisma does', async () => {
    const user = await create('tenant-a', 'gone@example.com');
    await h.db.query('DELETE FROM users WHERE id = $1', [user.id]);
    await expect(
      h.prisma.user.update({ where: { id: user.id }, data: { notes: secret('gone note') } }),
    ).rejects.toMatchObject({ code: 'P2025' });
  });

  it('updates nothing when the where names another scope', async () => {
    const user = await create('tenant-a', 'other@example.com');
    const before = (await h.db.query<{ notes: string | null }>('SELECT notes FROM users WHERE id = $1', [user.id]))[0]
      .notes;
    await expect(
      h.prisma.user.update({
        where: { id: user.id, tenantId: 'tenant-b' },
        data: { notes: secret('wrong tenant note') },
      }),
    ).rejects.toThrow();
    expect(
      (await h.db.query<{ notes: string | null }>('SELECT notes FROM users WHERE id = $1', [user.id]))[0].notes,
    ).toBe(before);
  });

  it("seals for the row's real scope when the where names it in another case (a case-insensitive collation)", async () => {
    await h.db.query(
      `CREATE COLLATION IF NOT EXISTS hushfield_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
    );
    await h.db.query('ALTER TABLE users ALTER COLUMN "tenantId" TYPE text COLLATE hushfield_ci');
    try {
      const user = await create('loose-tenant', 'loose@example.com');
      const updated = await h.prisma.user.update({
        where: { id: user.id, tenantId: 'LOOSE-TENANT' },
        data: { notes: secret('loose note') },
      });
      expect(updated).toMatchObject({ tenantId: 'loose-tenant', notes: 'loose note' });
      expect((await h.fresh().prisma.user.findUnique({ where: { id: user.id } }))?.notes).toBe('loose note');
      // the value lives under the row's own scope key: shredding that scope makes it unreadable
      await h.prisma.$hushfield.crypto.keys.destroyScope('loose-tenant');
      await expect(
        h.fresh().prisma.user.findUnique({ where: { id: user.id }, select: { notes: true } }),
      ).rejects.toBeInstanceOf(KeyDestroyedError);
    } finally {
      await h.db.query('DELETE FROM users WHERE "tenantId" = $1', ['loose-tenant']);
      await h.db.query('ALTER TABLE users ALTER COLUMN "tenantId" TYPE text COLLATE "default"');
    }
  });
});
