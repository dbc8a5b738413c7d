/**
 * The run coordinator (`RunStore`) on a database whose sessions do not default to PostgreSQL's
 * read committed: a PostgreSQL database set to `repeatable read` or `serializable` (`ALTER
 * DATABASE ... SET default_transaction_isolation`), MySQL/MariaDB's own default (repeatable
 * read) and serializable sessions, SQLite. Each race is driven through the store's calls in a
 * fixed order: a call that waits for the run's row lock is started while another holds it (a
 * planner inside its `plan`), and the holder goes on only once the database shows the call
 * waiting for that lock. Under a snapshot taken before the wait, the waiter would decide on
 * rows as they were before the holder committed.
 */
import { LeaseLostError, RunStore } from '../../packages/cli/src/run-store';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import type { PlannedRange } from '../../packages/cli/src/run-records';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { adapterAt, setDefaultIsolation, waitingForLock } from '../support/isolation';
import { testProvider } from '../support/provider';

const DETAIL = { startedAt: '2026-12-07T00:00:00.000Z', pending: [] };

function plan(model: string, count: number): PlannedRange[] {
  return Array.from({ length: count }, (_, seq) => ({
    model,
    seq,
    lo: seq === 0 ? null : String(seq * 100),
    hi: seq === count - 1 ? null : String((seq + 1) * 100),
    rows: 100,
  }));
}

const provider = testProvider();
const server = provider !== 'sqlite';

/** The isolation levels the store is run under on this provider (null: the sessions' default). */
const LEVELS: readonly (string | null)[] =
  provider === 'postgresql'
    ? ['repeatable read', 'serializable']
    : provider === 'mysql'
      ? [null, 'SERIALIZABLE']
      : [null];

for (const level of LEVELS) {
  describe(`RunStore on ${provider} at ${level ?? 'the default isolation level'}`, () => {
    let db: TestDatabase;
    const clients: PrismaClient[] = [];
    const store = (): RunStore => {
      if (provider === 'sqlite' && clients.length > 0) return new RunStore(clients[0] as unknown as BasePrismaClient);
      const client = new PrismaClient({ adapter: adapterAt(db, level) });
      clients.push(client);
      return new RunStore(client as unknown as BasePrismaClient);
    };

    beforeAll(async () => {
      db = await createTestDatabase();
      await setDefaultIsolation(db, level);
    });

    afterAll(async () => {
      for (const client of clients) await client.$disconnect();
      await db?.close();
    });

    (server ? test : test.skip)('the sessions of the store run at the level under test', async () => {
      const client = (store() as unknown as { raw: BasePrismaClient }).raw as unknown as {
        $queryRawUnsafe<T>(sql: string): Promise<T>;
      };
      const sql = provider === 'postgresql' ? 'SHOW transaction_isolation' : 'SELECT @@SESSION.tx_isolation AS level';
      const [row] = await client.$queryRawUnsafe<Record<string, string>[]>(sql);
      const shown = String(Object.values(row)[0]).toLowerCase().replace('-', ' ');
      expect(shown).toBe((level ?? 'repeatable read').toLowerCase().replace('-', ' '));
    });

    test("the last worker's done, waiting while a planner adds a model, sees its ranges and leaves the run open", async () => {
      const worker = store();
      const planner = store();
      await worker.open('strand', 'reencrypt', {}, ['Customer'], async () => plan('Customer', 1));
      const only = await worker.claim('strand', 'w1', 30);
      await worker.save(only!, 'w1', null, 100, DETAIL, 'done');
      expect((await worker.poll('strand', 'w1'))?.open).toBe(0);
      let done: Promise<boolean> | undefined;
      await planner.open('strand', 'reencrypt', {}, ['Customer', 'Post'], async () => {
        // The planner holds the run's row lock: the worker's done waits for it ...
        done = worker.setState('strand', 'done');
        done.catch(() => undefined);
        await waitingForLock(db, 'hushfield_runs');
        return plan('Post', 2);
      });
      // ... and, once the planner committed, finds the Post ranges open.
      expect(await done).toBe(false);
      expect((await planner.get('strand'))?.state).toBe('running');
      expect(await worker.claim('strand', 'w1', 30)).toMatchObject({ model: 'Post', seq: 0 });
    });

    test('a process joining while another plans waits, finds the ranges and plans nothing', async () => {
      const first = store();
      const second = store();
      let planned = 0;
      let joined: Promise<unknown> | undefined;
      const opened = await first.open('join', 'reencrypt', {}, ['Customer'], async () => {
        planned++;
        joined = second.open('join', 'reencrypt', {}, ['Customer'], async () => {
          planned++;
          return plan('Customer', 3);
        });
        joined.catch(() => undefined);
        await waitingForLock(db, 'hushfield_runs');
        return plan('Customer', 3);
      });
      expect(opened.created).toBe(true);
      await expect(joined).resolves.toMatchObject({ created: false, run: { state: 'running' } });
      expect(planned).toBe(1);
      expect((await second.ranges('join')).map((range) => range.seq)).toEqual([0, 1, 2]);
    });

    (server ? test : test.skip)(
      'the concurrency cap counts a lease taken while the claim waited for the run',
      async () => {
        const a = store();
        const b = store();
        const planner = store();
        await a.open('cap', 'reencrypt', { maxConcurrency: 1 }, ['Customer'], async () => plan('Customer', 3));
        let capped: Promise<unknown> | undefined;
        await planner.open('cap', 'reencrypt', {}, ['Customer', 'Post'], async () => {
          // A capped claim takes the run's row lock first: it waits for the planner ...
          capped = b.claim('cap', 'b:w1', 30, 1);
          capped.catch(() => undefined);
          await waitingForLock(db, 'hushfield_runs');
          // ... while a claim without the cap (a process started before the run had one) takes a range.
          expect(await a.claim('cap', 'a:w1', 30)).toMatchObject({ model: 'Customer', seq: 0 });
          return plan('Post', 1);
        });
        // The cap is one live lease, and there is one now.
        await expect(capped).resolves.toBeNull();
        expect((await a.ranges('cap')).filter((range) => range.state === 'claimed')).toHaveLength(1);
      },
    );

    (server ? test : test.skip)(
      "a worker's save waiting while --restart plans the run again loses the lease (LeaseLostError), nothing else",
      async () => {
        const a = store();
        const restarter = store();
        await a.open('fence', 'reencrypt', {}, ['Customer'], async () => plan('Customer', 1));
        const held = await a.claim('fence', 'a:w1', 30);
        await a.save(held!, 'a:w1', '5', 5, DETAIL, 'claimed');
        let saved: Promise<void> | undefined;
        const options = { restart: true, overLiveLeases: true };
        await restarter.open(
          'fence',
          'reencrypt',
          {},
          ['Customer'],
          async () => {
            // The restart deleted the range (its row is locked until it commits): the save waits ...
            saved = a.save(held!, 'a:w1', '50', 50, DETAIL, 'claimed');
            saved.catch(() => undefined);
            await waitingForLock(db, 'hushfield_ranges');
            return plan('Customer', 1);
          },
          options,
        );
        // ... and then finds the range planned again, not its own.
        await expect(saved).rejects.toBeInstanceOf(LeaseLostError);
        expect((await a.ranges('fence'))[0]).toMatchObject({ state: 'pending', owner: null, processed: 0 });
      },
    );
  });
}
