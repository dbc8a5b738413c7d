/**
 * A scope in a MySQL/MariaDB TEXT-family column (`@db.TinyText`: 255 bytes; `@db.Text`: 65,535),
 * whose limit is in bytes, not characters. A scope of few characters but more bytes (`€` is 3
 * bytes in utf8mb4) fits the key table's `VARCHAR(191)` but not a `TINYTEXT`: in a session
 * without a strict `sql_mode` MariaDB stored the row's scope cut, while its values were sealed
 * under the key of the scope as written, so the row never decrypted again (under a strict one
 * the write failed with Prisma's untyped `P2000`, after the scope's key was created). It is now
 * refused with `InvalidArgumentError` before anything is sealed or sent, as a `VarChar(n)` scope is.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { fieldEncryption, type HushfieldSchema } from '@hushfield/prisma';
import { PrismaClient } from '../../prisma/generated/client/client';
import { nonStrictMysqlAdapter } from '../support/database';
import { describeOn } from '../support/provider';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema, rejection } from './support';

/** `Ticket` as the generator describes it with `tenantId String @db.TinyText @map("tenant_id")`. */
function withTinyTextScope(): HushfieldSchema {
  const schema = structuredClone(hushfieldSchema) as unknown as HushfieldSchema;
  const ticket = schema.models.Ticket as unknown as { fields: Record<string, { maxBytes?: number }> };
  ticket.fields.tenantId = { ...ticket.fields.tenantId, maxBytes: 255 };
  return schema;
}

describeOn(['mysql'], 'TEXT columns have a byte limit on MySQL and MariaDB only')(
  'a scope in a TINYTEXT column',
  () => {
    let h: Harness;
    let lax: PrismaClient;
    /** 90 characters, 270 bytes: within the key table's VARCHAR(191), beyond TINYTEXT's 255 bytes. */
    const tooLong = '€'.repeat(90);
    /** 85 characters, 255 bytes: fits exactly. */
    const fits = '€'.repeat(85);
    const secret = 'the boiler leaks';

    beforeAll(async () => {
      h = await createHarness();
      await h.db.query('ALTER TABLE `tickets` MODIFY `tenant_id` TINYTEXT NOT NULL');
      lax = new PrismaClient({ adapter: nonStrictMysqlAdapter(h.db) });
    });
    afterAll(async () => {
      await expectNoPlaintextIn(h.db, 'tickets', [secret]);
      await lax.$disconnect();
      await h.close();
    });

    const clients = () => ({
      strict: h.base.$extends(fieldEncryption({ schema: withTinyTextScope(), keyring: h.keyring })),
      lenient: lax.$extends(fieldEncryption({ schema: withTinyTextScope(), keyring: h.keyring })),
    });

    it.each(['strict', 'lenient'] as const)(
      'refuses a scope of more bytes than the column holds before anything is sent (%s sql_mode)',
      async (mode) => {
        const prisma = clients()[mode];
        const error = await rejection(prisma.ticket.create({ data: { tenantId: tooLong, subject: secret } }));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect(error).toMatchObject({ argument: 'Ticket.tenantId' });
        expect((error as Error).message).toMatch(/TinyText \(255 bytes\)/);
        expect((error as Error).message).not.toContain(tooLong);
        expect(await h.db.query('SELECT id FROM tickets')).toEqual([]);
        expect(await h.db.query("SELECT scope FROM hushfield_keys WHERE kind = 'scope'")).toEqual([]);
      },
    );

    it('writes a scope that fits exactly, and a fresh client reads it back (lenient sql_mode)', async () => {
      const created = await clients().lenient.ticket.create({ data: { tenantId: fits, subject: secret } });
      const [raw] = await h.db.query<{ tenant_id: string }>('SELECT tenant_id FROM tickets WHERE id = $1', [
        created.id,
      ]);
      expect(raw?.tenant_id).toBe(fits);
      const reread = h.fresh().base.$extends(fieldEncryption({ schema: withTinyTextScope(), keyring: h.keyring }));
      expect(await reread.ticket.findUnique({ where: { id: created.id } })).toMatchObject({ subject: secret });
    });
  },
);
