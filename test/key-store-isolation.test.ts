/**
 * `PrismaKeyStore.destroy` (what `keys shred` calls) waiting behind a rotation of the same scope
 * (`keys rotate` in another process), on a database whose sessions may not default to read
 * committed: a PostgreSQL database at read committed, `repeatable read` and `serializable`
 * (`ALTER DATABASE ... SET default_transaction_isolation`, this test's own database only),
 * MySQL/MariaDB's default (repeatable read) and `SERIALIZABLE` sessions. The rotation is
 * held inside its transaction (the old version retired, the new one not yet inserted) until the
 * shred waits for it; the shred must then destroy both versions, the one the rotation added too.
 * The other way round, a rotation waiting behind a shred fails with `KeyConflictError` and
 * stores nothing.
 */
import { randomBytes } from 'node:crypto';
import { KeyConflictError } from '@hushfield/core';
import { PrismaKeyStore } from '@hushfield/prisma';
import { PrismaClient } from '../prisma/generated/client/client';
import { createTestDatabase } from './support/database';
import type { TestDatabase } from './support/database';
import { adapterAt, setDefaultIsolation, waitingForLock } from './support/isolation';
import { testProvider } from './support/provider';
import { newScopeKey } from './support/stored-keys';

const provider = testProvider();

/** The isolation levels the shred runs under on this provider (null: the sessions' default). */
const LEVELS: readonly (string | null)[] =
  provider === 'postgresql'
    ? [null, 'repeatable read', 'serializable']
    : provider === 'mysql'
      ? [null, 'SERIALIZABLE']
      : [null];

/** Resolves once a session waits for a lock on the key table (on MariaDB, in an update of it). */
const keysLocked = (db: TestDatabase) => waitingForLock(db, 'hushfield_keys', '%UPDATE%hushfield_keys%');

// SQLite: better-sqlite3 waits for the database's write lock synchronously, which would hold
// this process's rotation too; its one writer is raced by processes in key-store-processes.test.ts.
const describeHere = provider === 'sqlite' || provider === 'libsql' ? describe.skip : describe;

