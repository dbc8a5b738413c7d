/**
 * An update that moves a row to another scope writes every encrypted value back under the new
 * scope's key: the values it read, decrypted and sealed again. A write of those fields between
 * its read and its UPDATE (another client's, or an earlier write of the same batch) used to be
 * undone silently by the old values written back. The UPDATE now also matches the envelopes it
 * read: when they changed, the row is read again and the move retried (or, in a batch, which
 * cannot be retried, the batch fails and nothing is lost). On MySQL Prisma selects the row, then
 * updates it by id under the where, and returns the row even when the where no longer matched:
 * a move whose returned row is still in the old scope is retried too.
 */
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, expectNoPlaintextIn, type Harness } from './support';
import { waitingForLock } from '../support/isolation';
import { testProvider } from '../support/provider';

let h: Harness;
const secrets = ['old@x.test', 'new@x.test', 'old notes', 'new notes', 'old subject', 'new subject'];

beforeAll(async () => {
  h = await createHarness();
});

/**
 * Until the mover's UPDATE of `table` waits for the row lock the caller's transaction holds:
 * the mover has read the committed row by then. A fixed pause let the race not happen on a
 * loaded machine (the transaction committed before the mover read), and the test passed without
 * testing. Embedded PGlite runs one session at a time, which nothing shows: a pause there.
 */
function moverWaits(table: string): Promise<unknown> {
  return h.db.backend === 'pglite' ? sleep(700) : waitingForLock(h.db, table, `%UPDATE%${table}%`);
}
afterAll(async () => {
  await expectNoPlaintextIn(h.db, 'users', secrets);
  await expectNoPlaintextIn(h.db, 'tickets', secrets);
  await h.close();
});

it('fails a batch whose scope move would write back values an earlier write of the batch replaced', async () => {
  const user = await h.prisma.user.create({
    data: { tenantId: 't1', name: 'n', email: 'old@x.test', emailIdx: computedBlindIndex, notes: 'old notes' },
  });
  const batch = h.prisma.$transaction([
    h.prisma.user.update({ where: { id: user.id }, data: { email: 'new@x.test', notes: 'new notes' } }),
    h.prisma.user.update({ where: { id: user.id }, data: { tenantId: 't2' } }),
  ]);
  await expect(batch).rejects.toMatchObject({ code: 'P2025' });
  // The batch rolled back as a whole: nothing of either write, and nothing undone silently.
  const select = { tenantId: true, email: true, notes: true } as const;
  expect(await h.fresh().prisma.user.findUnique({ where: { id: user.id }, select })).toEqual({
    tenantId: 't1',
    email: 'old@x.test',
    notes: 'old notes',
  });
  // In an interactive transaction the move reads the first write's values, and both apply.
  await h.prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { email: 'new@x.test', notes: 'new notes' } });
    await tx.user.update({ where: { id: user.id }, data: { tenantId: 't2' } });
  });
  expect(await h.fresh().prisma.user.findUnique({ where: { id: user.id }, select })).toEqual({
    tenantId: 't2',
    email: 'new@x.test',
    notes: 'new notes',
  });
  expect(await h.fresh().prisma.user.findMany({ where: { emailIdx: 'new@x.test' }, select: { id: true } })).toEqual([
    { id: user.id },
  ]);
});

// SQLite writes one transaction at a time: the mover's UPDATE cannot wait on a row lock there.
(testProvider() === 'sqlite' ? it.skip.each : it.each)(['update', 'updateMany'] as const)(
  'keeps a concurrent write that commits while a scope move (%s) waits for the row, and moves its values',
  async (operation) => {
    const ticket = await h.prisma.ticket.create({ data: { tenantId: 't1', subject: 'old subject', detail: 'd' } });
    const mover = h.fresh().prisma;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Started outside the transaction's async context: an independent request.
    const moving = gate.then(() =>
      operation === 'update'
        ? mover.ticket.update({ where: { id: ticket.id }, data: { tenantId: 't2' } })
        : mover.ticket.updateMany({ where: { id: ticket.id }, data: { tenantId: 't2' } }),
    );
    await h.prisma.$transaction(async (tx) => {
      await tx.ticket.update({ where: { id: ticket.id }, data: { subject: 'new subject' } });
      open();
      // The mover reads the committed row meanwhile; its UPDATE then waits for this row's lock.
      await moverWaits('tickets');
    });
    await moving;
    expect(await h.fresh().prisma.ticket.findUnique({ where: { id: ticket.id } })).toEqual({
      id: ticket.id,
      tenantId: 't2',
      subject: 'new subject',
      detail: 'd',
    });
  },
);

