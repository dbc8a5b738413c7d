/**
 * MySQL's TEXT holds 65,535 bytes (TINYTEXT 255, MEDIUMTEXT 16 MiB), a BLOB or VARBINARY(n)
 * as many: an envelope longer than its column is refused before the write is sent, as one
 * longer than a `VarChar(n)` is. Without the check a strict `sql_mode` failed the write with
 * Prisma's raw P2000, and a lenient one cut the envelope to fit: the row was stored, and its
 * value never decrypted again.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, LocalKeyring } from '@hushfield/core';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { PrismaClient } from '../../prisma/mysql/generated/client/client';
import { hushfieldSchema } from '../../prisma/mysql/generated/hushfield';
import { createTestDatabase, nonStrictMysqlAdapter, type TestDatabase } from '../support/database';
import { describeOn } from '../support/provider';

let db: TestDatabase;
const keyring = new LocalKeyring(randomBytes(32));
const clients: PrismaClient[] = [];

/** An extended client whose session has `sqlMode`, on `schema`. */
function client(sqlMode: string, schema: typeof hushfieldSchema = hushfieldSchema) {
  const base = new PrismaClient({ adapter: nonStrictMysqlAdapter(db, sqlMode) });
  clients.push(base);
  return base.$extends(fieldEncryption({ schema, keyring }));
}

describeOn(['mysql'], 'TEXT of a bounded size is MySQL’s')('an envelope longer than a MySQL TEXT column', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
  }, 60_000);

  afterAll(async () => {
    for (const base of clients) await base.$disconnect();
    await db?.close();
  });

  it.each(['STRICT_TRANS_TABLES', 'NO_ENGINE_SUBSTITUTION'])(
    'is refused with InvalidArgumentError before anything is sent (sql_mode %s)',
    async (sqlMode) => {
      const prisma = client(sqlMode);
      // The session really has that mode (the lenient one cuts, the strict one refuses).
      expect(await prisma.$queryRawUnsafe<{ m: string }[]>('SELECT @@SESSION.sql_mode AS m')).toEqual([{ m: sqlMode }]);
      const notes = 'n'.repeat(50_000);
      const email = `${sqlMode.toLowerCase()}@example.com`;
      const error = await prisma.user
        .create({ data: { tenantId: 't', name: 'a', email, emailIdx: computedBlindIndex, notes } })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(
        /User\.notes: the sealed value is longer than its Text \(65535 bytes\) column/,
      );
      expect((error as Error).message).not.toContain('nnnnnnnnnn');
      expect(await db.query('SELECT id FROM users WHERE name = $1', ['a'])).toEqual([]);
    },
  );

  it('writes and reads back a value whose envelope fits, and refuses an update that outgrows it', async () => {
    const prisma = client('NO_ENGINE_SUBSTITUTION');
    const notes = 'm'.repeat(40_000);
    const row = await prisma.user.create({
      data: { tenantId: 't', name: 'b', email: 'fits@example.com', emailIdx: computedBlindIndex, notes },
    });
    await expect(prisma.user.update({ where: { id: row.id }, data: { notes: notes + notes } })).rejects.toThrow(
      InvalidArgumentError,
    );
    expect((await client('STRICT_TRANS_TABLES').user.findUnique({ where: { id: row.id } }))?.notes).toBe(notes);
  });

  it('refuses a Bytes value whose binary envelope outgrows its TINYBLOB before anything is sent', async () => {
    await db.query('ALTER TABLE documents MODIFY `blob` TINYBLOB NULL');
    // The metadata the generator writes for `blob Bytes? @db.TinyBlob`.
    const bounded = JSON.parse(JSON.stringify(hushfieldSchema)) as typeof hushfieldSchema;
    (bounded.models.Document.fields.blob as { maxBytes?: number }).maxBytes = 255;
    const prisma = client('NO_ENGINE_SUBSTITUTION', bounded);
    const data = { tenantId: 't', title: 'b', body: {}, blob: new Uint8Array(200) };
    await expect(prisma.document.create({ data })).rejects.toThrow(
      /Document\.blob: the sealed value is longer than its binary \(255 bytes\) column/,
    );
    expect(await db.query('SELECT id FROM documents')).toEqual([]);
    const fits = await prisma.document.create({ data: { ...data, blob: new Uint8Array(100) } });
    expect((await client('STRICT_TRANS_TABLES').document.findUnique({ where: { id: fits.id } }))?.blob).toEqual(
      new Uint8Array(100),
    );
  });
});