for (const level of LEVELS) {
  describeHere(`PrismaKeyStore shred and rotation on ${provider} at ${level ?? 'the default isolation level'}`, () => {
    let db: TestDatabase;
    let prisma: PrismaClient;

    beforeAll(async () => {
      db = await createTestDatabase();
      await setDefaultIsolation(db, level);
      prisma = new PrismaClient({ adapter: adapterAt(db, level) });
    });

    afterAll(async () => {
      await prisma?.$disconnect();
      await db?.close();
    });

    test('a shred waiting behind a rotation of its scope destroys every version, the rotated one too', async () => {
      const scope = `shred-${randomBytes(3).toString('hex')}`;
      const shredder = new PrismaKeyStore(prisma);
      await shredder.insert(newScopeKey(scope, 1));
      let shred: Promise<number> | undefined;
      // The rotation, inside its transaction with version 1 retired, starts the shred and goes
      // on (inserts version 2, commits) only once the shred waits for it.
      const rotatingBase = new PrismaClient({ adapter: db.adapter() });
      const rotating = rotatingBase.$extends({
        query: {
          hushfieldKey: {
            async create({ args, query }) {
              if (shred === undefined) {
                shred = shredder.destroy('scope', scope);
                shred.catch(() => undefined);
                await keysLocked(db);
              }
              return query(args);
            },
          },
        },
      });
      try {
        await new PrismaKeyStore(rotating).rotate(newScopeKey(scope, 2));
      } finally {
        await rotatingBase.$disconnect();
      }
      expect(shred).toBeDefined();
      await expect(shred).resolves.toBe(2);
      const rows = (await shredder.list({ kind: 'scope', scope })).map((key) => ({
        version: key.version,
        state: key.state,
        wrappedKey: key.wrappedKey,
      }));
      expect(rows).toEqual([
        { version: 1, state: 'destroyed', wrappedKey: null },
        { version: 2, state: 'destroyed', wrappedKey: null },
      ]);
    });

    test('a rotation waiting behind a shred of its scope fails with KeyConflictError and stores nothing', async () => {
      const scope = `rotate-${randomBytes(3).toString('hex')}`;
      const store = new PrismaKeyStore(prisma);
      await store.insert(newScopeKey(scope, 1));
      const shredder = new PrismaClient({ adapter: db.adapter() });
      let rotation: Promise<unknown> | undefined;
      try {
        await shredder.$transaction(async (tx) => {
          // What destroy sends, held open until the rotation waits for it.
          await tx.hushfieldKey.updateMany({
            where: { kind: 'scope', scope },
            data: { state: 'destroyed', wrappedKey: null },
          });
          rotation = store.rotate(newScopeKey(scope, 2));
          rotation.catch(() => undefined);
          await keysLocked(db);
        });
      } finally {
        await shredder.$disconnect();
      }
      await expect(rotation).rejects.toBeInstanceOf(KeyConflictError);
      const rows = (await store.list({ kind: 'scope', scope })).map((key) => [key.version, key.state, key.wrappedKey]);
      expect(rows).toEqual([[1, 'destroyed', null]]);
    });

    // The publish (`keys rotate --scope --wait`) inserts the pending version before the shred's
    // last pass, and checks that version 1 is still active after it, before the shred commits.
    (provider === 'postgresql' ? test : test.skip)(
      'a publish racing a shred of its scope leaves no pending version holding a key',
      async () => {
        const scope = `publish-${randomBytes(3).toString('hex')}`;
        const store = new PrismaKeyStore(prisma);
        await store.insert(newScopeKey(scope, 1));
        let lastPass!: () => void;
        const lastPassSent = new Promise<void>((resolve) => (lastPass = resolve));
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        // The shred, held open after a pass that found nothing left, until the publish's next
        // query has answered or waits for a lock.
        const shredderBase = new PrismaClient({ adapter: db.adapter() });
        const shredder = shredderBase.$extends({
          query: {
            hushfieldKey: {
              async updateMany({ args, query }) {
                const result = await query(args);
                if (result.count === 0) {
                  lastPass();
                  await released;
                }
                return result;
              },
            },
          },
        });
        let shred: Promise<number> | undefined;
        const publishingBase = new PrismaClient({ adapter: db.adapter() });
        const afterCreate = ({ args, query }: { args: unknown; query: (args: unknown) => Promise<unknown> }) => {
          const answer = query(args);
          if (shred !== undefined) {
            const waited = keysLocked(db).catch(() => undefined);
            void Promise.race([
              answer.then(
                () => undefined,
                () => undefined,
              ),
              waited,
            ]).then(release);
          }
          return answer;
        };
        const publishing = publishingBase.$extends({
          query: {
            hushfieldKey: {
              async create({ args, query }) {
                const created = await query(args);
                shred = new PrismaKeyStore(shredder).destroy('scope', scope);
                shred.catch(() => undefined);
                // Its last pass, or (the active version locked first) a wait for this transaction.
                await Promise.race([lastPassSent, keysLocked(db)]);
                return created;
              },
              findFirst: afterCreate as never,
              updateMany: afterCreate as never,
            },
          },
        });
        let published: PromiseSettledResult<unknown>;
        try {
          [published] = await Promise.allSettled([new PrismaKeyStore(publishing).addPending(newScopeKey(scope, 2))]);
          await shred;
        } finally {
          release();
          await publishingBase.$disconnect();
          await shredderBase.$disconnect();
        }
        const rows = (await store.list({ kind: 'scope', scope })).map((key) => [
          key.version,
          key.state,
          key.wrappedKey,
        ]);
        expect(rows.filter(([, state, wrappedKey]) => state !== 'destroyed' || wrappedKey !== null)).toEqual([]);
        if (published.status === 'rejected') expect(published.reason).toBeInstanceOf(KeyConflictError);
      },
      30_000,
    );

    // A deadlock made on purpose: another transaction holds version 2 and, once the shred holds
    // version 1 and waits for version 2, asks for version 1. That session detects deadlocks late
    // (its own deadlock_timeout), so the shred's is the transaction PostgreSQL rolls back.
    (provider === 'postgresql' ? test : test.skip)(
      'a shred rolled back by a deadlock is run again and destroys every version',
      async () => {
        const scope = `deadlock-${randomBytes(3).toString('hex')}`;
        const store = new PrismaKeyStore(prisma);
        await store.insert(newScopeKey(scope, 1));
        await store.rotate(newScopeKey(scope, 2));
        const other = new PrismaClient({ adapter: db.adapter() });
        let shred: Promise<number> | undefined;
        try {
          await other.$transaction(
            async (tx) => {
              await tx.$executeRawUnsafe(`SET LOCAL deadlock_timeout = '20s'`);
              const touch = (version: number) =>
                tx.hushfieldKey.updateMany({ where: { scope, version }, data: { keyringId: 'local:test' } });
              await touch(2);
              shred = store.destroy('scope', scope);
              shred.catch(() => undefined);
              await keysLocked(db);
              await touch(1);
            },
            { timeout: 30_000 },
          );
        } finally {
          await other.$disconnect();
        }
        await expect(shred).resolves.toBe(2);
        const rows = (await store.list({ kind: 'scope', scope })).map((key) => [
          key.version,
          key.state,
          key.wrappedKey,
        ]);
        expect(rows).toEqual([
          [1, 'destroyed', null],
          [2, 'destroyed', null],
        ]);
      },
      30_000,
    );
  });
}
