import { fieldEncryption, type HushfieldSchema } from '@hushfield/prisma';
import { DecryptionError, UnsupportedQueryError } from '@hushfield/core';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema, isEnvelope, rejection } from './support';

/** The test schema as the generator described TicketNote before Int foreign-key ids were bound. */
function unboundSchema(): HushfieldSchema {
  const note = { ...hushfieldSchema.models.TicketNote, bindRowId: false };
  const models = { ...hushfieldSchema.models, TicketNote: note } as unknown as HushfieldSchema['models'];
  return { ...(hushfieldSchema as unknown as HushfieldSchema), models };
}

/**
 * A model whose `Int` id is a foreign key (TicketNote, keyed by its ticket's id, as a one-to-one
 * profile by its user's): the id is known before the write, given or taken from the ticket, so
 * its values are bound to it as a String id's are, and a value copied to another note fails.
 */
describe('fieldEncryption: values bound to an Int id that is a foreign key', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const ticket = (subject: string) => h.prisma.ticket.create({ data: { tenantId: 'int-fk', subject } });
  const storedBody = async (id: number) =>
    (await h.db.query<{ body: string }>('SELECT body FROM ticket_notes WHERE id = $1', [id]))[0].body;
  /** Copies note `from`'s stored body into note `to`, as someone with the database could. */
  const copyBody = async (from: number, to: number) =>
    h.db.query('UPDATE ticket_notes SET body = $1 WHERE id = $2', [await storedBody(from), to]);

  it('binds every create: given id, connect, nested under the ticket, nested upsert and createMany', async () => {
    const made: { id: number }[] = [];
    for (const s of ['A', 'B', 'C', 'D', 'E']) made.push(await ticket(`subject ${s}`));
    const [a, b, c, d, e] = made;
    await h.prisma.ticketNote.create({ data: { id: a.id, body: 'given id' } });
    await h.prisma.ticketNote.create({ data: { ticket: { connect: { id: b.id } }, body: 'connected' } });
    await h.prisma.ticket.update({ where: { id: c.id }, data: { note: { create: { body: 'nested create' } } } });
    await h.prisma.ticket.update({
      where: { id: d.id },
      data: { note: { upsert: { create: { body: 'nested upsert' }, update: { body: 'never' } } } },
    });
    await h.prisma.ticketNote.createMany({ data: [{ id: e.id, body: 'many' }] });

    const ids = [a.id, b.id, c.id, d.id, e.id];
    const notes = await h.prisma.ticketNote.findMany({ where: { id: { in: ids } } });
    expect(ids.map((id) => notes.find((note) => note.id === id)?.body)).toEqual([
      'given id',
      'connected',
      'nested create',
      'nested upsert',
      'many',
    ]);
    for (const id of ids) expect(isEnvelope(await storedBody(id))).toBe(true);
    await expectNoPlaintextIn(h.db, 'ticket_notes', ['given id', 'connected', 'nested create', 'many']);

    // Sealed with the id: the schema that does not bind it opens none of them.
    const unbound = h.fresh({ schema: unboundSchema() }).prisma;
    for (const id of ids) {
      expect(await rejection(unbound.ticketNote.findUnique({ where: { id } }))).toBeInstanceOf(DecryptionError);
    }
  });

  it('refuses a note created with its ticket, whose id the database assigns, before anything is sent', async () => {
    const before = h.queries.length;
    const tickets = await h.base.ticket.count({ where: { tenantId: 'int-fk' } });
    const create = h.prisma.ticket.create({
      data: { tenantId: 'int-fk', subject: 'with note', note: { create: { body: 'created with ticket' } } },
    });
    const error = await rejection(create);
    expect(error).toBeInstanceOf(UnsupportedQueryError);
    expect(String(error)).toContain('TicketNote');
    expect(String(error)).not.toContain('created with ticket');
    expect(h.queries.slice(before).filter((q) => /insert/i.test(q.query))).toEqual([]);
    expect(await h.base.ticket.count({ where: { tenantId: 'int-fk' } })).toBe(tickets);
  });

  it('refuses a value copied to another note', async () => {
    const [a, b] = await Promise.all([ticket('copy from'), ticket('copy to')]);
    await h.prisma.ticketNote.create({ data: { id: a.id, body: 'secret of A' } });
    await h.prisma.ticketNote.create({ data: { id: b.id, body: 'secret of B' } });
    await copyBody(a.id, b.id);
    const error = await rejection(h.prisma.ticketNote.findUnique({ where: { id: b.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(String(error)).not.toContain('secret of A');
    // Bound to the other note, it opens without the binding neither: not told to migrate.
    expect(String(error)).not.toMatch(/migratingBindings/);
    expect((await h.prisma.ticketNote.findUniqueOrThrow({ where: { id: a.id } })).body).toBe('secret of A');
  });

  it('refuses changing the id, linking another ticket, and changing the ticket id it cascades from', async () => {
    const [a, b] = await Promise.all([ticket('kept'), ticket('other')]);
    await h.prisma.ticketNote.create({ data: { id: a.id, body: 'kept note' } });
    const writes = [
      h.prisma.ticketNote.update({ where: { id: a.id }, data: { id: b.id } }),
      h.prisma.ticketNote.update({ where: { id: a.id }, data: { id: { increment: 1 } } }),
      h.prisma.ticketNote.update({ where: { id: a.id }, data: { ticket: { connect: { id: b.id } } } }),
      h.prisma.ticket.update({ where: { id: a.id }, data: { id: a.id + 100_000 } }),
    ];
    for (const write of writes) expect(await rejection(write)).toBeInstanceOf(UnsupportedQueryError);
    expect((await h.prisma.ticketNote.findUniqueOrThrow({ where: { id: a.id } })).body).toBe('kept note');
  });

  it('opens notes sealed before their ids were bound through migratingBindings', async () => {
    const old = await ticket('sealed unbound');
    await h.fresh({ schema: unboundSchema() }).prisma.ticketNote.create({ data: { id: old.id, body: 'old note' } });
    const unlisted = await rejection(h.prisma.ticketNote.findUnique({ where: { id: old.id } }));
    // The error says how to move it, and nothing of what opened without the binding.
    expect(unlisted).toBeInstanceOf(DecryptionError);
    expect(String(unlisted)).toMatch(
      /sealed without the field .*migratingBindings.*reencrypt --model TicketNote --rebind/,
    );
    expect(JSON.stringify(unlisted, Object.getOwnPropertyNames(unlisted))).not.toContain('old note');
    const nulled = h.fresh({ onDecryptError: 'null' }).prisma;
    expect((await nulled.ticketNote.findUniqueOrThrow({ where: { id: old.id } })).body).toBeNull();
    const migrating = h.fresh({ migratingBindings: ['TicketNote'] }).prisma;
    expect((await migrating.ticketNote.findUniqueOrThrow({ where: { id: old.id } })).body).toBe('old note');
    // fieldEncryption takes it (a model whose id no relation holds is a ConfigError there).
    expect(() =>
      fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, migratingBindings: ['TicketNote'] }),
    ).not.toThrow();
  });
});

/** ShipmentLabel: the same with a `BigInt` id, its shipment's, which the caller gives. */
describe('fieldEncryption: values bound to a BigInt id that is a foreign key', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const storedAddress = async (id: bigint) =>
    (await h.db.query<{ address: string }>('SELECT address FROM shipment_labels WHERE id = $1', [id.toString()]))[0]
      .address;

  it('binds given, connected and nested creates, and refuses a value copied to another label', async () => {
    // Past Number.MAX_SAFE_INTEGER, kept exact; Prisma's libSQL adapter reads integers as numbers
    // (the client's default intMode) and refuses such a value itself, so there the largest safe one.
    const big = process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql' ? 9_007_199_254_740_991n : 9_007_199_254_740_993n;
    await h.prisma.shipment.create({ data: { id: big, ref: 'r1', label: { create: { address: '1 Nested Road' } } } });
    await h.prisma.shipment.create({ data: { id: 2n, ref: 'r2' } });
    await h.prisma.shipmentLabel.create({ data: { id: 2n, address: '2 Given Street' } });
    await h.prisma.shipment.create({ data: { id: 3n, ref: 'r3' } });
    await h.prisma.shipmentLabel.create({ data: { shipment: { connect: { id: 3n } }, address: '3 Connect Lane' } });

    const labels = await h.prisma.shipmentLabel.findMany({ where: { id: { in: [big, 2n, 3n] } } });
    expect(Object.fromEntries(labels.map((label) => [label.id.toString(), label.address]))).toEqual({
      [big.toString()]: '1 Nested Road',
      '2': '2 Given Street',
      '3': '3 Connect Lane',
    });
    for (const id of [big, 2n, 3n]) expect(isEnvelope(await storedAddress(id))).toBe(true);
    await expectNoPlaintextIn(h.db, 'shipment_labels', ['Nested Road', 'Given Street', 'Connect Lane']);

    await h.db.query('UPDATE shipment_labels SET address = $1 WHERE id = $2', [await storedAddress(big), '2']);
    expect(await rejection(h.prisma.shipmentLabel.findUnique({ where: { id: 2n } }))).toBeInstanceOf(DecryptionError);
    expect((await h.prisma.shipmentLabel.findUniqueOrThrow({ where: { id: big } })).address).toBe('1 Nested Road');
    expect(await rejection(h.prisma.shipment.update({ where: { id: 3n }, data: { id: 4n } }))).toBeInstanceOf(
      UnsupportedQueryError,
    );
  });
});
