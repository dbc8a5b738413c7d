/**
 * A scope value holding U+0000. PostgreSQL text cannot hold it, so no key of that scope can be
 * stored (nor through libSQL, which cuts text at it): the write is refused with
 * InvalidArgumentError before anything is sealed or sent (on PostgreSQL it failed in the key
 * store's read, with the database's raw 22021 error). MySQL/MariaDB and SQLite through
 * better-sqlite3 store it like any other character, and the row round-trips.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { InvalidArgumentError } from '@hushfield/core';
import { testBackend } from '../support/database';
import { createHarness, expectNoPlaintextInLog, type Harness } from './support';

/** PostgreSQL (a server, a container or PGlite) cannot store it; the libSQL driver cuts text at it. */
const refused =
  (testBackend() !== 'mariadb' && testBackend() !== 'sqlite') || process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql';

describe('fieldEncryption: a scope value holding U+0000', () => {
  let h: Harness;
  const email = ['nul', 'example.com'].join('@');
  const tenantId = 'acme\u0000evil';

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const create = () => h.prisma.user.create({ data: { tenantId, name: 'n', email, emailIdx: computedBlindIndex } });

  (refused ? it : it.skip)(
    'is refused on PostgreSQL and libSQL with InvalidArgumentError before any query',
    async () => {
      h.queries.length = 0;
      const error = await create().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/^scope must not contain a NUL character \(U\+0000\)/);
      expect(String(error)).not.toContain(email);
      // nothing of the scope sent: no key-store query for it, no insert (the blind-index root
      // key, which any first write loads, is the only key-store traffic)
      const sent = h.queries.map((q) => `${q.query}\n${q.params}`);
      expect(sent.filter((text) => text.includes('acme') || text.includes('"users"'))).toEqual([]);
      const prepared = await h.prisma.$hushfield.prepare([tenantId]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(prepared).toBeInstanceOf(InvalidArgumentError);
      expect(await h.db.query('SELECT id FROM users')).toEqual([]);
      expect(await h.db.query("SELECT id FROM hushfield_keys WHERE kind = 'scope'")).toEqual([]);
    },
  );

  (refused ? it.skip : it)(
    'round-trips on MySQL/MariaDB and SQLite through better-sqlite3, whose text holds it',
    async () => {
      const created = await create();
      expect(created.tenantId).toBe(tenantId);
      const found = await h.prisma.user.findFirst({ where: { email } });
      expect([found?.tenantId, found?.email]).toEqual([tenantId, email]);
      expectNoPlaintextInLog(h.queries, [email]);
    },
  );
});
