/**
 * A run's times (started, lease ends) are UTC, as Prisma keeps `DateTime` columns, also on a
 * PostgreSQL database whose sessions are in another time zone: `status --run` then shows when
 * the run started and a live lease as claimed (it showed the start hours off, and a live lease
 * as expired).
 */
import { RunStore } from '../../packages/cli/src/run-store';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';
import { describeOn } from '../support/provider';

let world: CliWorld;

describeOn(['postgresql'], 'MySQL and SQLite lease times are UTC_TIMESTAMP / strftime, in UTC already')(
  'a run on a PostgreSQL database in another time zone',
  () => {
    beforeAll(async () => {
      world = await createCliWorld();
      await insertRows(world.db, 'customers', ['email', 'phone'], 20, (i) => [`user${i}@example.com`, `555-${i}`]);
      // New sessions (the CLI's) run in New York time.
      if (world.db.url) {
        const name = new URL(world.db.url).pathname.slice(1);
        await world.db.query(`ALTER DATABASE "${name}" SET timezone TO 'America/New_York'`);
      } else {
        await world.db.query("SET timezone TO 'America/New_York'");
      }
    }, 60_000);

    afterAll(async () => {
      await world?.close();
    });

    test('status --run shows the start and a live lease in UTC', async () => {
      const before = Date.now();
      const done = await world.runCli(['reencrypt', '--model', 'Customer', '--run', 'tz', '--json']);
      expect(done.code).toBe(0);
      const status = await world.runCli(['status', '--run', 'tz', '--json']);
      const started = new Date(status.json.run.createdAt).getTime();
      expect(Math.abs(started - before)).toBeLessThan(60_000);

      // A lease of a minute, claimed by a worker of another run on a fresh client (a new session).
      const client = new PrismaClient({ adapter: world.db.adapter() });
      try {
        const store = new RunStore(client as unknown as BasePrismaClient);
        await store.open('tz-live', 'reencrypt', {}, ['Customer'], async () => [
          { model: 'Customer', seq: 0, lo: null, hi: null, rows: 20 },
        ]);
        expect(await store.claim('tz-live', 'elsewhere:1:w1', 60)).not.toBeNull();
      } finally {
        await client.$disconnect();
      }
      const live = await world.runCli(['status', '--run', 'tz-live', '--json']);
      expect(live.json.ranges[0].state).toBe('claimed');
      const left = new Date(live.json.ranges[0].leaseUntil).getTime() - Date.now();
      expect(left).toBeGreaterThan(30_000);
      expect(left).toBeLessThan(61_000);
    });
  },
);
