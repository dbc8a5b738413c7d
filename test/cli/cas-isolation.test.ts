/**
 * The migrator's compare-and-swap writes (`cas-writer.ts`, `cas-writer-mysql.ts`) with the shred
 * guard, on a database whose sessions do not default to read committed: a PostgreSQL database
 * set to `repeatable read` or `serializable` (`ALTER DATABASE ... SET
 * default_transaction_isolation`, this test's own database only), MySQL/MariaDB's default
 * (repeatable read) and `SERIALIZABLE` sessions, SQLite. An application write to a row of the
 * batch commits while the batch's transaction is open (after its snapshot was taken by the key
 * rows' lock, or while its `UPDATE` waits for the row): the row is a lost race, keeps the
 * application's value, and the other rows are written by the batch's one transaction.
 */
import { PrismaKeyStore } from '@hushfield/prisma';
import { PrismaCasWriter, createCasWriter, isWriteConflict } from '../../packages/cli/src/cas-writer';
import type { RowWrite } from '../../packages/cli/src/cas-writer';
import { createShredGuard } from '../../packages/cli/src/shred-guard';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { adapterAt, setDefaultIsolation, waitingForLock } from '../support/isolation';
import { testProvider } from '../support/provider';
import { schema } from './support';

const provider = testProvider();
const customer = schema.models.Customer;

/** The isolation levels the writers run under on this provider (null: the sessions' default). */
const LEVELS: readonly (string | null)[] =
  provider === 'postgresql'
    ? ['repeatable read', 'serializable']
    : provider === 'mysql'
      ? [null, 'SERIALIZABLE']
      : [null];

interface Counted {
  readonly client: BasePrismaClient;
  /** Transactions the writer opened. */
  transactions: number;
  /** What the transactions that failed threw. */
  readonly failures: unknown[];
}

/**
 * `client` counting the transactions opened through it; `before(sql)` runs (awaited) before
 * each statement a transaction sends that writes `customers`.
 */
