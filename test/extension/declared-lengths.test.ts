/**
 * Columns of a declared length (`Locker`).
 *
 * A scope in a fixed-length column (`siteCode String @db.Char(8)`): PostgreSQL returns a shorter
 * code padded with spaces to eight characters; MySQL and MariaDB return a code without its
 * trailing spaces. A value sealed under the scope as written would then be read back under
 * another scope and refused: the write used to land, and its values were lost. Such codes are
 * now refused with a typed error before anything is sealed or sent; codes the column returns as
 * written work as before.
 *
 * An encrypted value whose envelope outgrows its `VarChar(300)` column (`note`) is refused before
 * the write is sent, where the database would refuse it after, or (MySQL without a strict
 * `sql_mode`) cut it and lose it.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { computedBlindIndex } from '@hushfield/prisma';
import { describeOn, testProvider } from '../support/provider';
import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';

const owners = ['Ada Lovelace', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Alan Kay'];
const locker = (siteCode: string, owner: string) => ({ data: { siteCode, owner, ownerIdx: computedBlindIndex } });

describeOn(['postgresql', 'mysql'], 'SQLite has no fixed-length column type')('a scope in a Char(8) column', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await expectNoPlaintextIn(h.db, 'lockers', owners);
    await h.close();
  });

  const keyScopes = async () =>
    (await h.db.query<{ scope: string }>(`SELECT scope FROM hushfield_keys WHERE kind = 'scope' ORDER BY scope`)).map(
      (row) => row.scope,
    );
  const lockerRows = async () =>
    h.db.query<{ site_code: string; owner: string }>('SELECT site_code, owner FROM lockers ORDER BY site_code');

  /** Asserts that `attempt` is refused as `why` says, sending nothing to the lockers table and creating no key. */
  async function expectRefused(attempt: (client: Harness['prisma']) => Promise<unknown>, why: RegExp): Promise<void> {
    const client = h.fresh();
    const rowsBefore = await lockerRows();
    const keysBefore = await keyScopes();
    const error = await attempt(client.prisma).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/Locker\.siteCode is a Char\(8\) column/);
    expect((error as Error).message).toMatch(why);
    for (const owner of owners) expect((error as Error).message).not.toContain(owner);
    expect(client.queries.filter((q) => q.query.includes('lockers'))).toEqual([]);
    expectNoPlaintextInLog(client.queries, owners);
    expect(await lockerRows()).toEqual(rowsBefore);
    expect(await keyScopes()).toEqual(keysBefore);
  }

  it('writes and reads back a code of all eight characters, from a fresh client, by id and by index', async () => {
    const created = await h.prisma.locker.create(locker('SITE-001', owners[0]));
    expect(created).toMatchObject({ siteCode: 'SITE-001', owner: owners[0] });
    const [stored] = await h.db.query<{ owner: string }>('SELECT owner FROM lockers WHERE id = $1', [created.id]);
    expect(isEnvelope(stored.owner)).toBe(true);
    const fresh = h.fresh().prisma;
    expect(await fresh.locker.findUnique({ where: { id: created.id } })).toMatchObject({ owner: owners[0] });
    expect(
      await fresh.locker.findMany({
        where: { siteCode: 'SITE-001', ownerIdx: ' ada lovelace ' },
        select: { id: true },
      }),
    ).toEqual([{ id: created.id }]);
    expect(await keyScopes()).toContain('SITE-001');
  });

  it('refuses a code longer than the column in a create, before anything is sent', async () => {
    await expectRefused((p) => p.locker.create(locker('SITE-0001', owners[1])), /more than 8 characters/);
    // the extra characters being spaces does not help: the database would cut them silently
    await expectRefused((p) => p.locker.create(locker('SITE-001  ', owners[1])), /more than 8 characters/);
    // an updateMany moving rows to such a code is refused before it lists them
    await expectRefused(
      (p) => p.locker.updateMany({ where: { siteCode: 'SITE-001' }, data: { siteCode: 'SITE-0002' } }),
      /more than 8 characters/,
    );
  });

  if (testProvider() === 'postgresql') {
    it('refuses a shorter code, which PostgreSQL would read back padded, in a create, a createMany and an update', async () => {
      await expectRefused((p) => p.locker.create(locker('acme', owners[1])), /pads a value of fewer than 8/);
      await expectRefused(
        (p) =>
          p.locker.createMany({
            data: [locker('SITE-002', owners[2]).data, locker('acme', owners[3]).data],
          }),
        /pads a value of fewer than 8/,
      );
      const row = await h.prisma.locker.create(locker('SITE-003', owners[2]));
      await expectRefused(
        (p) => p.locker.update({ where: { id: row.id }, data: { siteCode: 'acme' } }),
        /give all 8, or declare the column VarChar\(8\)/,
      );
      expect(await h.fresh().prisma.locker.findUnique({ where: { id: row.id } })).toMatchObject({
        siteCode: 'SITE-003',
        owner: owners[2],
      });
    });

    it('reads by a shorter code, as PostgreSQL compares it: padded, per-scope index lookups included', async () => {
      const row = await h.prisma.locker.create(locker('SITE    ', owners[3]));
      const fresh = h.fresh().prisma;
      expect(await fresh.locker.findMany({ where: { siteCode: 'SITE' }, select: { id: true } })).toEqual([
        { id: row.id },
      ]);
      // the index is keyed by the scope the rows hold, 'SITE    ', which the lookup pads the filter to
      expect(
        await fresh.locker.findMany({
          where: { siteCode: 'SITE', ownerIdx: owners[3].toLowerCase() },
          select: { id: true },
        }),
      ).toEqual([{ id: row.id }]);
      expect(await fresh.locker.count({ where: { siteCode: { equals: 'SITE' } } })).toBe(1);
      // a code longer than the column matches nothing, and is not refused in a read
      expect(await fresh.locker.findMany({ where: { siteCode: 'SITE-0001', ownerIdx: owners[3] } })).toEqual([]);
    });

    it('keeps a code ending in a space that fills the column, which PostgreSQL returns as written', async () => {
      const row = await h.prisma.locker.create(locker('SITE-04 ', owners[4]));
      expect(await h.fresh().prisma.locker.findUnique({ where: { id: row.id } })).toMatchObject({
        siteCode: 'SITE-04 ',
        owner: owners[4],
      });
    });
  } else {
    it('keeps a shorter code, which MySQL returns as written', async () => {
      const row = await h.prisma.locker.create(locker('acme', owners[3]));
      expect(await h.fresh().prisma.locker.findUnique({ where: { id: row.id } })).toMatchObject({
        siteCode: 'acme',
        owner: owners[3],
      });
      expect(await keyScopes()).toContain('acme');
      // MySQL compares a CHAR without trailing spaces: a filter with them finds the row, by index too
      const fresh = h.fresh().prisma;
      expect(
        await fresh.locker.findMany({ where: { siteCode: 'acme  ', ownerIdx: owners[3] }, select: { id: true } }),
      ).toEqual([{ id: row.id }]);
    });

    it('refuses a code ending in a space, which MySQL would read back without it, in a create and an update', async () => {
      await expectRefused((p) => p.locker.create(locker('acme ', owners[4])), /without its trailing spaces/);
      await expectRefused((p) => p.locker.create(locker('SITE-04 ', owners[4])), /does not end in a space/);
      const row = await h.prisma.locker.create(locker('SITE-005', owners[4]));
      await expectRefused(
        (p) => p.locker.update({ where: { id: row.id }, data: { siteCode: 'SITE-5 ' } }),
        /trailing spaces/,
      );
      expect(await h.fresh().prisma.locker.findUnique({ where: { id: row.id } })).toMatchObject({
        siteCode: 'SITE-005',
        owner: owners[4],
      });
    });
  }
});

