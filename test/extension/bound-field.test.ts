import { randomBytes } from 'node:crypto';
import { computedBlindIndex, fieldEncryption, type HushfieldSchema } from '@hushfield/prisma';
import { ConfigError, DecryptionError, LocalKeyring, UnsupportedQueryError } from '@hushfield/core';
import { PrismaClient } from '../../prisma/generated/client/client';
import {
  createHarness,
  expectNoPlaintextIn,
  expectNoPlaintextInLog,
  type Harness,
  hushfieldSchema,
  isEnvelope,
  rejection,
} from './support';
import { testProvider } from '../support/provider';

/** The test schema as it was before `@encryption(bind: publicId)` was added to Receipt. */
function unboundSchema(): HushfieldSchema {
  const receipt: Record<string, unknown> = { ...hushfieldSchema.models.Receipt, bindRowId: false };
  delete receipt.bindField;
  delete receipt.bindGeneration;
  const models = { ...hushfieldSchema.models, Receipt: receipt } as unknown as HushfieldSchema['models'];
  return { ...(hushfieldSchema as unknown as HushfieldSchema), models };
}

/**
 * `/// @encryption(bind: f)`: a model whose id the database assigns binds its values to another
 * unique field known before the write (Receipt: a client-generated `publicId`, scoped by its
 * organization; Voucher: a `code` the caller gives, unscoped). A value copied to another row
 * then fails to decrypt, within one scope too, which the scope check alone cannot tell (see
 * scope-check.test.ts's Ticket).
 */
