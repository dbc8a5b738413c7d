/**
 * The run coordinator (`RunStore`) on the provider of the Jest project (PostgreSQL, MySQL/MariaDB,
 * SQLite): planning once, claims that never overlap (two clients on a server, two processes on
 * SQLite, whose single writer serializes them), a lease taken over after it expired (the old
 * owner fenced off), the concurrency cap, release, pause and resume as stored.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LeaseLostError, RunStore } from '../../packages/cli/src/run-store';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import { dialectOf } from '../../packages/cli/src/run-dialects';
import type { PlannedRange } from '../../packages/cli/src/run-records';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { describeOn, testProvider } from '../support/provider';
import { createSandbox, ROOT } from './spawn-cli';

const DETAIL = { startedAt: '2026-12-04T00:00:00.000Z', pending: [] };

function plan(count: number): PlannedRange[] {
  return Array.from({ length: count }, (_, seq) => ({
    model: 'Customer',
    seq,
    lo: seq === 0 ? null : String(seq * 100),
    hi: seq === count - 1 ? null : String((seq + 1) * 100),
    rows: 100,
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** claim-child.ts in a separate process: `ready` once connected, `go()` starts its claims. */
interface ChildClaimer {
  readonly ready: Promise<void>;
  go(): void;
  /** The sequence numbers it claimed. */
  readonly claimed: Promise<number[]>;
}

function claimInChild(db: TestDatabase, run: string, owner: string): ChildClaimer {
  const url = db.url as string;
  const sandbox = createSandbox(url, '');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'claim-child.ts'), db.provider, url, run, owner],
    { cwd: ROOT, env: sandbox.env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const claimed = new Promise<number[]>((resolve, reject) => {
    child.on('close', (code) => {
      sandbox.remove();
      onReady();
      if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)) as number[]);
      else reject(new Error(`claim-child ${owner} exited ${code}: ${err}`));
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), claimed };
}

const provider = testProvider();
// PGlite serves one client in one process: the claimers need a server (or SQLite's file).
const separateClients = provider !== 'postgresql' || Boolean(process.env.TEST_DATABASE_URL);

