import { ConfigError } from '@hushfield/core';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { Prisma } from '../../prisma/generated/client/client';
import { createHarness, type Harness, hushfieldSchema, isEnvelope, rejection } from './support';

/**
 * fieldEncryption composed with an app's own extensions. Prisma runs query extensions in the
 * order they were added, each handing its arguments to the next: one added before
 * fieldEncryption rewrites plaintext arguments that are then encrypted; one added after it
 * would see (and send) arguments the extension already rewrote, and the database's ciphertext
 * as results. So query extensions on encrypted models go before it, and adding one after it is
 * refused; result and model extensions may go either side.
 */
describe('fieldEncryption beside other extensions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const user = (tenantId: string, name: string) => ({
    tenantId,
    name,
    email: `${name}@${tenantId}.example`,
    emailIdx: computedBlindIndex,
  });
  /** A tenant extension: every user created or read is the current tenant's. */
  const tenant = (tenantId: string) =>
    Prisma.defineExtension({
      query: {
        user: {
          create: ({ args, query }) => query({ ...args, data: { ...args.data, tenantId, notes: 'tenant note' } }),
          findMany: ({ args, query }) => query({ ...args, where: { ...args.where, tenantId } }),
        },
      },
    });
  /** A soft delete: reads leave out users named `deleted`. */
  const softDelete = Prisma.defineExtension({
    query: {
      user: {
        findMany: ({ args, query }) => query({ ...args, where: { ...args.where, name: { not: 'deleted' } } }),
      },
    },
  });
  const sealed = () => fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring });
  const domain = Prisma.defineExtension({
    result: { user: { domain: { needs: { email: true }, compute: (u: { email: string }) => u.email.split('@')[1] } } },
  });

  it('runs query extensions added before it on plaintext: the tenant scopes the keys, values are sealed', async () => {
    const prisma = h.base.$extends(tenant('t-before')).$extends(softDelete).$extends(sealed());
    const created = await prisma.user.create({ data: user('ignored', 'ada') });
    await prisma.user.create({ data: user('ignored', 'deleted') });
    expect(created).toMatchObject({ tenantId: 't-before', email: 'ada@ignored.example', notes: 'tenant note' });
    const [raw] = await h.db.query<{ email: string; notes: string }>(
      `SELECT email, notes FROM users WHERE "tenantId" = 't-before' AND name = 'ada'`,
    );
    expect(isEnvelope(raw.email) && isEnvelope(raw.notes)).toBe(true);
    const found = await prisma.user.findMany({ where: { email: 'ada@ignored.example' } });
    expect(found.map((u) => u.email)).toEqual(['ada@ignored.example']);
    // A fresh client without the app's extensions opens what was written.
    const again = await h.fresh().prisma.user.findMany({ where: { tenantId: 't-before' }, orderBy: { name: 'asc' } });
    expect(again.map((u) => [u.name, u.email, u.notes])).toEqual([
      ['ada', 'ada@ignored.example', 'tenant note'],
      ['deleted', 'deleted@ignored.example', 'tenant note'],
    ]);
  });

  it('refuses a query extension added after it, before any query, so no plaintext reaches an encrypted column', async () => {
    const { prisma, queries } = h.fresh();
    const before = queries.length;
    for (const ext of [tenant('t-after'), softDelete]) {
      const error = await rejection(Promise.resolve().then(() => prisma.$extends(ext)));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/before fieldEncryption/);
    }
    // The object form of $extends is refused too.
    expect(() => prisma.$extends({ query: { user: { create: ({ args, query }) => query(args) } } })).toThrow(
      ConfigError,
    );
    // Also behind a result extension added after it.
    expect(() => prisma.$extends(domain).$extends(tenant('t-after'))).toThrow(ConfigError);
    expect(queries.length).toBe(before);
    expect(await h.db.query(`SELECT notes FROM users WHERE notes = 'tenant note'`)).toEqual([]);
  });

  it('takes result and model extensions on either side, and query extensions on models without encrypted fields', async () => {
    await h.prisma.user.create({ data: user('t-result', 'grace') });
    const byTenant = Prisma.defineExtension({
      model: {
        user: {
          async byTenant(this: unknown, tenantId: string) {
            const model = Prisma.getExtensionContext(this) as unknown as {
              findMany(args: object): Promise<{ email: string }[]>;
            };
            return model.findMany({ where: { tenantId } });
          },
        },
      },
    });
    const plain = Prisma.defineExtension({ query: { $queryRaw: ({ args, query }) => query(args) } });
    for (const prisma of [
      h.base.$extends(domain).$extends(byTenant).$extends(sealed()),
      h.base.$extends(sealed()).$extends(domain).$extends(byTenant).$extends(plain),
    ]) {
      const [read] = await prisma.user.findMany({
        where: { tenantId: 't-result' },
        select: { email: true, domain: true },
      });
      expect([read.email, read.domain]).toEqual(['grace@t-result.example', 't-result.example']);
      const users = await (prisma.user as unknown as { byTenant(t: string): Promise<{ email: string }[]> }).byTenant(
        't-result',
      );
      expect(users.map((u) => u.email)).toEqual(['grace@t-result.example']);
    }
  });

  it('answers a computed field that needs an encrypted field when it is selected alone, in either order', async () => {
    await h.prisma.user.create({ data: user('t-computed', 'hedy') });
    for (const prisma of [h.base.$extends(domain).$extends(sealed()), h.base.$extends(sealed()).$extends(domain)]) {
      const read = await prisma.user.findMany({ where: { tenantId: 't-computed' }, select: { domain: true } });
      // As plain Prisma gives it: the computed field alone (what decryption needed is stripped).
      expect(read.map((row) => Object.keys(row))).toEqual([['domain']]);
      expect(read[0].domain).toBe('t-computed.example');
    }
  });
});
