import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { ConfigError, DecryptionError, LocalKeyring } from '@hushfield/core';
import { randomBytes } from 'node:crypto';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema, rejection } from './support';

/**
 * A read checks that each value is sealed under its own row's scope key: what tells a value
 * copied from another tenant's row apart on a model whose ids the database assigns (Ticket:
 * nothing else in the associated data differs), and a row whose scope column was changed in SQL
 * on any scoped model.
 */
describe("fieldEncryption: a value must be sealed under its row's scope key", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const tickets = async (suffix: string) => {
    const a = await h.prisma.ticket.create({ data: { tenantId: `a-${suffix}`, subject: `subject of a ${suffix}` } });
    const b = await h.prisma.ticket.create({ data: { tenantId: `b-${suffix}`, subject: `subject of b ${suffix}` } });
    return { a, b };
  };

  it("refuses a value copied from another tenant's row of a model with database-assigned ids", async () => {
    const { a, b } = await tickets('copy');
    await h.db.query('UPDATE tickets SET subject = (SELECT subject FROM tickets WHERE id = $1) WHERE id = $2', [
      a.id,
      b.id,
    ]);
    const error = await rejection(h.prisma.ticket.findUnique({ where: { id: b.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ code: 'HUSHFIELD_DECRYPTION_FAILED', model: 'Ticket', field: 'subject' });
    expect((error as Error).message).toContain('"b-copy"');
    expect((error as Error).message).not.toContain('subject of a');
    await expect(h.prisma.ticket.findMany({ where: { tenantId: 'b-copy' } })).rejects.toThrow(DecryptionError);
    // The row it was copied from still reads.
    expect((await h.prisma.ticket.findUniqueOrThrow({ where: { id: a.id } })).subject).toBe('subject of a copy');
    // Under onDecryptError: 'null' the copied value reads as null, never as the other tenant's text.
    const lenient = h.fresh({ onDecryptError: 'null' }).prisma;
    expect(await lenient.ticket.findUnique({ where: { id: b.id } })).toMatchObject({ subject: null });
    // What the database holds is the copied envelope, never the text of either ticket.
    await expectNoPlaintextIn(h.db, 'tickets', ['subject of a copy', 'subject of b copy']);
  });

  it('refuses the values of a row whose scope column was changed in SQL, bound or not', async () => {
    const { a } = await tickets('moved');
    await h.db.query("UPDATE tickets SET tenant_id = 'b-moved' WHERE id = $1", [a.id]);
    await expect(h.prisma.ticket.findUnique({ where: { id: a.id } })).rejects.toThrow(DecryptionError);

    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 't-user', name: 'U', email: 'moved-user@example.com' },
    });
    await h.db.query('UPDATE users SET "tenantId" = \'t-other\' WHERE id = $1', [user.id]);
    const error = await rejection(h.prisma.user.findUnique({ where: { id: user.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'User', field: 'email', rowId: user.id });
    expect((error as Error).message).not.toContain('moved-user@example.com');
  });

  it('reads the scope field when the selection leaves it out, and strips it again', async () => {
    const { a, b } = await tickets('select');
    expect(await h.prisma.ticket.findUnique({ where: { id: a.id }, select: { subject: true } })).toEqual({
      subject: 'subject of a select',
    });
    expect(await h.prisma.ticket.findUnique({ where: { id: a.id }, omit: { tenantId: true } })).toEqual({
      id: a.id,
      subject: 'subject of a select',
      detail: null,
    });
    await h.db.query('UPDATE tickets SET subject = (SELECT subject FROM tickets WHERE id = $1) WHERE id = $2', [
      a.id,
      b.id,
    ]);
    await expect(h.prisma.ticket.findUnique({ where: { id: b.id }, select: { subject: true } })).rejects.toThrow(
      DecryptionError,
    );
  });

  it('checks rows loaded through a relation, with a selection that leaves their scope out', async () => {
    const one = await h.prisma.organization.create({ data: { slug: 'scope-check-one' } });
    const two = await h.prisma.organization.create({ data: { slug: 'scope-check-two' } });
    const member = await h.prisma.member.create({
      data: { orgId: one.id, email: 'member@example.com', emailIdx: computedBlindIndex },
    });
    const loaded = await h.prisma.organization.findUnique({
      where: { id: one.id },
      include: { members: { select: { email: true } } },
    });
    expect(loaded?.members).toEqual([{ email: 'member@example.com' }]);
    await h.db.query('UPDATE members SET org_id = $1 WHERE id = $2', [two.id, member.id]);
    const error = await rejection(
      h.prisma.organization.findUnique({ where: { id: two.id }, include: { members: { select: { email: true } } } }),
    );
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'Member', field: 'email' });
  });

  it('checks the candidates of a truncated blind-index lookup (a count or update by it learns nothing of another scope)', async () => {
    const user = await h.prisma.user.create({
      data: {
        emailIdx: computedBlindIndex,
        tenantId: 't-ssn',
        name: 'S',
        email: 'ssn@example.com',
        ssn: '123-45-6789',
      },
    });
    expect(await h.prisma.user.count({ where: { ssn: '123-45-6789', tenantId: 't-ssn' } })).toBe(1);
    await h.db.query('UPDATE users SET "tenantId" = $1 WHERE id = $2', ['t-ssn-other', user.id]);
    await expect(h.prisma.user.count({ where: { ssn: '123-45-6789', tenantId: 't-ssn-other' } })).rejects.toThrow(
      DecryptionError,
    );
  });

  it('fails closed on a row whose scope column holds no scope', async () => {
    const { a } = await tickets('empty');
    await h.db.query("UPDATE tickets SET tenant_id = '' WHERE id = $1", [a.id]);
    const error = await rejection(h.prisma.ticket.findUnique({ where: { id: a.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).toMatch(/no valid tenantId/);
  });

  it("checks Json and Bytes values against their row's scope too", async () => {
    const doc = await h.prisma.document.create({
      data: { tenantId: 'doc-a', title: 't', body: { secret: 'json' }, blob: Buffer.from('bytes') },
    });
    await h.db.query('UPDATE documents SET tenant_id = $1 WHERE id = $2', ['doc-b', doc.id]);
    const error = await rejection(h.prisma.document.findUnique({ where: { id: doc.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'Document' });
  });

  it('keeps reading a row the extension itself moved to another scope (its values are sealed again)', async () => {
    const { a } = await tickets('update');
    await h.prisma.ticket.update({ where: { id: a.id }, data: { tenantId: 'c-update' } });
    expect(await h.prisma.ticket.findUniqueOrThrow({ where: { id: a.id } })).toMatchObject({
      tenantId: 'c-update',
      subject: 'subject of a update',
    });
    // updateMany moves rows one by one in a transaction: on SQLite the new scope's key is made first.
    await h.prisma.$hushfield.prepare(['d-update']);
    await h.prisma.ticket.updateMany({ where: { tenantId: 'c-update' }, data: { tenantId: 'd-update' } });
    expect((await h.prisma.ticket.findUniqueOrThrow({ where: { id: a.id } })).subject).toBe('subject of a update');
  });

  it('reads a model listed in migratingScopes whatever scope sealed its values, and only that model', async () => {
    const { a } = await tickets('migrating');
    await h.db.query("UPDATE tickets SET tenant_id = 'b-migrating' WHERE id = $1", [a.id]);
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 't-mig', name: 'M', email: 'mig@example.com' },
    });
    await h.db.query('UPDATE users SET "tenantId" = \'t-mig-2\' WHERE id = $1', [user.id]);
    const migrating = h.fresh({ migratingScopes: ['Ticket'] }).prisma;
    expect((await migrating.ticket.findUniqueOrThrow({ where: { id: a.id } })).subject).toBe('subject of a migrating');
    await expect(migrating.user.findUnique({ where: { id: user.id } })).rejects.toThrow(DecryptionError);
  });

  it('refuses a migratingScopes entry that is not a scoped model of the schema', () => {
    const keyring = new LocalKeyring(randomBytes(32));
    for (const migratingScopes of [['Nope'], ['Customer'], 'Ticket']) {
      expect(() =>
        fieldEncryption({ schema: hushfieldSchema, keyring, migratingScopes: migratingScopes as string[] }),
      ).toThrow(ConfigError);
    }
  });
});
