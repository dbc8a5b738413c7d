/**
 * An upsert whose read finds no row to update still sends its update branch sealed: Prisma
 * validates it, and takes it should a row appear in between. That branch is sealed for the row
 * the create makes (its scope, and a bound model's bound value), not for the `default` scope:
 * no row of a scoped model has that scope, and sealing for it created a key for nothing (one
 * more key-service call, and a key every key listing and rotation then carries).
 *
 * The last test sweeps the other writes and reads of scoped models for the same leak.
 *
 * Each test names its own tenants; this file's database is its own, so a `default` scope key
 * can only come from the queries here.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { createHarness, type Harness } from './support';
import { testProvider } from '../support/provider';

describe('fieldEncryption: writes to scoped models make no key for the `default` scope, which no row has', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** The scopes the key store holds a scope key for (index keys are per database, not per row). */
  async function scopeKeys(harness: Harness = h): Promise<string[]> {
    const rows = await harness.db.query<{ scope: string }>(
      "SELECT DISTINCT scope FROM hushfield_keys WHERE kind = 'scope' ORDER BY scope",
    );
    return rows.map((row) => row.scope);
  }

  /** A user upsert by email whose create names `tenantId` and whose update writes encrypted fields. */
  const userUpsert = (tenantId: string, email: string) => ({
    where: { email },
    create: { emailIdx: computedBlindIndex, tenantId, name: 'Created', email, notes: 'created note' },
    update: { notes: 'updated note', ssn: '123-45-6789' },
  });

  it('top level: the create runs, only its tenant gets a key, and a second upsert updates the row', async () => {
    const { prisma } = h.fresh();
    const created = await prisma.user.upsert(userUpsert('keys-top', 'keys-top@example.com'));
    expect(created).toMatchObject({ tenantId: 'keys-top', notes: 'created note', ssn: null });
    expect(await scopeKeys()).toEqual(['keys-top']);
    // The row is there now: the update branch runs, sealed for the row read.
    const updated = await prisma.user.upsert(userUpsert('keys-top', 'keys-top@example.com'));
    expect(updated).toMatchObject({ id: created.id, notes: 'updated note', ssn: '123-45-6789' });
    expect(await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({
      notes: 'updated note',
      ssn: '123-45-6789',
    });
    expect(await scopeKeys()).toEqual(['keys-top']);
  });

  it('in a batch $transaction, and in an interactive one after preparing only its tenant', async () => {
    const { prisma } = h.fresh();
    const [batched] = await prisma.$transaction([
      prisma.user.upsert(userUpsert('keys-batch', 'keys-batch@example.com')),
    ]);
    // As a single-connection driver (SQLite) requires of a key made in an interactive
    // transaction. Preparing the create's tenant is enough: the update branch needs no other key.
    await prisma.$hushfield.prepare(['keys-itx']);
    const interactive = await prisma.$transaction((tx) =>
      tx.user.upsert(userUpsert('keys-itx', 'keys-itx@example.com')),
    );
    expect([batched.tenantId, interactive.tenantId]).toEqual(['keys-batch', 'keys-itx']);
    expect(await scopeKeys()).not.toContain('default');
    expect(await scopeKeys()).toEqual(expect.arrayContaining(['keys-batch', 'keys-itx']));
    const reader = h.fresh().prisma;
    for (const row of [batched, interactive]) {
      expect(await reader.user.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ notes: 'created note' });
    }
  });

  it('a scoped model bound to a client-generated public id, and a nested upsert of a to-many relation', async () => {
    const { prisma } = h.fresh();
    const org = await prisma.organization.create({ data: { slug: 'keys-org', legalName: 'Keys Org' } });
    const receipt = await prisma.receipt.upsert({
      where: { publicId: 'keys-receipt' },
      create: { publicId: 'keys-receipt', orgId: org.id, payee: 'Payee', payeeIdx: computedBlindIndex },
      update: { memo: 'updated memo' },
    });
    expect(receipt).toMatchObject({ orgId: org.id, payee: 'Payee', memo: null });
    const withMembers = await prisma.organization.update({
      where: { id: org.id },
      data: {
        members: {
          upsert: {
            where: { emailIdx: 'keys-member@example.com' },
            create: { email: 'keys-member@example.com', emailIdx: computedBlindIndex },
            update: { email: 'keys-member-updated@example.com', emailIdx: computedBlindIndex },
          },
        },
      },
      include: { members: true },
    });
    expect(withMembers.members).toMatchObject([{ email: 'keys-member@example.com' }]);
    expect(await scopeKeys()).not.toContain('default');
    expect(await scopeKeys()).toContain(org.id);
  });

  it("an upsert whose create makes its scope's row through a nested create seals for that row's real id", async () => {
    const { prisma } = h.fresh();
    const before = new Set(await scopeKeys());
    const made = await prisma.setting.upsert({
      where: { orgId_name: { orgId: 'keys-no-such-org', name: 'n' } },
      create: { name: 'n', org: { create: { slug: 'keys-nested-org' } } },
      update: { value: 'w' },
    });
    // A key for a scope no row has (an id generated for the nested create and never sent) is not made.
    expect((await scopeKeys()).filter((scope) => !before.has(scope))).toEqual([made.orgId]);
  });

  /** A named query; the name shows in the failure message. */
  type Step = [string, () => Promise<unknown>];

  it('no other write or read of a scoped model creates a `default` scope key', async () => {
    const prisma = h.fresh().prisma;
    const user = (tenantId: string, email: string) => ({ emailIdx: computedBlindIndex, tenantId, name: 'S', email });
    const matchLookup: Step = [
      'match index lookup',
      () => prisma.person.findMany({ where: { name: { contains: 'Ann' } } }),
    ];
    const steps: Step[] = [
      ['create with null values', () => prisma.user.create({ data: { ...user('sweep-1', 'a@sweep.io'), ssn: null } })],
      [
        'createMany',
        () => prisma.user.createMany({ data: [user('sweep-2', 'b@sweep.io'), user('sweep-1', 'c@sweep.io')] }),
      ],
      ['update to null', () => prisma.user.update({ where: { email: 'a@sweep.io' }, data: { notes: null } })],
      ['update', () => prisma.user.update({ where: { email: 'a@sweep.io' }, data: { notes: 'n' } })],
      ['updateMany to null', () => prisma.user.updateMany({ where: { tenantId: 'sweep-1' }, data: { notes: null } })],
      ['updateMany', () => prisma.user.updateMany({ where: { tenantId: 'sweep-1' }, data: { notes: 'm' } })],
      ['updateMany of a plain field', () => prisma.user.updateMany({ data: { name: 'T' } })],
      ['findMany by blind index', () => prisma.user.findMany({ where: { email: 'a@sweep.io' } })],
      [
        'upsert of a row that moves scope',
        () =>
          prisma.user.upsert({
            where: { email: 'd@sweep.io' },
            create: user('sweep-1', 'd@sweep.io'),
            update: { tenantId: 'sweep-2', notes: 'moved' },
          }),
      ],
      ['create of a db-assigned id', () => prisma.ticket.create({ data: { tenantId: 'sweep-3', subject: 's' } })],
      [
        'upsert of a db-assigned id, batch',
        () =>
          prisma.$transaction([
            prisma.ticket.upsert({
              where: { id: -1 },
              create: { tenantId: 'sweep-3', subject: 's' },
              update: { detail: 'd' },
            }),
          ]),
      ],
      [
        'nested creates',
        () =>
          prisma.organization.create({
            data: {
              slug: 'sweep-org',
              legalName: null,
              members: { create: [{ email: 'm@sweep.io', emailIdx: computedBlindIndex }] },
            },
          }),
      ],
      [
        'nested connectOrCreate and upsert',
        async () => {
          const org = await prisma.organization.findUniqueOrThrow({ where: { slug: 'sweep-org' } });
          return prisma.organization.update({
            where: { id: org.id },
            data: {
              members: {
                connectOrCreate: {
                  where: { emailIdx: 'n@sweep.io' },
                  create: { email: 'n@sweep.io', emailIdx: computedBlindIndex },
                },
              },
              settings: {
                upsert: {
                  where: { orgId_name: { orgId: org.id, name: 's' } },
                  create: { name: 's', value: 'v' },
                  update: { value: 'w' },
                },
              },
            },
          });
        },
      ],
      [
        'Json and Bytes fields',
        () =>
          prisma.document.create({
            data: { tenantId: 'sweep-4', title: 't', body: { a: 1 }, blob: null, note: null },
          }),
      ],
      // Match indexes are PostgreSQL integer arrays.
      ...(testProvider() === 'postgresql' ? [matchLookup] : []),
      [
        'delete and deleteMany',
        async () => {
          await prisma.user.delete({ where: { email: 'a@sweep.io' } });
          return prisma.user.deleteMany({ where: { tenantId: 'sweep-2' } });
        },
      ],
    ];
    for (const [step, run] of steps) {
      await run();
      // The step's name in the failure message.
      expect({ step, scopes: await scopeKeys() }).toEqual({ step, scopes: expect.not.arrayContaining(['default']) });
    }
    expect(await scopeKeys()).toEqual(expect.arrayContaining(['sweep-1', 'sweep-2', 'sweep-3', 'sweep-4']));
  });

  it("an unscoped model's rows are the default scope's: its upsert creates that key (the check above can fail)", async () => {
    // A database of its own: the key this test expects must not come from another test.
    const own = await createHarness();
    try {
      expect(await scopeKeys(own)).toEqual([]);
      const voucher = await own.prisma.voucher.upsert({
        where: { code: 'keys-voucher' },
        create: { code: 'keys-voucher', secret: 's3cret' },
        update: { secret: 'rotated' },
      });
      expect(voucher.secret).toBe('s3cret');
      expect(await scopeKeys(own)).toEqual(['default']);
    } finally {
      await own.close();
    }
  });
});