describeOn(['postgresql', 'mysql'], 'SQLite columns have no length')(
  'an encrypted value in a VarChar(300) column',
  () => {
    let h: Harness;

    beforeAll(async () => {
      h = await createHarness();
    });
    afterAll(async () => {
      await expectNoPlaintextIn(h.db, 'lockers', owners);
      await h.close();
    });

    const longNote = 'n'.repeat(200);

    it('is refused before anything is sent when its envelope outgrows the column, and the caller keeps its data', async () => {
      const client = h.fresh();
      const data = { siteCode: 'SITE-101', owner: owners[0], ownerIdx: computedBlindIndex, note: longNote };
      const error = await client.prisma.locker.create({ data }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(
        /Locker\.note: the sealed value is longer than its VarChar\(300\) column/,
      );
      expect((error as Error).message).not.toContain(longNote.slice(0, 20));
      expect((error as Error).message).not.toContain(owners[0]);
      expect(data).toEqual({ siteCode: 'SITE-101', owner: owners[0], ownerIdx: computedBlindIndex, note: longNote });
      expect(client.queries.filter((q) => q.query.includes('lockers'))).toEqual([]);
      expect(await h.db.query('SELECT id FROM lockers')).toEqual([]);
    });

    it('is refused in an update too, leaving the row as it was; a value whose envelope fits is written', async () => {
      const row = await h.prisma.locker.create({
        data: { siteCode: 'SITE-102', owner: owners[1], ownerIdx: computedBlindIndex, note: 'short' },
      });
      await expect(h.prisma.locker.update({ where: { id: row.id }, data: { note: longNote } })).rejects.toThrow(
        /sealed value is longer than its VarChar\(300\) column/,
      );
      // about 120 bytes seal to under 300 characters
      await h.prisma.locker.update({ where: { id: row.id }, data: { note: 'm'.repeat(100) } });
      expect(await h.fresh().prisma.locker.findUnique({ where: { id: row.id } })).toMatchObject({
        owner: owners[1],
        note: 'm'.repeat(100),
      });
    });
  },
);

describeOn(['postgresql'], 'only PostgreSQL has list columns')(
  'an encrypted String[] in a varchar(300)[] column',
  () => {
    let h: Harness;
    const secretCode = 'gate-code-'.padEnd(200, '7');

    beforeAll(async () => {
      h = await createHarness();
    });
    afterAll(async () => {
      await expectNoPlaintextIn(h.db, 'lockers', [...owners, secretCode.slice(0, 30), 'door-4711']);
      await h.close();
    });

    /** Asserts that `attempt` is refused before anything is written, naming the column, not the value. */
    async function expectRefused(
      attempt: (client: Harness['prisma']) => Promise<unknown>,
      element: { index: number; count: number },
    ): Promise<void> {
      const client = h.fresh();
      const before = await h.db.query('SELECT id, codes FROM lockers ORDER BY id');
      const error = await attempt(client.prisma).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ argument: 'Locker.codes' });
      // It says what the caller did (a list, one element of which is too long), not "the sealed value".
      expect((error as Error).message).toContain(
        `Locker.codes: element ${element.index} of the ${element.count} given (counting from 0) is too long`,
      );
      expect((error as Error).message).toContain("the list's VarChar(300) elements");
      expect((error as Error).message).not.toContain('sealed value');
      expect((error as Error).message).not.toContain(secretCode.slice(0, 20));
      // An update reads the row's scope first; no write reaches the table, and no element of the list.
      const writes = client.queries.filter((q) => q.query.includes('lockers') && !q.query.startsWith('SELECT'));
      expect(writes).toEqual([]);
      expectNoPlaintextInLog(client.queries, ['door-4711', secretCode.slice(0, 30)]);
      expect(await h.db.query('SELECT id, codes FROM lockers ORDER BY id')).toEqual(before);
    }

    it('refuses an element whose envelope outgrows the element column in a create, before anything is sent', async () => {
      await expectRefused(
        (prisma) =>
          prisma.locker.create({
            data: {
              siteCode: 'SITE-201',
              owner: owners[2],
              ownerIdx: computedBlindIndex,
              codes: ['door-4711', secretCode],
            },
          }),
        { index: 1, count: 2 },
      );
    });

    it('refuses it in an update too, and writes a list whose envelopes fit, which a fresh client reads back', async () => {
      const row = await h.prisma.locker.create({
        data: { siteCode: 'SITE-202', owner: owners[3], ownerIdx: computedBlindIndex, codes: ['door-4711'] },
      });
      await expectRefused(
        (prisma) =>
          prisma.locker.update({ where: { id: row.id }, data: { codes: { set: ['door-4711', secretCode] } } }),
        { index: 1, count: 2 },
      );
      await expectRefused(
        (prisma) => prisma.locker.updateMany({ where: { id: row.id }, data: { codes: [secretCode] } }),
        { index: 0, count: 1 },
      );
      const [raw] = await h.db.query<{ codes: string[] }>('SELECT codes FROM lockers WHERE id = $1', [row.id]);
      expect(raw?.codes).toHaveLength(1);
      expect(raw?.codes.every((element) => isEnvelope(element) && element.length <= 300)).toBe(true);
      expect(await h.fresh().prisma.locker.findUnique({ where: { id: row.id } })).toMatchObject({
        codes: ['door-4711'],
      });
    });
  },
);