describe('fieldEncryption: values bound to a field other than the id', () => {
  let h: Harness;
  let orgId: string;

  beforeAll(async () => {
    h = await createHarness();
    orgId = (await h.prisma.organization.create({ data: { slug: 'bound-field' } })).id;
  });
  afterAll(async () => {
    await h.close();
  });

  const receipt = (payee: string, memo?: string) =>
    h.prisma.receipt.create({ data: { orgId, payee, payeeIdx: computedBlindIndex, memo } });

  it('generates the bound value on create, seals under it, and reads by id, bound value and blind index', async () => {
    const created = await receipt('Payee One', 'first memo');
    expect(created).toMatchObject({ orgId, payee: 'Payee One', memo: 'first memo' });
    expect(created.publicId).toMatch(/^c[0-9a-z]{24}$/);
    const [stored] = await h.db.query<{ public_id: string; payee: string }>(
      'SELECT public_id, payee FROM receipts WHERE id = $1',
      [created.id],
    );
    expect(stored.public_id).toBe(created.publicId);
    expect(isEnvelope(stored.payee)).toBe(true);
    expect((await h.prisma.receipt.findUnique({ where: { id: created.id } }))?.payee).toBe('Payee One');
    expect((await h.prisma.receipt.findUnique({ where: { publicId: created.publicId } }))?.memo).toBe('first memo');
    const found = await h.prisma.receipt.findMany({ where: { payee: 'payee one ' } });
    expect(found.map((row) => row.id)).toEqual([created.id]);
    await expectNoPlaintextIn(h.db, 'receipts', ['Payee One', 'first memo']);
    expectNoPlaintextInLog(h.queries, ['Payee One', 'first memo']);
  });

  it('re-checks blind-index hits and counts candidates opened bound to their rows', async () => {
    const created = await receipt('Checked Payee');
    const found = await h.prisma.receipt.findFirstOrThrow({ where: { payee: 'checked payee' } });
    expect(found).toMatchObject({ id: created.id, payee: 'Checked Payee' });
    const unique = await h.prisma.receipt.findUniqueOrThrow({ where: { publicId: created.publicId } });
    expect(unique.payee).toBe('Checked Payee');
    expect(await h.prisma.receipt.count({ where: { payee: 'Checked Payee', orgId } })).toBe(1);
    // Through a selection without the bound field, the re-check still opens the hit bound.
    // (findFirst is re-checked in place; findFirstOrThrow narrows the candidates by their values first.)
    const selected = { where: { payee: 'checked payee' }, select: { id: true } } as const;
    expect(await h.prisma.receipt.findFirst(selected)).toEqual({ id: created.id });
    expect(await h.prisma.receipt.findFirstOrThrow(selected)).toEqual({ id: created.id });
  });

  it('fails a row read without its bound value closed, and reads it once told the client omits it', async () => {
    const a = await receipt('Omitted', 'omitted memo');
    const base = new PrismaClient({ adapter: h.db.adapter(), omit: { receipt: { publicId: true } } });
    try {
      // Told the client omits nothing, the extension does not ask for publicId: never opened unbound.
      const told = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, omit: {} }));
      const error = await told.receipt.findUnique({ where: { id: a.id } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DecryptionError);
      expect((error as Error).message).toContain('its values are bound to publicId, which the row read does not hold');
      expect((error as Error).message).toContain("give fieldEncryption the client's omit, or select publicId");
      expect((error as Error).message).not.toContain('Omitted');
      const lenient = base.$extends(
        fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, omit: {}, onDecryptError: 'null' }),
      );
      expect(await lenient.receipt.findUnique({ where: { id: a.id } })).toMatchObject({ payee: null, memo: null });
      // Read from the client, the omit is honoured: publicId is asked for and stripped again.
      const read = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }));
      const row = await read.receipt.findUniqueOrThrow({ where: { id: a.id } });
      expect(row).toMatchObject({ payee: 'Omitted', memo: 'omitted memo' });
      expect('publicId' in row).toBe(false);
    } finally {
      await base.$disconnect();
    }
  });

  it('refuses only sealed values of a row without its bound value: legacy plaintext of a migrating field passes', async () => {
    const a = await receipt('Sealed Payee', 'sealed memo');
    await h.db.query("UPDATE receipts SET payee = 'legacy payee' WHERE id = $1", [a.id]);
    const receiptMeta = hushfieldSchema.models.Receipt;
    const migrating = {
      ...hushfieldSchema,
      models: {
        ...hushfieldSchema.models,
        Receipt: {
          ...receiptMeta,
          encrypted: { ...receiptMeta.encrypted, payee: { ...receiptMeta.encrypted.payee, mode: 'migrating' } },
        },
      },
    } as unknown as typeof hushfieldSchema;
    const base = new PrismaClient({ adapter: h.db.adapter(), omit: { receipt: { publicId: true } } });
    try {
      const told = base.$extends(
        fieldEncryption({ schema: migrating, keyring: h.keyring, omit: {}, onDecryptError: 'null' }),
      );
      expect(await told.receipt.findUnique({ where: { id: a.id } })).toMatchObject({
        payee: 'legacy payee',
        memo: null,
      });
    } finally {
      await base.$disconnect();
    }
  });

  it('takes a bound value the caller gives', async () => {
    const given = await h.prisma.receipt.create({
      data: { orgId, publicId: 'rcpt-given-1', payee: 'Given', payeeIdx: computedBlindIndex },
    });
    expect(given.publicId).toBe('rcpt-given-1');
    expect((await h.prisma.receipt.findUnique({ where: { id: given.id } }))?.payee).toBe('Given');
  });

  it('refuses a value copied to another row of the same scope, and a row whose bound value was changed in SQL', async () => {
    const a = await receipt('Copied From');
    const b = await receipt('Copied Over');
    await h.db.query('UPDATE receipts SET payee = (SELECT payee FROM receipts WHERE id = $1) WHERE id = $2', [
      a.id,
      b.id,
    ]);
    const error = await rejection(h.prisma.receipt.findUnique({ where: { id: b.id } }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({ model: 'Receipt', field: 'payee', rowId: b.publicId });
    expect((error as Error).message).not.toContain('Copied From');
    // The row it was copied from still reads.
    expect((await h.prisma.receipt.findUniqueOrThrow({ where: { id: a.id } })).payee).toBe('Copied From');

    const c = await receipt('Renamed');
    await h.db.query("UPDATE receipts SET public_id = 'rcpt-renamed' WHERE id = $1", [c.id]);
    await expect(h.prisma.receipt.findUnique({ where: { id: c.id } })).rejects.toThrow(DecryptionError);
  });

  it('reads the bound field when the selection leaves it out, and strips it again', async () => {
    const a = await receipt('Selected');
    expect(await h.prisma.receipt.findUnique({ where: { id: a.id }, select: { payee: true } })).toEqual({
      payee: 'Selected',
    });
    expect(await h.prisma.receipt.findUnique({ where: { id: a.id }, omit: { publicId: true, orgId: true } })).toEqual({
      id: a.id,
      payee: 'Selected',
      payeeIdx: a.payeeIdx,
      memo: null,
    });
    const loaded = await h.prisma.organization.findUnique({
      where: { id: orgId },
      include: { receipts: { where: { id: a.id }, select: { memo: true, payee: true } } },
    });
    expect(loaded?.receipts).toEqual([{ memo: null, payee: 'Selected' }]);
  });

  it('updates by id, by bound value, many at once and through upsert, sealing for the row read', async () => {
    const a = await receipt('Before');
    const byId = await h.prisma.receipt.update({ where: { id: a.id }, data: { payee: 'After', memo: 'm1' } });
    expect(byId).toMatchObject({ payee: 'After', memo: 'm1', publicId: a.publicId });
    await h.prisma.receipt.update({ where: { publicId: a.publicId }, data: { memo: 'm2' } });
    expect(await h.prisma.receipt.findUnique({ where: { id: a.id } })).toMatchObject({ payee: 'After', memo: 'm2' });

    const b = await receipt('Many');
    const { count } = await h.prisma.receipt.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { memo: 'm3' } });
    expect(count).toBe(2);
    const both = await h.prisma.receipt.findMany({ where: { id: { in: [a.id, b.id] } }, orderBy: { id: 'asc' } });
    expect(both.map((row) => row.memo)).toEqual(['m3', 'm3']);

    const updated = await h.prisma.receipt.upsert({
      where: { publicId: b.publicId },
      create: { orgId, payee: 'never', payeeIdx: computedBlindIndex },
      update: { payee: 'Upserted' },
    });
    expect(updated).toMatchObject({ id: b.id, payee: 'Upserted' });
    const created = await h.prisma.receipt.upsert({
      where: { publicId: 'rcpt-upsert-new' },
      create: { orgId, publicId: 'rcpt-upsert-new', payee: 'Created', payeeIdx: computedBlindIndex },
      update: { payee: 'never' },
    });
    expect(created).toMatchObject({ publicId: 'rcpt-upsert-new', payee: 'Created' });
    // Every value reads from a fresh client, with cold caches: each was sealed for its own row.
    const fresh = h.fresh().prisma;
    const all = await fresh.receipt.findMany({
      where: { id: { in: [a.id, b.id, created.id] } },
      orderBy: { id: 'asc' },
    });
    expect(all.map((row) => [row.payee, row.memo])).toEqual([
      ['After', 'm3'],
      ['Upserted', 'm3'],
      ['Created', null],
    ]);
  });

  it('refuses an update that changes the bound value, and leaves the row as it was', async () => {
    const a = await receipt('Rekeyed');
    const error = await rejection(h.prisma.receipt.update({ where: { id: a.id }, data: { publicId: 'rcpt-other' } }));
    expect(error).toBeInstanceOf(UnsupportedQueryError);
    expect((error as Error).message).toContain('Receipt.publicId');
    await expect(h.prisma.receipt.updateMany({ where: { id: a.id }, data: { publicId: 'x' } })).rejects.toThrow(
      UnsupportedQueryError,
    );
    expect(await h.prisma.receipt.findUnique({ where: { id: a.id } })).toMatchObject({
      publicId: a.publicId,
      payee: 'Rekeyed',
    });
  });

  it('generates the bound value of nested creates, and seals nested updates for the row they name', async () => {
    const org = await h.prisma.organization.create({
      data: {
        slug: 'bound-field-nested',
        receipts: {
          create: [
            { payee: 'Nested One', payeeIdx: computedBlindIndex },
            { payee: 'Nested Two', payeeIdx: computedBlindIndex },
          ],
        },
      },
      include: { receipts: { orderBy: { id: 'asc' } } },
    });
    expect(org.receipts.map((row) => row.payee)).toEqual(['Nested One', 'Nested Two']);
    expect(new Set(org.receipts.map((row) => row.publicId)).size).toBe(2);
    const [one, two] = org.receipts;
    await h.prisma.organization.update({
      where: { id: org.id },
      data: {
        receipts: {
          update: [
            { where: { id: one.id }, data: { memo: 'nested by id' } },
            { where: { publicId: two.publicId }, data: { memo: 'nested by bound value' } },
          ],
        },
      },
    });
    // createMany (MySQL has no createManyAndReturn): each row gets its own bound value.
    const { count } = await h.prisma.receipt.createMany({
      data: [
        { orgId: org.id, payee: 'Batch One', payeeIdx: computedBlindIndex },
        { orgId: org.id, payee: 'Batch Two', payeeIdx: computedBlindIndex },
      ],
    });
    expect(count).toBe(2);
    const read = await h.fresh().prisma.receipt.findMany({ where: { orgId: org.id }, orderBy: { id: 'asc' } });
    expect(read.map((row) => [row.payee, row.memo])).toEqual([
      ['Nested One', 'nested by id'],
      ['Nested Two', 'nested by bound value'],
      ['Batch One', null],
      ['Batch Two', null],
    ]);
    expect(new Set(read.map((row) => row.publicId)).size).toBe(4);
  });

  it('reads values sealed before the binding from a model listed in migratingBindings, and only there', async () => {
    const before = h.fresh({ schema: unboundSchema() as never }).prisma;
    const old = await before.receipt.create({ data: { orgId, payee: 'Old Payee', payeeIdx: computedBlindIndex } });
    await expect(h.prisma.receipt.findUnique({ where: { id: old.id } })).rejects.toThrow(DecryptionError);
    const migrating = h.fresh({ migratingBindings: ['Receipt'] }).prisma;
    expect((await migrating.receipt.findUniqueOrThrow({ where: { id: old.id } })).payee).toBe('Old Payee');
    // Its writes are bound; a bound value copied to another row is refused there too.
    const bound = await migrating.receipt.create({ data: { orgId, payee: 'New Payee', payeeIdx: computedBlindIndex } });
    expect((await h.prisma.receipt.findUniqueOrThrow({ where: { id: bound.id } })).payee).toBe('New Payee');
    await h.db.query('UPDATE receipts SET payee = (SELECT payee FROM receipts WHERE id = $1) WHERE id = $2', [
      bound.id,
      old.id,
    ]);
    await expect(migrating.receipt.findUnique({ where: { id: old.id } })).rejects.toThrow(DecryptionError);
  });

  it('refuses a migratingBindings entry that is not a bound model of the schema', () => {
    const keyring = new LocalKeyring(randomBytes(32));
    expect(() => fieldEncryption({ schema: hushfieldSchema, keyring, migratingBindings: ['Receipt'] })).not.toThrow();
    // User is bound to its client-generated id: its values were bound from their first write.
    for (const migratingBindings of [['Nope'], ['Ticket'], ['User'], 'Receipt']) {
      expect(() =>
        fieldEncryption({ schema: hushfieldSchema, keyring, migratingBindings: migratingBindings as string[] }),
      ).toThrow(ConfigError);
    }
  });

  (testProvider() === 'mysql' ? it : it.skip)(
    'seals a nested update of an unscoped bound model for the row as stored, not as a case-insensitive where names it',
    async () => {
      // Account is bound to its client-generated id; a collation that ignores case matches another form of it.
      const user = await h.prisma.user.create({
        data: {
          tenantId: 't-case',
          name: 'n',
          email: 'case@example.com',
          emailIdx: computedBlindIndex,
          accounts: { create: { provider: 'p', externalId: 'ext-1', externalIdIdx: computedBlindIndex } },
        },
        include: { accounts: true },
      });
      const [account] = user.accounts;
      await h.db.query('ALTER TABLE accounts MODIFY id VARCHAR(191) COLLATE utf8mb4_general_ci NOT NULL');
      await h.prisma.user.update({
        where: { id: user.id },
        data: {
          accounts: {
            update: {
              where: { id: account.id.toUpperCase() },
              data: { externalId: 'ext-2', externalIdIdx: computedBlindIndex },
            },
          },
        },
      });
      expect((await h.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).externalId).toBe('ext-2');
    },
  );

  it('binds an unscoped model to a value the caller gives', async () => {
    const a = await h.prisma.voucher.create({ data: { code: 'voucher-a', secret: 'secret a' } });
    const b = await h.prisma.voucher.create({ data: { code: 'voucher-b', secret: 'secret b' } });
    expect((await h.prisma.voucher.findUnique({ where: { code: 'voucher-a' } }))?.secret).toBe('secret a');
    await h.prisma.voucher.update({ where: { code: 'voucher-b' }, data: { secret: 'secret b2' } });
    await h.prisma.voucher.update({ where: { id: b.id }, data: { secret: 'secret b3' } });
    expect((await h.fresh().prisma.voucher.findUnique({ where: { id: b.id } }))?.secret).toBe('secret b3');
    await h.db.query('UPDATE vouchers SET secret = (SELECT secret FROM vouchers WHERE id = $1) WHERE id = $2', [
      a.id,
      b.id,
    ]);
    await expect(h.prisma.voucher.findUnique({ where: { id: b.id } })).rejects.toThrow(DecryptionError);
    await expectNoPlaintextIn(h.db, 'vouchers', ['secret a', 'secret b']);
  });
});
