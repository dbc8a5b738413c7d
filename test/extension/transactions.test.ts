import { AsyncLocalStorage } from 'node:async_hooks';
import { computedBlindIndex, fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import { ConfigError } from '@hushfield/core';
import { createHarness, expectNoPlaintextInLog, type Harness, hushfieldSchema, isEnvelope } from './support';
import { testProvider } from '../support/provider';

describe('fieldEncryption: $transaction', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Tx', email: 'tx@example.com' },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it('batch transactions encrypt, rewrite and decrypt every query', async () => {
    const [created, found, count] = await h.prisma.$transaction([
      h.prisma.user.create({
        data: {
          emailIdx: computedBlindIndex,
          tenantId: 'acme',
          name: 'Batch',
          email: 'batch@example.com',
          notes: 'batch note',
        },
      }),
      h.prisma.user.findMany({ where: { email: 'tx@example.com' } }),
      h.prisma.user.count({ where: { email: { in: ['tx@example.com', 'nobody@example.com'] } } }),
    ]);
    expect(created.notes).toBe('batch note');
    expect(found.map((u) => u.email)).toEqual(['tx@example.com']);
    expect(count).toBe(1);
    const [row] = await h.db.query<{ notes: string }>('SELECT notes FROM users WHERE id = $1', [created.id]);
    expect(isEnvelope(row.notes)).toBe(true);
    expectNoPlaintextInLog(h.queries, ['batch@example.com', 'batch note', 'tx@example.com']);
  });

  it('interactive transactions encrypt and decrypt, and roll back', async () => {
    const inside = await h.prisma.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: {
          emailIdx: computedBlindIndex,
          tenantId: 'acme',
          name: 'Itx',
          email: 'itx@example.com',
          ssn: '000-11-2222',
        },
      });
      const again = await tx.user.findUniqueOrThrow({ where: { emailIdx: 'itx@example.com' } });
      const updated = await tx.user.update({ where: { id: user.id }, data: { notes: 'itx note' } });
      return { user, again, updated };
    });
    expect(inside.again.ssn).toBe('000-11-2222');
    expect(inside.updated.notes).toBe('itx note');
    await expect(
      h.prisma.$transaction(async (tx) => {
        await tx.user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'acme', name: 'Gone', email: 'gone@example.com' },
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await h.prisma.user.findFirst({ where: { email: 'gone@example.com' } })).toBeNull();
    expectNoPlaintextInLog(h.queries, ['itx@example.com', 'itx note', '000-11-2222', 'gone@example.com']);
  });

  it('enters no async context outside interactive transactions (on Node 20 one hooks every promise)', async () => {
    const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
    try {
      const { prisma } = h.fresh();
      // The extension's own queries: key lookups (cold caches), the read of an unseen row's
      // scope before an update, the candidates of a truncated-index lookup. (An updateMany that
      // re-seals row by row opens a transaction of its own, and so enters one.)
      const user = await prisma.user.findFirstOrThrow({ where: { email: 'tx@example.com' } });
      const { prisma: other } = h.fresh();
      await other.user.update({ where: { id: user.id }, data: { notes: 'no context' } });
      await other.user.findFirst({ where: { ssn: '000-11-2222' } });
      // What each context entered held (the calls themselves hold clients, too large to print).
      const stores = () => run.mock.calls.map(([store]) => Object.keys(store as object).join(','));
      expect(stores()).toEqual([]);
      // The spy sees the context an interactive transaction enters.
      await prisma.$transaction(async (tx) => tx.user.findFirst({ where: { email: 'tx@example.com' } }));
      expect(stores()).toEqual(['scope']);
    } finally {
      run.mockRestore();
    }
  });

  it('resolves keys through the transaction when the cache is cold (no deadlock on a single connection)', async () => {
    const { prisma } = h.fresh();
    const result = await prisma.$transaction(
      async (tx) => {
        const user = await tx.user.findUniqueOrThrow({ where: { emailIdx: 'tx@example.com' } });
        return tx.user.update({ where: { id: user.id }, data: { notes: 'cold' } });
      },
      { timeout: 15_000 },
    );
    expect(result.notes).toBe('cold');
  });

  it('resolves keys through the transaction with the key store given explicitly over the base client, as by default', async () => {
    const { base } = h.fresh();
    // docs/key-store.md: "keyStore: new PrismaKeyStore(base), // the default when keyStore is omitted"
    const prisma = base.$extends(
      fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring, keyStore: new PrismaKeyStore(base) }),
    );
    const found = await prisma.$transaction(async (tx) => tx.user.findFirst({ where: { email: 'tx@example.com' } }), {
      timeout: 8_000,
    });
    expect(found?.email).toBe('tx@example.com');
  });

  it('creates a new scope key outside the transaction, or asks for prepare() on a single connection', async () => {
    // PGlite and SQLite (one writer) give a transaction the one connection there is.
    const singleConnection = h.db.backend === 'pglite' || h.db.backend === 'sqlite';
    const { prisma } = h.fresh();
    const attempt = prisma.$transaction(
      (tx) =>
        tx.user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'newcomer', name: 'New', email: 'new@example.com' },
        }),
      { timeout: 15_000 },
    );
    if (singleConnection) {
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await prisma.$hushfield.prepare(['newcomer']);
      const created = await prisma.$transaction((tx) =>
        tx.user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'newcomer', name: 'New', email: 'new@example.com' },
        }),
      );
      expect(created.email).toBe('new@example.com');
    } else {
      expect((await attempt).email).toBe('new@example.com');
    }
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.user.create({
          data: { emailIdx: computedBlindIndex, tenantId: 'late', name: 'Late', email: 'late@example.com' },
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow(singleConnection ? ConfigError : Error);
    const keys = await h.db.query<{ scope: string }>(`SELECT scope FROM hushfield_keys WHERE scope = 'newcomer'`);
    expect(keys).toHaveLength(1);
    // a key created for a transaction that rolled back is committed on its own, never lost
    const late = await h.db.query<{ scope: string }>(`SELECT scope FROM hushfield_keys WHERE scope = 'late'`);
    expect(late).toHaveLength(singleConnection ? 0 : 1);
    const user = await h.fresh().prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'late', name: 'Late', email: 'late@example.com' },
    });
    expect((await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: user.id } })).email).toBe('late@example.com');
  });

  it('creates a row whose scope is its own id generated on the client inside an interactive transaction, on every driver', async () => {
    const { prisma } = h.fresh();
    const created = await prisma.$transaction(
      (tx) =>
        tx.organization.create({
          data: {
            slug: 'own-scope-tx',
            legalName: 'Own Scope Ltd',
            members: { create: { email: 'own@example.com', emailIdx: computedBlindIndex } },
          },
          include: { members: true },
        }),
      { timeout: 15_000 },
    );
    expect(created.members.map((m) => m.email)).toEqual(['own@example.com']);
    const [row] = await h.db.query<{ legal_name: string }>('SELECT legal_name FROM organizations WHERE id = $1', [
      created.id,
    ]);
    expect(isEnvelope(row.legal_name)).toBe(true);
    const keys = await h.db.query<{ scope: string }>(`SELECT scope FROM hushfield_keys WHERE scope = $1`, [created.id]);
    expect(keys).toHaveLength(1);
    const read = await h.fresh().prisma.organization.findUniqueOrThrow({
      where: { id: created.id },
      include: { members: true },
    });
    expect(read).toMatchObject({ legalName: 'Own Scope Ltd', members: [{ email: 'own@example.com' }] });
    // Rolled back: the row and its scope's key are gone together.
    let lost = '';
    await expect(
      prisma.$transaction(async (tx) => {
        lost = (await tx.organization.create({ data: { slug: 'own-scope-lost', legalName: 'Lost Ltd' } })).id;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await h.db.query(`SELECT scope FROM hushfield_keys WHERE scope = $1`, [lost])).toHaveLength(
      h.db.backend === 'pglite' || h.db.backend === 'sqlite' ? 0 : 1,
    );
    expect(await h.prisma.organization.findUnique({ where: { id: lost } })).toBeNull();
    // The same client creates a row with that id again: sealed under a key the store holds.
    await prisma.organization.create({ data: { id: lost, slug: 'own-scope-lost', legalName: 'Lost Ltd' } });
    expect((await h.fresh().prisma.organization.findUniqueOrThrow({ where: { id: lost } })).legalName).toBe('Lost Ltd');
    expectNoPlaintextInLog(h.queries, ['Own Scope Ltd', 'own@example.com', 'Lost Ltd']);
  });

  it('an updateMany outside any transaction writes rows whose scope has no key yet (none is made inside its own)', async () => {
    // Organizations without a legal name hold no encrypted value: their scopes have no key yet.
    const created = [
      await h.prisma.organization.create({ data: { slug: 'keyless-1' } }),
      await h.prisma.organization.create({ data: { slug: 'keyless-2' } }),
    ];
    const { prisma } = h.fresh();
    const updated = await prisma.organization.updateMany({
      where: { slug: { startsWith: 'keyless-' } },
      data: { legalName: 'Keyless Ltd' },
    });
    expect(updated.count).toBe(2);
    const read = await h.fresh().prisma.organization.findMany({ where: { id: { in: created.map((org) => org.id) } } });
    expect(read.map((org) => org.legalName)).toEqual(['Keyless Ltd', 'Keyless Ltd']);
  });

  // SQLite has one writer at a time: the other client's update would wait for this transaction to end.
  (testProvider() === 'sqlite' ? it.skip : it)(
    "leaves another client's operation, started inside the callback and not awaited there, out of the transaction",
    async () => {
      const user = await h.prisma.user.create({
        data: { emailIdx: computedBlindIndex, tenantId: 'own', name: 'Own', email: 'own@example.com' },
      });
      const other = h.fresh().prisma;
      let pending!: Promise<unknown>;
      await h.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { name: 'Own in tx' } });
        // Started here, it runs once the transaction has ended: its read of the row must not go
        // to this transaction's client (closed by then), but to its own.
        pending = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
          other.user.update({ where: { id: user.id }, data: { notes: 'from the other client' } }),
        );
      });
      await expect(pending).resolves.toMatchObject({ name: 'Own in tx', notes: 'from the other client' });
      expect(await h.fresh().prisma.user.findUnique({ where: { id: user.id } })).toMatchObject({
        name: 'Own in tx',
        notes: 'from the other client',
      });
    },
  );

  it("an updateMany re-sealing row by row outlasts Prisma's default 5 s transaction timeout", async () => {
    const { base } = h.fresh();
    // Each row's UPDATE takes 2 s: three rows take longer than Prisma's default timeout.
    const slow = base
      .$extends({
        query: {
          ticket: {
            updateMany: async ({ args, query }) => {
              await new Promise((resolve) => setTimeout(resolve, 2_000));
              return query(args);
            },
          },
        },
      })
      .$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }));
    for (const subject of ['slow 1', 'slow 2', 'slow 3'])
      await slow.ticket.create({ data: { tenantId: 'slow', subject } });
    const updated = await slow.ticket.updateMany({ where: { tenantId: 'slow' }, data: { detail: 'patient' } });
    expect(updated.count).toBe(3);
    const read = await h.fresh().prisma.ticket.findMany({ where: { tenantId: 'slow' } });
    expect(read.map((ticket) => ticket.detail)).toEqual(['patient', 'patient', 'patient']);
  }, 30_000);

  (testProvider() === 'sqlite' ? it : it.skip)(
    'refuses a shred or rotation inside an interactive transaction on one connection, saying to run it outside',
    async () => {
      const { prisma } = h.fresh();
      await prisma.$hushfield.prepare(['kept']);
      for (const operation of [
        () => prisma.$hushfield.crypto.keys.destroyScope('kept'),
        () => prisma.$hushfield.crypto.keys.rotateScope('kept'),
      ]) {
        const error = await prisma.$transaction(() => operation()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toContain('prepare');
        expect((error as Error).message).toContain('outside the transaction');
      }
    },
  );

  it('refuses to be applied to a client already extended with hushfield (values would be sealed twice)', () => {
    const { prisma } = h.fresh();
    expect(() => prisma.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }))).toThrow(
      ConfigError,
    );
  });

  it('leaves an operation of the same client, not sent through the transaction client, out of the transaction', async () => {
    const user = await h.prisma.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'outer', name: 'Outer', email: 'outer@example.com' },
    });
    // Cold caches: the later update must look up its key and read the row's scope.
    const { prisma } = h.fresh();
    let pending!: Promise<unknown>;
    await prisma.$transaction(async (tx) => {
      await tx.user.findUniqueOrThrow({ where: { id: user.id }, select: { id: true } });
      // `prisma`, not `tx`: Prisma runs it on its own connection, once the transaction has ended.
      pending = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
        prisma.user.update({ where: { id: user.id }, data: { notes: 'after the transaction' } }),
      );
    });
    await expect(pending).resolves.toMatchObject({ notes: 'after the transaction' });
    expect((await h.fresh().prisma.user.findUniqueOrThrow({ where: { id: user.id } })).notes).toBe(
      'after the transaction',
    );
    // The same with a client sharing the crypto (its key store joins this client's transactions).
    const { base } = h.fresh();
    const sharing = base.$extends(fieldEncryption({ schema: hushfieldSchema, crypto: prisma.$hushfield.crypto }));
    prisma.$hushfield.crypto.clearCaches();
    await prisma.$transaction(async (tx) => {
      await tx.user.findUniqueOrThrow({ where: { id: user.id }, select: { id: true } });
      pending = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
        sharing.user.update({ where: { id: user.id }, data: { notes: 'from the sharing client' } }),
      );
    });
    await expect(pending).resolves.toMatchObject({ notes: 'from the sharing client' });
  });

  it('reads keys inside the transaction of a client that shares its crypto, over another base (no wait on one connection)', async () => {
    const { base, prisma: first } = h.fresh();
    await first.user.create({
      data: { emailIdx: computedBlindIndex, tenantId: 'shared', name: 'S', email: 'shared@example.com' },
    });
    // A second client, hushfield applied over another extension, sharing the first one's crypto.
    const second = base
      .$extends({ name: 'other', query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } })
      .$extends(fieldEncryption({ schema: hushfieldSchema, crypto: first.$hushfield.crypto }));
    first.$hushfield.crypto.clearCaches();
    const read = await second.$transaction(
      async (tx) => tx.user.findFirst({ where: { email: 'shared@example.com' } }),
      { timeout: 8000 },
    );
    expect(read).toMatchObject({ email: 'shared@example.com' });
  });
});
