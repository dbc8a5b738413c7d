import { computedBlindIndex, fieldEncryption, type FieldEncryptionOptions } from '@hushfield/prisma';
import { ConfigError, DecryptionError } from '@hushfield/core';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema } from './support';

/**
 * A client created with `omit` leaves fields out of every result. A read still needs a scoped
 * model's scope field (its values' key must be that scope's) and a bound model's id (part of
 * the associated data): the extension asks for them and strips them again, so results keep the
 * shape the client's omit gives them, and the scope check still holds.
 */
describe('fieldEncryption on a client with its own omit', () => {
  let h: Harness;
  const clients: PrismaClient[] = [];

  const omit = {
    ticket: { tenantId: true },
    member: { orgId: true },
    user: { id: true, tenantId: true },
  } as const;

  /** A client with `omit`, extended; `options` as given to fieldEncryption. */
  function omittingClient(options: Partial<FieldEncryptionOptions> = {}) {
    const base = new PrismaClient({ adapter: h.db.adapter(), omit });
    clients.push(base as unknown as PrismaClient);
    return base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, ...options }));
  }

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    for (const client of clients) await client.$disconnect();
    await h.close();
  });

  it('reads and writes scoped rows with their scope field left out of every result', async () => {
    const prisma = omittingClient();
    const created = await prisma.ticket.create({ data: { tenantId: 'omit-a', subject: 'subject of omit-a' } });
    expect(created).toEqual({ id: created.id, subject: 'subject of omit-a', detail: null });
    expect(await prisma.ticket.findUnique({ where: { id: created.id } })).toEqual(created);
    expect(await prisma.ticket.findMany({ where: { tenantId: 'omit-a' } })).toEqual([created]);
    expect(await prisma.ticket.findUnique({ where: { id: created.id }, select: { subject: true } })).toEqual({
      subject: 'subject of omit-a',
    });
    // A query's own omit of the field, false, returns it, as Prisma does.
    expect(await prisma.ticket.findUnique({ where: { id: created.id }, omit: { tenantId: false } })).toEqual({
      ...created,
      tenantId: 'omit-a',
    });
    const updated = await prisma.ticket.update({ where: { id: created.id }, data: { detail: 'detail of omit-a' } });
    expect(updated).toEqual({ ...created, detail: 'detail of omit-a' });
    await expectNoPlaintextIn(h.db, 'tickets', ['subject of omit-a', 'detail of omit-a']);
  });

  it('leaves out a bound model’s id and scope, and a relation’s scope, at every depth', async () => {
    const prisma = omittingClient();
    const user = await prisma.user.create({
      data: { tenantId: 'omit-u', name: 'U', email: 'omit-user@example.com', emailIdx: computedBlindIndex },
    });
    expect(user).not.toHaveProperty('id');
    expect(user).not.toHaveProperty('tenantId');
    expect(user.email).toBe('omit-user@example.com');
    const found = await prisma.user.findUniqueOrThrow({ where: { email: 'omit-user@example.com' } });
    expect(found).toEqual(user);

    const org = await prisma.organization.create({
      data: {
        slug: 'omit-org',
        members: { create: { email: 'omit-member@example.com', emailIdx: computedBlindIndex } },
      },
    });
    const loaded = await prisma.organization.findUniqueOrThrow({ where: { id: org.id }, include: { members: true } });
    expect(loaded.members).toHaveLength(1);
    expect(loaded.members[0]).not.toHaveProperty('orgId');
    expect(loaded.members[0].email).toBe('omit-member@example.com');
    const selected = await prisma.organization.findUniqueOrThrow({
      where: { id: org.id },
      select: { members: { select: { email: true } } },
    });
    expect(selected).toEqual({ members: [{ email: 'omit-member@example.com' }] });
    // A relation the query leaves out stays out (`include: { members: isAdmin }`).
    const notAdmin = false as boolean;
    const hidden = await prisma.organization.findUniqueOrThrow({
      where: { id: org.id },
      include: { members: notAdmin },
    });
    expect(hidden).not.toHaveProperty('members');
    const skipped = await prisma.organization.findUniqueOrThrow({
      where: { id: org.id },
      select: { slug: true, members: false },
    });
    expect(skipped).toEqual({ slug: 'omit-org' });
  });

  it("still refuses a value copied from another tenant's row", async () => {
    const prisma = omittingClient();
    const a = await prisma.ticket.create({ data: { tenantId: 'omit-copy-a', subject: 'subject of omit-copy-a' } });
    const b = await prisma.ticket.create({ data: { tenantId: 'omit-copy-b', subject: 'subject of omit-copy-b' } });
    await h.db.query('UPDATE tickets SET subject = (SELECT subject FROM tickets WHERE id = $1) WHERE id = $2', [
      a.id,
      b.id,
    ]);
    const error = await prisma.ticket.findUnique({ where: { id: b.id } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).toContain('"omit-copy-b"');
    expect((error as Error).message).not.toContain('subject of omit-copy-a');
  });

  it('takes the omit it is given over the client’s, and fails closed when that hides the scope', async () => {
    const ticket = await omittingClient().ticket.create({
      data: { tenantId: 'omit-given', subject: 'subject of omit-given' },
    });
    // Told the client omits nothing, the extension does not ask for the scope: the read cannot be checked.
    const told = omittingClient({ omit: {} });
    const error = await told.ticket.findUnique({ where: { id: ticket.id } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as Error).message).toContain("give fieldEncryption the client's omit");
    expect((error as Error).message).not.toContain('subject of omit-given');
    // Told the right omit, it reads.
    expect(await omittingClient({ omit }).ticket.findUnique({ where: { id: ticket.id } })).toEqual(ticket);
    expect(() => fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, omit: 'ticket' as never })).toThrow(
      ConfigError,
    );
  });
});