(testProvider() === 'sqlite' ? it.skip : it)(
  'keeps concurrent writes of Json and Bytes fields (null before) while a scope move waits, and moves them',
  async () => {
    const document = await h.prisma.document.create({ data: { tenantId: 't1', title: 'doc', body: { v: 1 } } });
    const mover = h.fresh().prisma;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const moving = gate.then(() => mover.document.update({ where: { id: document.id }, data: { tenantId: 't2' } }));
    await h.prisma.$transaction(async (tx) => {
      await tx.document.update({
        where: { id: document.id },
        data: { body: { v: 2 }, meta: { kept: true }, blob: Buffer.from('kept bytes') },
      });
      open();
      await moverWaits('documents');
    });
    await moving;
    const read = await h.fresh().prisma.document.findUnique({ where: { id: document.id } });
    expect(read).toMatchObject({ tenantId: 't2', body: { v: 2 }, meta: { kept: true } });
    expect(Buffer.from(read!.blob!).toString()).toBe('kept bytes');
    // and a move with nothing written in between is not retried over its SQL NULLs
    const quiet = await h.prisma.document.create({ data: { tenantId: 't1', title: 'quiet', body: { v: 1 } } });
    await h.fresh().prisma.document.update({ where: { id: quiet.id }, data: { tenantId: 't2' } });
    expect(await h.fresh().prisma.document.findUnique({ where: { id: quiet.id } })).toMatchObject({
      tenantId: 't2',
      meta: null,
      blob: null,
    });
  },
);

it('never turns a batch upsert that moves a row into the create of a second row', async () => {
  const ticket = await h.prisma.ticket.create({ data: { tenantId: 't1', subject: 'old subject', detail: 'd' } });
  const before = await h.prisma.ticket.count();
  await h.prisma.$transaction([
    h.prisma.ticket.update({ where: { id: ticket.id }, data: { subject: 'new subject' } }),
    h.prisma.ticket.upsert({
      where: { id: ticket.id },
      create: { tenantId: 't2', subject: 'created instead' },
      update: { tenantId: 't2' },
    }),
  ]);
  expect(await h.prisma.ticket.count()).toBe(before);
  // Moved: an upsert cannot be narrowed to the envelopes it read (see the README), so its read values are written back.
  expect(await h.fresh().prisma.ticket.findUnique({ where: { id: ticket.id } })).toMatchObject({ tenantId: 't2' });
});

it('moves rows with updateMany to a scope that has no key yet, on every driver, without prepare()', async () => {
  const client = h.fresh().prisma;
  const tenant = `fresh-${Date.now()}`;
  const first = await client.ticket.create({ data: { tenantId: 'from', subject: 'one', detail: 'd1' } });
  const second = await client.ticket.create({ data: { tenantId: 'from', subject: 'two', detail: 'd2' } });
  // On SQLite, PGlite and libSQL the transaction updateMany opens cannot make the key itself.
  await expect(client.ticket.updateMany({ where: { tenantId: 'from' }, data: { tenantId: tenant } })).resolves.toEqual({
    count: 2,
  });
  const read = await h.fresh().prisma.ticket.findMany({ where: { id: { in: [first.id, second.id] } } });
  expect(read.map((row) => [row.tenantId, row.subject]).sort()).toEqual([
    [tenant, 'one'],
    [tenant, 'two'],
  ]);
  // a move that matches no row makes no key
  await client.ticket.updateMany({ where: { tenantId: 'nobody' }, data: { tenantId: `${tenant}-none` } });
  const keys = await h.db.query<{ scope: string }>('SELECT scope FROM hushfield_keys WHERE scope = $1', [
    `${tenant}-none`,
  ]);
  expect(keys).toEqual([]);
});

it("returns an upsert's moved values: an unbound row's id is not compared as if it were bound", async () => {
  const ticket = await h.prisma.ticket.create({ data: { tenantId: 't1', subject: 'old subject', detail: 'd' } });
  const client = h.fresh();
  const row = await client.prisma.ticket.upsert({
    where: { id: ticket.id },
    create: { tenantId: 't2', subject: 's' },
    update: { tenantId: 't2' },
  });
  expect(row).toEqual({ id: ticket.id, tenantId: 't2', subject: 'old subject', detail: 'd' });
  // and no second UPDATE re-sealing what the upsert wrote
  expect(client.queries.filter((q) => /^UPDATE/i.test(q.query.trim()))).toHaveLength(1);
});