(separateClients ? describe : describeOn([], 'PGlite serves one client; set TEST_DATABASE_URL'))(
  `RunStore on ${provider}`,
  () => {
    let db: TestDatabase;
    const clients: PrismaClient[] = [];
    // A client each on a server (its own connections, like another process); one shared client on
    // SQLite, whose one connection per process takes turns through the adapter's transaction lock
    // (a second connection in the same thread would block it in SQLite's busy wait).
    const store = (): RunStore => {
      if (provider === 'sqlite' && clients.length > 0) return new RunStore(clients[0] as unknown as BasePrismaClient);
      const client = new PrismaClient({ adapter: db.adapter() });
      clients.push(client);
      return new RunStore(client as unknown as BasePrismaClient);
    };

    beforeAll(async () => {
      db = await createTestDatabase();
    });

    afterAll(async () => {
      for (const client of clients) await client.$disconnect();
      await db?.close();
    });

    test('the dialect is picked from the client, and an unknown provider keeps its message', () => {
      expect(store().dialect.name).toBe(provider);
      expect(() => dialectOf({ _activeProvider: 'sqlserver' } as unknown as BasePrismaClient)).toThrow(
        /need PostgreSQL, MySQL\/MariaDB or SQLite \(this database: sqlserver\)/,
      );
    });

    test('open plans each model once (first caller), keeps settings with the run, a new cap changing only itself', async () => {
      const a = store();
      const b = store();
      let planned = 0;
      const planner = async () => {
        planned++;
        return plan(1200);
      };
      const [first, second] = await Promise.all([
        a.open('plan-once', 'reencrypt', { maxConcurrency: 4 }, ['Customer'], planner),
        b.open('plan-once', 'reencrypt', {}, ['Customer'], planner),
      ]);
      expect(planned).toBe(1);
      expect([first.created, second.created].sort()).toEqual([false, true]);
      const ranges = await a.ranges('plan-once');
      expect(ranges.map((range) => range.seq)).toEqual(plan(1200).map((range) => range.seq));
      expect(ranges[0]).toMatchObject({
        lo: null,
        hi: '100',
        rows: 100,
        state: 'pending',
        owner: null,
        leaseUntil: null,
      });
      const stored = await db.query<{ n: number | bigint }>(
        "SELECT count(*) AS n FROM hushfield_ranges WHERE run_id = 'plan-once'",
      );
      expect(Number(stored[0].n)).toBe(1200);
      expect((await b.get('plan-once'))?.settings).toEqual({ maxConcurrency: 4 });
      // A process given one cap changes that cap for all, and keeps the run's other one.
      await b.open('plan-once', 'reencrypt', { maxRowsPerSecond: 50 }, ['Customer'], planner);
      expect((await a.get('plan-once'))?.settings).toEqual({ maxConcurrency: 4, maxRowsPerSecond: 50 });
      await a.open('plan-once', 'reencrypt', { maxConcurrency: 2 }, ['Customer'], planner);
      expect((await b.get('plan-once'))?.settings).toEqual({ maxConcurrency: 2, maxRowsPerSecond: 50 });
      expect(planned).toBe(1);
    });

    (provider === 'mysql' ? test : test.skip)(
      "on MySQL a second process waits out a planning longer than the server's lock wait timeout",
      async () => {
        // New sessions give up a lock wait after 1 s; the planner below takes 2.5 s.
        const [{ previous }] = await db.query<{ previous: number | bigint }>(
          'SELECT @@GLOBAL.innodb_lock_wait_timeout AS previous',
        );
        await db.query('SET GLOBAL innodb_lock_wait_timeout = 1');
        try {
          const a = store();
          const b = store();
          let planned = 0;
          let planning: () => void = () => undefined;
          const started = new Promise<void>((resolve) => (planning = resolve));
          const slowPlanner = async () => {
            planned++;
            planning();
            await sleep(2_500);
            return plan(10);
          };
          const first = a.open('plan-slow', 'reencrypt', {}, ['Customer'], slowPlanner);
          await started;
          const second = b.open('plan-slow', 'reencrypt', {}, ['Customer'], slowPlanner);
          const [one, two] = await Promise.all([first, second]);
          expect([one.created, two.created]).toEqual([true, false]);
          expect(planned).toBe(1);
          expect((await b.ranges('plan-slow')).map((range) => range.seq)).toEqual(plan(10).map((range) => range.seq));
        } finally {
          await db.query(`SET GLOBAL innodb_lock_wait_timeout = ${Number(previous)}`);
        }
      },
      30_000,
    );

    (provider === 'mysql' ? test : test.skip)(
      "on MySQL a planning that fails leaves the pooled connection's lock wait timeout as it was",
      async () => {
        // One connection, so the read after open() runs on the connection open() planned on.
        const url = new URL(db.url as string);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on MySQL
        const { PrismaMariaDb } = require('@prisma/adapter-mariadb') as typeof import('@prisma/adapter-mariadb');
        const one = new PrismaClient({
          adapter: new PrismaMariaDb({
            host: url.hostname,
            port: Number(url.port || 3306),
            user: decodeURIComponent(url.username),
            password: decodeURIComponent(url.password),
            database: url.pathname.slice(1),
            connectionLimit: 1,
          }),
        });
        clients.push(one);
        const timeout = async () =>
          Number(
            (await one.$queryRawUnsafe<{ t: number | bigint }[]>('SELECT @@SESSION.innodb_lock_wait_timeout AS t'))[0]
              .t,
          );
        const before = await timeout();
        const mine = new RunStore(one as unknown as BasePrismaClient);
        const failing = mine.open('plan-fails', 'reencrypt', {}, ['Customer'], async () => {
          throw new Error('the primary-key walk failed');
        });
        await expect(failing).rejects.toThrow('the primary-key walk failed');
        expect(await timeout()).toBe(before);
        expect(await mine.ranges('plan-fails')).toEqual([]);
      },
    );

    test('two concurrent claimers never get the same range, and together get every range', async () => {
      const setup = store();
      await setup.open('race', 'reencrypt', {}, ['Customer'], async () => plan(40));
      let claims: number[][];
      if (provider !== 'sqlite') {
        const claimer = async (owner: string) => {
          const mine = store();
          const got: number[] = [];
          for (;;) {
            const range = await mine.claim('race', owner, 30);
            if (!range) return got;
            got.push(range.seq);
            await mine.save(range, owner, null, range.rows, DETAIL, 'done');
          }
        };
        claims = await Promise.all([claimer('a'), claimer('b')]);
      } else {
        // SQLite: the busy wait of a second connection blocks its thread, so the claimers are processes.
        const children = [claimInChild(db, 'race', 'a'), claimInChild(db, 'race', 'b')];
        await Promise.all(children.map((child) => child.ready));
        for (const child of children) child.go();
        claims = await Promise.all(children.map((child) => child.claimed));
      }
      const all = claims.flat().sort((x, y) => x - y);
      expect(all).toEqual(plan(40).map((range) => range.seq));
      expect(new Set(all).size).toBe(all.length);
      // Both took part (each claims one range at a time while the other holds the lock).
      expect(claims[0].length).toBeGreaterThan(0);
      expect(claims[1].length).toBeGreaterThan(0);
      const ranges = await setup.ranges('race');
      expect(ranges.every((range) => range.state === 'done')).toBe(true);
      for (const range of ranges) expect(claims[range.owner === 'a' ? 0 : 1]).toContain(range.seq);
    }, 120_000);

    test('an expired lease is taken over; the old owner can neither renew nor save', async () => {
      const a = store();
      const b = store();
      await a.open('takeover', 'reencrypt', {}, ['Customer'], async () => plan(1));
      // A lease of 5 s: the save and the claim that finds it live fit in it on a loaded machine too
      // (with 1 s, two queries late by a second took the range over from a live lease).
      const LEASE_S = 5;
      const held = (await a.claim('takeover', 'owner-a', LEASE_S)) as NonNullable<
        Awaited<ReturnType<RunStore['claim']>>
      >;
      expect(held).toMatchObject({ seq: 0, state: 'claimed', owner: 'owner-a', tookOverFrom: null });
      expect(held.leaseUntil).toBeInstanceOf(Date);
      expect(Math.abs((held.leaseUntil as Date).getTime() - Date.now() - LEASE_S * 1000)).toBeLessThan(5000);
      await a.save(held, 'owner-a', '42', 42, DETAIL, 'claimed');
      expect(await b.claim('takeover', 'owner-b', 30)).toBeNull(); // live lease: nothing to claim
      // Taken over once the lease has expired (polled: the database's clock decides).
      let taken: Awaited<ReturnType<RunStore['claim']>> = null;
      for (const deadline = Date.now() + 30_000; taken === null && Date.now() < deadline;) {
        await sleep(200);
        taken = await b.claim('takeover', 'owner-b', 30);
      }
      expect(taken).toMatchObject({ seq: 0, owner: 'owner-b', tookOverFrom: 'owner-a', cursor: '42', processed: 42 });
      expect(await a.renew(held, 'owner-a', 30)).toBe(false);
      await expect(a.save(held, 'owner-a', '50', 50, DETAIL, 'claimed')).rejects.toBeInstanceOf(LeaseLostError);
      expect(await b.renew(taken!, 'owner-b', 30)).toBe(true);
      await b.save(taken!, 'owner-b', null, 100, DETAIL, 'done');
      const [range] = await a.ranges('takeover');
      expect(range).toMatchObject({ state: 'done', owner: 'owner-b', processed: 100, leaseUntil: null });
    }, 30_000);

    test('the concurrency cap counts live leases; a released range is claimed again from its cursor', async () => {
      const a = store();
      await a.open('capped', 'reencrypt', { maxConcurrency: 1 }, ['Customer'], async () => plan(3));
      const first = await a.claim('capped', 'p1:w1', 30, 1);
      expect(first?.seq).toBe(0);
      expect(await a.claim('capped', 'p1:w2', 30, 1)).toBeNull();
      expect(await a.claim('capped', 'p2:w1', 30, 2)).toMatchObject({ seq: 1 });
      const poll = await a.poll('capped', 'p1:');
      expect(poll).toMatchObject({ liveLeases: 2, ownLeases: 1, open: 3, processed: 0, rows: 300 });
      await a.save(first!, 'p1:w1', '7', 7, DETAIL, 'claimed');
      await a.release(first!, 'p1:w1');
      const again = await a.claim('capped', 'p1:w3', 30, 2);
      expect(again).toMatchObject({ seq: 0, cursor: '7', processed: 7, owner: 'p1:w3', tookOverFrom: null });
    });

    test('a run is marked done only while no range is open, so a model planned in at that moment is not stranded', async () => {
      const worker = store();
      const planner = store();
      const post = (count: number): PlannedRange[] => plan(count).map((range) => ({ ...range, model: 'Post' }));
      await worker.open('strand', 'reencrypt', {}, ['Customer'], async () => plan(2));
      for (;;) {
        const range = await worker.claim('strand', 'w1', 30);
        if (!range) break;
        await worker.save(range, 'w1', null, range.rows, DETAIL, 'done');
      }
      // The last worker sees no open range ...
      expect((await worker.poll('strand', 'w1'))?.open).toBe(0);
      // ... another process plans a new model into the run ...
      await planner.open('strand', 'reencrypt', {}, ['Customer', 'Post'], async () => post(2));
      // ... and the worker's "done" must not bury those ranges.
      expect(await worker.setState('strand', 'done')).toBe(false);
      expect((await planner.get('strand'))?.state).toBe('running');
      expect(await planner.claim('strand', 'p1', 30)).toMatchObject({ model: 'Post', seq: 0 });

      // The other order: done first, then the planner finds the run done and plans nothing into it.
      await worker.open('strand-2', 'reencrypt', {}, ['Customer'], async () => plan(1));
      const only = await worker.claim('strand-2', 'w1', 30);
      await worker.save(only!, 'w1', null, 100, DETAIL, 'done');
      expect(await worker.setState('strand-2', 'done')).toBe(true);
      const late = await planner.open('strand-2', 'reencrypt', {}, ['Customer', 'Post'], async () => post(2));
      expect(late.run.state).toBe('done');
      expect((await planner.ranges('strand-2')).map((range) => range.model)).toEqual(['Customer']);
      // A pause or resume that read the run before it finished leaves it done.
      expect(await planner.setState('strand-2', 'paused')).toBe(false);
      expect(await planner.setState('strand-2', 'running')).toBe(false);
      expect((await worker.get('strand-2'))?.state).toBe('done');
    });

    test('--restart (open with restart) clears the ranges and plans again in one step, keeping a pause', async () => {
      const a = store();
      let planned = 0;
      const planner = async () => {
        planned++;
        return plan(2);
      };
      await a.open('restart-paused', 'reencrypt', {}, ['Customer'], planner);
      const range = await a.claim('restart-paused', 'w1', 30);
      await a.save(range!, 'w1', '5', 5, DETAIL, 'claimed');
      expect(await a.setState('restart-paused', 'paused')).toBe(true);
      // Paused, the worker gives its range back (a restart is refused while a lease is live).
      await a.release(range!, 'w1');
      const reopened = await a.open('restart-paused', 'reencrypt', {}, ['Customer'], planner, { restart: true });
      expect(planned).toBe(2);
      expect(reopened.run.state).toBe('paused');
      expect((await a.ranges('restart-paused')).map((r) => [r.seq, r.state, r.processed])).toEqual([
        [0, 'pending', 0],
        [1, 'pending', 0],
      ]);
      // A finished run is planned again and running.
      await a.setState('restart-paused', 'running');
      for (;;) {
        const next = await a.claim('restart-paused', 'w1', 30);
        if (!next) break;
        await a.save(next, 'w1', null, next.rows, DETAIL, 'done');
      }
      expect(await a.setState('restart-paused', 'done')).toBe(true);
      const again = await a.open('restart-paused', 'reencrypt', {}, ['Customer'], planner, { restart: true });
      expect(again.run.state).toBe('running');
      expect(planned).toBe(3);
    });

    test('pause and resume are stored with the run, seen by another client', async () => {
      const a = store();
      const b = store();
      await a.open('paused', 'decrypt', {}, ['Customer'], async () => plan(2));
      expect(await a.setState('paused', 'paused')).toBe(true);
      expect(await a.setState('paused', 'paused')).toBe(false);
      expect((await b.get('paused'))?.state).toBe('paused');
      const stored = await db.query<{ state: string }>("SELECT state FROM hushfield_runs WHERE id = 'paused'");
      expect(stored[0].state).toBe('paused');
      expect(await b.setState('paused', 'running')).toBe(true);
      expect((await a.get('paused'))?.state).toBe('running');
      expect((await a.list()).map((run) => run.id)).toEqual(expect.arrayContaining(['paused', 'capped']));
      expect(await a.clearRanges('paused')).toBe(2);
      expect(await a.ranges('paused')).toEqual([]);
    });
  },
);
