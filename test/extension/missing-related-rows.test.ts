/**
 * Nested updates of related rows that do not exist: Prisma answers "record not found" (P2025),
 * which applications handle; the extended client must answer the same, having written nothing.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import {
  createHarness,
  expectNoPlaintextIn,
  expectNoPlaintextInLog,
  type Harness,
  isEnvelope,
  rejection,
} from './support';

/** The error's class name and Prisma code, as an application that handles P2025 sees them. */
const shape = (error: unknown) => ({
  name: (error as Error | undefined)?.constructor?.name,
  code: (error as { code?: unknown } | undefined)?.code,
});

describe('fieldEncryption: nested updates of related rows that do not exist', () => {
  let h: Harness;
  const secrets = ['DE00 0001', 'Lost parent', 'lost@example.com'];

  beforeAll(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    for (const table of ['organizations', 'billings', 'folders', 'members']) {
      await expectNoPlaintextIn(h.db, table, secrets);
    }
    expectNoPlaintextInLog(h.queries, secrets);
  });
  afterAll(async () => {
    await h.close();
  });

  it('a to-one update where the parent holds no related row fails as Prisma does (P2025)', async () => {
    const org = await h.prisma.organization.create({ data: { slug: 'no-billing-update' } });
    const plain = await rejection(
      h.base.organization.update({ where: { id: org.id }, data: { billing: { update: { iban: 'not a secret' } } } }),
    );
    const sealed = await rejection(
      h.prisma.organization.update({ where: { id: org.id }, data: { billing: { update: { iban: 'DE00 0001' } } } }),
    );
    expect(shape(plain)).toEqual({ name: 'PrismaClientKnownRequestError', code: 'P2025' });
    expect(shape(sealed)).toEqual(shape(plain));
    expect(await h.base.billing.count({ where: { orgId: org.id } })).toBe(0);
  });

  it('a to-one update through a foreign key the row holds, set to none, fails as Prisma does (P2025)', async () => {
    const orphan = await h.prisma.folder.create({
      data: { tenantId: 'lost', name: 'Orphan', nameIdx: computedBlindIndex },
    });
    const plain = await rejection(
      h.base.folder.update({ where: { id: orphan.id }, data: { parent: { update: { tenantId: 'lost' } } } }),
    );
    const sealed = await rejection(
      h.prisma.folder.update({ where: { id: orphan.id }, data: { parent: { update: { name: 'Lost parent' } } } }),
    );
    expect(shape(plain)).toEqual({ name: 'PrismaClientKnownRequestError', code: 'P2025' });
    expect(shape(sealed)).toEqual(shape(plain));
    expect(await h.base.folder.count({ where: { tenantId: 'lost' } })).toBe(1);
  });

  it("a top-level upsert that creates its row takes its create branch though its update's to-one row is missing", async () => {
    const upsert = (iban: string) =>
      h.prisma.organization.upsert({
        where: { slug: 'upsert-new-billing' },
        create: { slug: 'upsert-new-billing', billing: { create: { iban } } },
        update: { billing: { update: { iban } } },
        include: { billing: true },
      });
    const made = await upsert('DE00 0001');
    expect(made.billing?.iban).toBe('DE00 0001');
    const [stored] = await h.db.query<{ iban: string }>('SELECT iban FROM billings WHERE org_id = $1', [made.id]);
    expect(isEnvelope(stored.iban)).toBe(true);
    expect((await h.fresh().prisma.billing.findUniqueOrThrow({ where: { orgId: made.id } })).iban).toBe('DE00 0001');
  });

  it('a to-many update whose where names no related row fails as Prisma does (P2025)', async () => {
    const org = await h.prisma.organization.create({ data: { slug: 'no-member-update' } });
    const where = { id: 'no-such-member' };
    const plain = await rejection(
      h.base.organization.update({
        where: { id: org.id },
        data: { members: { update: { where, data: { email: 'not a secret' } } } },
      }),
    );
    const sealed = await rejection(
      h.prisma.organization.update({
        where: { id: org.id },
        data: { members: { update: { where, data: { email: 'lost@example.com', emailIdx: computedBlindIndex } } } },
      }),
    );
    expect(shape(plain)).toEqual({ name: 'PrismaClientKnownRequestError', code: 'P2025' });
    expect(shape(sealed)).toEqual(shape(plain));
  });
});