function counted(client: PrismaClient, before?: () => Promise<void>): Counted {
  const state = { transactions: 0, failures: [] } as unknown as Counted;
  const wrapTx = (tx: object): object =>
    new Proxy(tx, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if ((property === '$queryRawUnsafe' || property === '$executeRawUnsafe') && typeof value === 'function') {
          return async (sql: string, ...values: unknown[]) => {
            if (before && /^UPDATE\s+[`"]customers[`"]/.test(sql.trim())) await before();
            return (value as (...args: unknown[]) => Promise<unknown>).call(target, sql, ...values);
          };
        }
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  (state as { client: BasePrismaClient }).client = new Proxy(client, {
    get(target, property, receiver) {
      if (property === '$transaction') {
        return (work: unknown, options?: object) => {
          state.transactions++;
          const done =
            typeof work !== 'function'
              ? target.$transaction(work as never, options as never)
              : target.$transaction((tx) => (work as (tx: object) => Promise<unknown>)(wrapTx(tx)), options as never);
          return (done as Promise<unknown>).catch((error: unknown) => {
            state.failures.push(error);
            throw error;
          });
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as BasePrismaClient;
  return state;
}

for (const level of LEVELS) {
  describe(`CAS writes with the shred guard on ${provider} at ${level ?? 'the default isolation level'}`, () => {
    let db: TestDatabase;
    let prisma: PrismaClient;
    let keyRef: { keyId: string; version: number };
    const batch = (): RowWrite[] =>
      [1, 2, 3].map((id) => ({
        key: [id],
        expected: { email: `old-${id}` },
        data: { email: `new-${id}` },
        keys: [keyRef],
      }));

    beforeAll(async () => {
      db = await createTestDatabase();
      await setDefaultIsolation(db, level);
      prisma = new PrismaClient({ adapter: adapterAt(db, level) });
      const stored = await new PrismaKeyStore(prisma).insert({
        keyId: 'k-iso',
        kind: 'scope',
        scope: 'iso',
        version: 1,
        wrappedKey: 'wrapped',
        keyringId: 'local',
      });
      keyRef = { keyId: stored.keyId, version: stored.version };
    });

    afterAll(async () => {
      await prisma?.$disconnect();
      await db?.close();
    });

    beforeEach(async () => {
      await db.query('DELETE FROM customers');
      await db.query(`INSERT INTO customers (id, email) VALUES (1, 'old-1'), (2, 'old-2'), (3, 'old-3')`);
    });

    const emails = async () =>
      (await db.query<{ email: string }>('SELECT email FROM customers ORDER BY id')).map((row) => row.email);

    (provider === 'sqlite' ? test.skip : test)('the sessions of the writer run at the level under test', async () => {
      const sql = provider === 'postgresql' ? 'SHOW transaction_isolation' : 'SELECT @@SESSION.tx_isolation AS level';
      const [row] = await prisma.$queryRawUnsafe<Record<string, string>[]>(sql);
      const shown = String(Object.values(row)[0]).toLowerCase().replace('-', ' ');
      expect(shown).toBe((level ?? 'repeatable read').toLowerCase().replace('-', ' '));
    });

    (provider === 'sqlite' ? test.skip : test).each([
      ['fastest', 'with', true],
      ['fastest', 'without', false],
      ['portable', 'with', true],
      ['portable', 'without', false],
    ])(
      "an application update committed while the %s writer's batch (%s the guard) waits for its row: that row lost, the others in the batch's one transaction",
      async (kind, _with, guarded) => {
        const writer = counted(prisma);
        const guard = guarded ? createShredGuard(prisma as never, schema, false) : undefined;
        const cas =
          kind === 'fastest'
            ? await createCasWriter(writer.client, customer, guard)
            : new PrismaCasWriter(writer.client, customer, guard);
        expect(cas.guardsShreds ?? false).toBe(guarded);
        const app = new PrismaClient({ adapter: db.adapter() });
        let written: ReturnType<typeof cas.write> | undefined;
        try {
          await app.$transaction(async (tx) => {
            await tx.$executeRawUnsafe(`UPDATE customers SET email = 'by-app' WHERE id = 2`);
            written = cas.write(batch());
            written.catch(() => undefined);
            await waitingForLock(db, 'customers');
          });
        } finally {
          await app.$disconnect();
        }
        const outcomes = await written!;
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'lost', 'applied']);
        expect(await emails()).toEqual(['new-1', 'by-app', 'new-3']);
        expect(writer.transactions).toBe(1);
      },
    );

    // SQLite: the batch's transaction holds the database's one write lock from its first statement.
    (provider === 'sqlite' ? test.skip : test)(
      'application updates committed after the batch took its snapshot: those rows lost, never an error',
      async () => {
        let updates = 0;
        // Before each UPDATE of customers, once the key rows are locked (the snapshot taken), the
        // application changes a row of the batch and commits: row 1 before the batch's first
        // UPDATE, and row 2 before the third (that of row 2's own transaction, were the batch
        // redone row by row).
        const raced: number[] = [];
        const writer = counted(prisma, async () => {
          updates++;
          const id = updates === 1 ? 1 : updates === 3 ? 2 : undefined;
          if (id === undefined) return;
          raced.push(id);
          await db.query(`UPDATE customers SET email = 'by-app' WHERE id = $1`, [id]);
        });
        const cas = await createCasWriter(writer.client, customer, createShredGuard(prisma as never, schema, false));
        const outcomes = await cas.write(batch());
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['lost', 'applied', 'applied']);
        expect(await emails()).toEqual(['by-app', 'new-2', 'new-3']);
        expect(raced).toEqual([1]);
        expect(writer.transactions).toBe(1);
      },
    );

    (provider === 'sqlite' ? test.skip : test)(
      'a shred committed while the batch waits for the key rows: every row shredded, nothing written, one transaction',
      async () => {
        const shredded = await new PrismaKeyStore(prisma).insert({
          keyId: 'k-shred',
          kind: 'scope',
          scope: 'shred-me',
          version: 1,
          wrappedKey: 'wrapped',
          keyringId: 'local',
        });
        const writes = batch().map((write) => ({ ...write, keys: [{ keyId: shredded.keyId, version: 1 }] }));
        const writer = counted(prisma);
        const cas = await createCasWriter(writer.client, customer, createShredGuard(prisma as never, schema, false));
        const shredder = new PrismaClient({ adapter: db.adapter() });
        let written: ReturnType<typeof cas.write> | undefined;
        try {
          await shredder.$transaction(async (tx) => {
            // What PrismaKeyStore.destroy sends, held open until the batch waits for it.
            await tx.hushfieldKey.updateMany({
              where: { kind: 'scope', scope: 'shred-me' },
              data: { state: 'destroyed', wrappedKey: null },
            });
            written = cas.write(writes);
            written.catch(() => undefined);
            await waitingForLock(db, 'hushfield_keys');
          });
        } finally {
          await shredder.$disconnect();
        }
        const outcomes = await written!;
        expect(outcomes).toEqual(writes.map(() => ({ status: 'shredded', scope: 'shred-me' })));
        expect(await emails()).toEqual(['old-1', 'old-2', 'old-3']);
        expect(writer.transactions).toBe(1);
      },
    );

    // MySQL/MariaDB writes a batch with a Json field row by row, each row read FOR UPDATE first.
    (provider === 'sqlite' ? test.skip : test)(
      'a batch with a Json field: an application update committed while the batch waits for its row makes it a lost race',
      async () => {
        await db.query('DELETE FROM documents');
        for (const id of ['d1', 'd2', 'd3'])
          await db.query(`INSERT INTO documents (id, tenant_id, title, body) VALUES ($1, 't', $2, $3)`, [
            id,
            `title-${id}`,
            JSON.stringify({ v: `old-${id}` }),
          ]);
        const writer = counted(prisma);
        const cas = await createCasWriter(
          writer.client,
          schema.models.Document,
          createShredGuard(prisma as never, schema, false),
        );
        const writes: RowWrite[] = ['d1', 'd2', 'd3'].map((id) => ({
          key: [id],
          expected: { title: `title-${id}`, body: { v: `old-${id}` } },
          data: { body: { v: `new-${id}` } },
          keys: [keyRef],
        }));
        const app = new PrismaClient({ adapter: db.adapter() });
        let written: ReturnType<typeof cas.write> | undefined;
        try {
          await app.$transaction(async (tx) => {
            await tx.document.update({ where: { id: 'd2' }, data: { body: { v: 'by-app' } } });
            written = cas.write(writes);
            written.catch(() => undefined);
            await waitingForLock(db, 'documents');
          });
        } finally {
          await app.$disconnect();
        }
        const outcomes = await written!;
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'lost', 'applied']);
        const bodies = await prisma.document.findMany({ orderBy: { id: 'asc' }, select: { body: true } });
        expect(bodies.map((row) => row.body)).toEqual([{ v: 'new-d1' }, { v: 'by-app' }, { v: 'new-d3' }]);
        expect(writer.failures).toEqual([]);
      },
    );

    // A deadlock made on purpose: the application holds row 3 and, once the batch holds row 1
    // and waits for row 3, asks for row 1. The application's session detects deadlocks late
    // (its own deadlock_timeout), so the batch's is the transaction PostgreSQL rolls back.
    (provider === 'postgresql' ? test : test.skip)(
      'a batch rolled back by a deadlock with the application is run again, not redone row by row',
      async () => {
        const writer = counted(prisma);
        const cas = await createCasWriter(writer.client, customer, createShredGuard(prisma as never, schema, false));
        const app = new PrismaClient({ adapter: db.adapter() });
        let written: ReturnType<typeof cas.write> | undefined;
        try {
          await app.$transaction(
            async (tx) => {
              await tx.$executeRawUnsafe(`SET LOCAL deadlock_timeout = '20s'`);
              await tx.$executeRawUnsafe(`UPDATE customers SET email = 'by-app' WHERE id = 3`);
              written = cas.write(batch());
              written.catch(() => undefined);
              await waitingForLock(db, 'customers');
              await tx.$executeRawUnsafe(`UPDATE customers SET email = 'by-app' WHERE id = 1`);
            },
            { timeout: 30_000 },
          );
        } finally {
          await app.$disconnect();
        }
        const outcomes = await written!;
        // One run lost to the deadlock (a raw statement's P2010, the driver's 40P01 under it).
        expect(writer.failures).toHaveLength(1);
        expect(writer.failures.map(isWriteConflict)).toEqual([true]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['lost', 'applied', 'lost']);
        expect(await emails()).toEqual(['by-app', 'new-2', 'by-app']);
        expect(writer.transactions).toBe(2);
      },
      30_000,
    );
  });
}
