/**
 * A bound value (a row's id, or the field `@encryption(bind: f)` names) holding U+0000.
 * PostgreSQL text cannot hold it (the insert failed with the database's raw 22021 error after
 * the values had been sealed) and the libSQL driver cuts text at it (the row would be stored
 * under another id than its values are bound to, and never open): the create is refused with
 * InvalidArgumentError, naming the model and field, never the value, before anything is sealed
 * or sent. MySQL/MariaDB and SQLite through better-sqlite3 store it, and the row round-trips.
 */
import { computedBlindIndex } from '@hushfield/prisma';
import { InvalidArgumentError } from '@hushfield/core';
import { testBackend } from '../support/database';
import { createHarness, expectNoPlaintextInLog, type Harness, rejection } from './support';

/** PostgreSQL (a server, a container or PGlite) cannot store it; the libSQL driver cuts text at it. */
const refused =
  (testBackend() !== 'mariadb' && testBackend() !== 'sqlite') || process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql';

describe('fieldEncryption: a bound value holding U+0000', () => {
  let h: Harness;
  const id = 'person\u0000qzx';
  const code = 'code\u0000vwk';
  const name = 'Nul Bound Name';
  const secret = 'nul bound secret';

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const writes = () => ({
    create: () => h.prisma.person.create({ data: { id, tenantId: 't1', name, cityIdx: computedBlindIndex } }),
    createMany: () => h.prisma.person.createMany({ data: [{ id, tenantId: 't1', name, cityIdx: computedBlindIndex }] }),
    upsert: () =>
      h.prisma.person.upsert({
        where: { id },
        create: { id, tenantId: 't1', name, cityIdx: computedBlindIndex },
        update: {},
      }),
    voucher: () => h.prisma.voucher.create({ data: { code, secret } }),
  });

  (refused ? it.each(['create', 'createMany', 'upsert', 'voucher'] as const) : it.skip.each(['create']))(
    'refuses a %s on PostgreSQL and libSQL with InvalidArgumentError before anything is sealed or sent',
    async (write) => {
      h.queries.length = 0;
      const error = await rejection(writes()[write as 'create']());
      expect(error).toBeInstanceOf(InvalidArgumentError);
      const [model, field] = write === 'voucher' ? ['Voucher', 'code'] : ['Person', 'id'];
      expect((error as Error).message).toContain(`${model}.${field}`);
      expect((error as Error).message).toContain('NUL');
      for (const text of [String(error), JSON.stringify(error), (error as Error).stack ?? '']) {
        for (const value of [id, code, name, secret, 'qzx', 'vwk']) expect(text).not.toContain(value);
      }
      // Nothing sent for the row, nothing sealed (the only key-store traffic is the index root key's).
      const sent = h.queries.map((q) => `${q.query}\n${q.params}`);
      expect(sent.filter((text) => /insert|"people"|"vouchers"|`people`|`vouchers`/i.test(text))).toEqual([]);
      expect(await h.db.query('SELECT id FROM people')).toEqual([]);
      expect(await h.db.query('SELECT id FROM vouchers')).toEqual([]);
    },
  );

  (refused ? it.skip : it)(
    'round-trips on MySQL/MariaDB and SQLite through better-sqlite3, whose text holds it',
    async () => {
      const created = await writes().create();
      expect(created.id).toBe(id);
      expect((await h.prisma.person.findUniqueOrThrow({ where: { id } })).name).toBe(name);
      await writes().voucher();
      expect((await h.prisma.voucher.findUniqueOrThrow({ where: { code } })).secret).toBe(secret);
      expectNoPlaintextInLog(h.queries, [name, secret]);
    },
  );
});
