/**
 * `reencrypt` end to end on a database whose sessions do not default to read committed (a
 * PostgreSQL database set to `repeatable read` or `serializable`, this test's own database
 * only; MySQL/MariaDB's default and `SERIALIZABLE` sessions), the application updating rows of
 * the batch being written: before the first and the third `UPDATE` of `users` the CLI sends (its
 * key check already made, its snapshot taken), the application changes a row and commits (the
 * first row, then the second: that of the second row's own transaction, were the batch redone
 * row by row). The run ends `done` (exit 0) with no row failed, every row holds the
 * application's latest value, and every value is sealed under the rotated key.
 */
import { randomUUID } from 'node:crypto';
import type { BasePrismaClient } from '@hushfield/cli';
import { PrismaClient } from '../../prisma/generated/client/client';
import { adapterAt, setDefaultIsolation } from '../support/isolation';
import { testProvider } from '../support/provider';
import { appClient, createCliWorld } from './support';
import type { CliWorld } from './support';

const provider = testProvider();

/** The isolation levels of the CLI's sessions on this provider (null: the sessions' default). */
const LEVELS: readonly (string | null)[] =
  provider === 'postgresql' ? ['repeatable read', 'serializable'] : provider === 'mysql' ? [null, 'SERIALIZABLE'] : [];

/** A statement that writes `users`. */
const USERS_WRITE = /^UPDATE\s+[`"]users[`"]/;

if (LEVELS.length === 0) {
  test.skip('SQLite has one writer: the batch holds its write lock, no application write lands inside it', () => {});
}

for (const level of LEVELS) {
  describe(`reencrypt on ${provider} at ${level ?? 'the default isolation level'}`, () => {
    let world: CliWorld;
    const ids: string[] = [];
    const original = new Map<string, string>();

    beforeAll(async () => {
      world = await createCliWorld();
      // Before the CLI's clients connect.
      await setDefaultIsolation(world.db, level);
      const users = Array.from({ length: 10 }, (_, i) => ({
        id: randomUUID(),
        tenantId: 't1',
        name: `user ${i}`,
        email: `user${i}@example.com`,
      }));
      await appClient(world).user.createMany({ data: users });
      for (const user of users) original.set(user.id, user.email);
      ids.push(...users.map((user) => user.id).sort());
    }, 120_000);

    afterAll(async () => {
      await world?.close();
    });

    test('application updates committed inside the batch: no row failed, each keeps its latest value', async () => {
      expect((await world.runCli(['keys', 'rotate', '--all', '--json'])).code).toBe(0);
      const app = appClient(world); // made after the rotation: writes under the new version
      const latest = new Map<string, string>();
      let writes = 0;
      const base = new PrismaClient({ adapter: adapterAt(world.db, level) });
      const client = base.$extends({
        query: {
          async $allOperations({ args, query }) {
            const sql = typeof (args as unknown[])?.[0] === 'string' ? ((args as string[])[0] ?? '') : '';
            if (USERS_WRITE.test(sql.trim())) {
              writes++;
              const id = writes === 1 ? ids[0] : writes === 3 ? ids[1] : undefined;
              if (id !== undefined) {
                const email = `changed-${writes}@example.net`;
                await app.user.update({ where: { id }, data: { email } });
                latest.set(id, email);
              }
            }
            return query(args);
          },
        },
      });
      const result = await world.runCli(['reencrypt', '--model', 'User', '--batch', '100', '--json'], {
        config: { prisma: () => client as unknown as BasePrismaClient },
      });
      expect(latest.size).toBeGreaterThan(0);
      const model = (result.json as { models: { failed: number; pending: number }[] }).models[0];
      expect(model).toMatchObject({ failed: 0, pending: 0 });
      expect(result.code).toBe(0);

      const crypto = world.crypto();
      const active = (await crypto.keys.activeScopeKey('t1')).version;
      const stored = await world.db.query<{ id: string; email: string }>('SELECT id, email FROM users ORDER BY id');
      expect(stored).toHaveLength(ids.length);
      for (const row of stored) {
        expect(crypto.describe(row.email).version).toBe(active);
        const email = await crypto.decrypt(row.email, { model: 'users', field: 'email', rowId: row.id });
        expect(email).toBe(latest.get(row.id) ?? original.get(row.id));
      }
    }, 120_000);
  });
}
