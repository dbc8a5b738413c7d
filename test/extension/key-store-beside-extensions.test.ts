import { computedBlindIndex, fieldEncryption, PrismaAuditSink } from '@hushfield/prisma';
import { Prisma } from '../../prisma/generated/client/client';
import { createHarness, type Harness, hushfieldSchema, isEnvelope } from './support';

/**
 * `$allModels` query extensions added before fieldEncryption (a tenant filter, a soft delete),
 * written for the app's own models: they must not run on hushfield's own key-store queries
 * (model `HushfieldKey`, which has neither `tenantId` nor `name`), outside or inside an
 * interactive transaction. On SQLite (one connection) the key lookup inside a transaction runs
 * through that transaction, so it must bypass the app's extensions there too.
 */
describe('the default key store beside $allModels query extensions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const WHERE_OPERATIONS = new Set([
    'findMany',
    'findFirst',
    'findFirstOrThrow',
    'update',
    'updateMany',
    'updateManyAndReturn',
    'delete',
    'deleteMany',
    'count',
  ]);
  /** Every model's queries are the tenant's: a where gains `tenantId`, a create's data gains it. */
  const tenant = (tenantId: string) =>
    Prisma.defineExtension({
      query: {
        $allModels: {
          $allOperations({ operation, args, query }) {
            const given = args as { where?: object; data?: object };
            if (WHERE_OPERATIONS.has(operation)) return query({ ...given, where: { ...given.where, tenantId } });
            if (operation === 'create') return query({ ...given, data: { ...given.data, tenantId } });
            if (operation === 'createMany') {
              const rows = given.data as object[];
              return query({ ...given, data: rows.map((row) => ({ ...row, tenantId })) });
            }
            return query(args);
          },
        },
      },
    });
  /** Reads leave out rows named `deleted`, on every model. */
  const softDelete = Prisma.defineExtension({
    query: {
      $allModels: {
        findMany: ({ args, query }) => query({ ...args, where: { ...args.where, name: { not: 'deleted' } } }),
      },
    },
  });
  const extended = (base: Harness['base'], tenantId: string) =>
    base
      .$extends(tenant(tenantId))
      .$extends(softDelete)
      .$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }));
  const user = (name: string) => ({
    name,
    tenantId: 'given',
    email: `${name}@example.com`,
    emailIdx: computedBlindIndex,
  });

  it('creates, reads and updates outside a transaction, the tenant and soft delete applied to users', async () => {
    const prisma = extended(h.fresh().base, 't-out');
    const ada = await prisma.user.create({ data: user('ada') });
    await prisma.user.create({ data: user('deleted') });
    expect(ada).toMatchObject({ tenantId: 't-out', email: 'ada@example.com' });
    const found = await prisma.user.findMany({ where: { email: 'ada@example.com' } });
    expect(found.map((u) => [u.name, u.email])).toEqual([['ada', 'ada@example.com']]);
    expect((await prisma.user.findMany({})).map((u) => u.name)).toEqual(['ada']);
    await prisma.user.update({ where: { id: ada.id }, data: { email: 'ada2@example.com' } });
    const [raw] = await h.db.query<{ email: string; tenantId: string }>(
      `SELECT email, "tenantId" FROM users WHERE id = '${ada.id}'`,
    );
    expect(isEnvelope(raw.email)).toBe(true);
    expect(raw.tenantId).toBe('t-out');
    // A fresh client without the app's extensions opens what was written.
    const again = await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: ada.id } });
    expect(again.email).toBe('ada2@example.com');
  });

  it('creates, reads and updates inside interactive transactions, a cold cache looking its keys up there', async () => {
    // The key exists (created outside); a fresh client's first lookup runs inside the transaction.
    await extended(h.fresh().base, 't-in').$hushfield.prepare(['t-in']);
    const prisma = extended(h.fresh().base, 't-in');
    const id = await prisma.$transaction(async (tx) => {
      const grace = await tx.user.create({ data: user('grace') });
      const read = await tx.user.findMany({ where: { email: 'grace@example.com' } });
      expect(read.map((u) => [u.tenantId, u.email])).toEqual([['t-in', 'grace@example.com']]);
      await tx.user.update({ where: { id: grace.id }, data: { notes: 'in a transaction' } });
      return grace.id;
    });
    const other = extended(h.fresh().base, 't-in');
    const read = await other.$transaction(async (tx) => tx.user.findMany({ where: { email: 'grace@example.com' } }));
    expect(read.map((u) => [u.id, u.notes])).toEqual([[id, 'in a transaction']]);
    const [raw] = await h.db.query<{ notes: string }>(`SELECT notes FROM users WHERE id = '${id}'`);
    expect(isEnvelope(raw.notes)).toBe(true);
    const again = await h.fresh().prisma.user.findUniqueOrThrow({ where: { id } });
    expect([again.tenantId, again.email, again.notes]).toEqual(['t-in', 'grace@example.com', 'in a transaction']);
  });

  it('looks keys up inside a nested transaction of a client extended again after it', async () => {
    await extended(h.fresh().base, 't-nested').$hushfield.prepare(['t-nested']);
    const domain = Prisma.defineExtension({
      result: {
        user: { domain: { needs: { email: true }, compute: (u: { email: string }) => u.email.split('@')[1] } },
      },
    });
    const prisma = extended(h.fresh().base, 't-nested').$extends(domain);
    const read = await prisma.$transaction(async (tx) =>
      tx.$transaction(async (inner) => {
        await inner.user.create({ data: user('hedy') });
        return inner.user.findMany({ where: { email: 'hedy@example.com' } });
      }),
    );
    expect(read.map((u) => [u.tenantId, u.email, u.domain])).toEqual([['t-nested', 'hedy@example.com', 'example.com']]);
  });

  it('writes a key inside the transaction, beside the row whose generated id is its scope, past the extensions', async () => {
    const seen: string[] = [];
    const watch = Prisma.defineExtension({
      query: {
        $allModels: {
          $allOperations({ model, args, query }) {
            seen.push(model);
            return query(args);
          },
        },
      },
    });
    const prisma = h
      .fresh()
      .base.$extends(watch)
      .$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }));
    const org = await prisma.$transaction(
      (tx) => tx.organization.create({ data: { slug: 'watched-org', legalName: 'Watched Ltd' } }),
      { timeout: 15_000 },
    );
    let lost = '';
    await expect(
      prisma.$transaction(async (tx) => {
        lost = (await tx.organization.create({ data: { slug: 'watched-lost', legalName: 'Lost Ltd' } })).id;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(seen).toContain('Organization');
    expect(seen).not.toContain('HushfieldKey');
    const keys = (scope: string) => h.db.query(`SELECT scope FROM hushfield_keys WHERE scope = $1`, [scope]);
    expect(await keys(org.id)).toHaveLength(1);
    // On one connection the key was written in the transaction, and rolled back with the row.
    expect(await keys(lost)).toHaveLength(h.db.backend === 'pglite' || h.db.backend === 'sqlite' ? 0 : 1);
    expect((await h.fresh().prisma.organization.findUniqueOrThrow({ where: { id: org.id } })).legalName).toBe(
      'Watched Ltd',
    );
  });

  it('writes audit events through a PrismaAuditSink given the app client, past its extensions', async () => {
    const app = h.fresh().base.$extends(tenant('t-audit')).$extends(softDelete);
    const audit = new PrismaAuditSink(app);
    const prisma = app.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, audit }));
    await prisma.user.create({ data: user('alan') });
    await audit.close();
    const events = await h.db.query<{ operation: string; scope: string | null }>(
      `SELECT operation, scope FROM hushfield_audit_events WHERE scope = 't-audit'`,
    );
    expect(events.map((e) => e.operation)).toContain('key.create');
    expect(audit.dropped).toBe(0);
  });
});
