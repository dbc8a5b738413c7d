/**
 * Compare-and-swap writes on the provider of the Jest project: PostgreSQL (one `UPDATE ... FROM
 * unnest`), MySQL/MariaDB (one `UPDATE ... JOIN` per batch, read back when some rows lost) and
 * SQLite (`updateMany` per row in one transaction): outcomes exact per row in mixed batches, a
 * change of case or trailing space still a lost race (on MySQL under a case-insensitive
 * collation too), non-ASCII text compared by its text (on MySQL in a latin1 column too), one
 * bad row failing alone, Bytes compared as bytes, Json batches exact.
 */
import { MysqlCasWriter } from '../../packages/cli/src/cas-writer-mysql';
import { PostgresCasWriter, PrismaCasWriter, createCasWriter } from '../../packages/cli/src/cas-writer';
import type { RowWrite } from '../../packages/cli/src/cas-writer';
import type { BasePrismaClient } from '../../packages/cli/src/config';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';
import { testProvider } from '../support/provider';
import { schema } from './support';

const customer = schema.models.Customer;
const document = schema.models.Document;
const provider = testProvider();
const WRITERS = { postgresql: PostgresCasWriter, mysql: MysqlCasWriter, sqlite: PrismaCasWriter };

describe(`CAS writes on ${provider}`, () => {
  let db: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaClient({ adapter: db.adapter() });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.close();
  });

  beforeEach(async () => {
    await db.query('DELETE FROM customers');
    const values = Array.from({ length: 8 }, (_, i) => `(${i + 1}, 'e${i + 1}@x', 'p${i + 1}', NULL)`).join(', ');
    await db.query(`INSERT INTO customers (id, email, phone, email_idx) VALUES ${values}`);
  });

  const rows = async () =>
    (
      await db.query<{ id: number; email: string; phone: string | null; email_idx: string | null }>(
        'SELECT id, email, phone, email_idx FROM customers ORDER BY id',
      )
    ).map((row) => ({ ...row, id: Number(row.id) }));

  const rewrite = (id: number, expectedEmail = `e${id}@x`): RowWrite => ({
    key: [id],
    expected: { email: expectedEmail, phone: `p${id}`, emailIdx: null },
    data: { email: `E${id}`, emailIdx: `i${id}` },
  });

  test('the writer for this database', async () => {
    const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
    expect(writer).toBeInstanceOf(db.backend === 'pglite' ? PrismaCasWriter : WRITERS[provider]);
  });

  test('a mixed batch: every row applied or lost exactly as it happened', async () => {
    // Rows 2, 5 and 8 change between the read and the write; 8 is also deleted.
    await db.query("UPDATE customers SET email = 'app' WHERE id IN (2, 5)");
    await db.query('UPDATE customers SET phone = NULL WHERE id = 7');
    await db.query('DELETE FROM customers WHERE id = 8');
    const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
    const outcomes = await writer.write([1, 2, 3, 4, 5, 6, 7, 8].map((id) => rewrite(id)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'applied',
      'lost',
      'applied',
      'applied',
      'lost',
      'applied',
      'lost',
      'lost',
    ]);
    expect(await rows()).toEqual([
      { id: 1, email: 'E1', phone: 'p1', email_idx: 'i1' },
      { id: 2, email: 'app', phone: 'p2', email_idx: null },
      { id: 3, email: 'E3', phone: 'p3', email_idx: 'i3' },
      { id: 4, email: 'E4', phone: 'p4', email_idx: 'i4' },
      { id: 5, email: 'app', phone: 'p5', email_idx: null },
      { id: 6, email: 'E6', phone: 'p6', email_idx: 'i6' },
      { id: 7, email: 'e7@x', phone: null, email_idx: null },
    ]);
  });

  test('all applied, then the same batch again: all lost (the values moved on)', async () => {
    const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
    // In primary-key order, as the migrator writes them (the PostgreSQL writer bounds the key by the first and last).
    const batch = [1, 2, 3].map((id) => rewrite(id));
    expect((await writer.write(batch)).map((outcome) => outcome.status)).toEqual(['applied', 'applied', 'applied']);
    expect((await writer.write(batch)).map((outcome) => outcome.status)).toEqual(['lost', 'lost', 'lost']);
  });

  test('a change of case or of trailing spaces is a lost race, whatever the collation', async () => {
    if (provider === 'mysql')
      await db.query('ALTER TABLE customers MODIFY email TEXT COLLATE utf8mb4_unicode_ci NOT NULL');
    try {
      await db.query("UPDATE customers SET email = 'E1@X' WHERE id = 1");
      await db.query("UPDATE customers SET email = 'e2@x ' WHERE id = 2");
      const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
      const outcomes = await writer.write([rewrite(1), rewrite(2), rewrite(3)]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['lost', 'lost', 'applied']);
      expect((await rows()).slice(0, 2).map((row) => row.email)).toEqual(['E1@X', 'e2@x ']);
    } finally {
      if (provider === 'mysql') await db.query('ALTER TABLE customers MODIFY email TEXT COLLATE utf8mb4_bin NOT NULL');
    }
  });

  test('non-ASCII text compares by its text, in a legacy latin1 column too (MySQL)', async () => {
    if (provider === 'mysql')
      await db.query('ALTER TABLE customers MODIFY email TEXT CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL');
    try {
      await db.query("UPDATE customers SET email = 'é1@x' WHERE id = 1");
      await db.query("UPDATE customers SET email = 'Zoë2@x' WHERE id = 2");
      // The application changed row 3 only in an accent, which latin1_swedish_ci ignores.
      await db.query("UPDATE customers SET email = 'é3@x' WHERE id = 3");
      const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
      const outcomes = await writer.write([rewrite(1, 'é1@x'), rewrite(2, 'Zoë2@x'), rewrite(3, 'e3@x'), rewrite(4)]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'applied', 'lost', 'applied']);
      expect((await rows()).slice(0, 4).map((row) => row.email)).toEqual(['E1', 'E2', 'é3@x', 'E4']);
    } finally {
      if (provider === 'mysql')
        await db.query('ALTER TABLE customers MODIFY email TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL');
    }
  });

  test('a byte the column’s character set does not map (read as "?") is never matched (MySQL)', async () => {
    if (provider !== 'mysql') return;
    await db.query('ALTER TABLE customers MODIFY phone TEXT CHARACTER SET cp1251 NULL');
    try {
      // 0x98 is unmapped in cp1251: it reads as '?'. 0xE6 is 'ж'.
      await db.query("UPDATE customers SET phone = _binary x'98' WHERE id = 1");
      await db.query("UPDATE customers SET phone = _binary x'E6' WHERE id = 2");
      const [read] = await db.query<{ phone: string }>('SELECT phone FROM customers WHERE id = 1');
      expect(read.phone).toBe('?');
      const write = (id: number, phone: string): RowWrite => ({
        key: [id],
        expected: { email: `e${id}@x`, phone, emailIdx: null },
        data: { email: `E${id}`, emailIdx: `i${id}` },
      });
      const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
      const outcomes = await writer.write([write(1, '?'), write(2, 'ж'), write(3, 'p3')]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['lost', 'applied', 'applied']);
      const [kept] = await db.query<{ hex: string; email: string }>(
        'SELECT HEX(phone) AS hex, email FROM customers WHERE id = 1',
      );
      expect(kept).toEqual({ hex: '98', email: 'e1@x' });
    } finally {
      // The unmapped byte cannot be converted back: the rows go first (the next test inserts its own).
      await db.query('DELETE FROM customers');
      await db.query('ALTER TABLE customers MODIFY phone TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL');
    }
  });

  test('a unique violation fails only its own row', async () => {
    await db.query("UPDATE customers SET email_idx = 'taken' WHERE id = 8");
    const writer = await createCasWriter(prisma as unknown as BasePrismaClient, customer);
    const outcomes = await writer.write([
      { key: [1], expected: { email: 'e1@x', emailIdx: null }, data: { emailIdx: 'taken' } },
      { key: [2], expected: { email: 'e2@x', emailIdx: null }, data: { emailIdx: 'i2' } },
      { key: [3], expected: { email: 'other', emailIdx: null }, data: { emailIdx: 'i3' } },
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['error', 'applied', 'lost']);
    expect((await rows()).map((row) => row.email_idx)).toEqual([null, 'i2', null, null, null, null, null, 'taken']);
  });

  test('Bytes compare as bytes; a batch with Json goes through Prisma, exact per row', async () => {
    await db.query('DELETE FROM documents');
    await prisma.document.createMany({
      data: ['d1', 'd2', 'd3'].map((id) => ({
        id,
        tenantId: 't',
        title: id,
        body: { v: id },
        blob: Uint8Array.from([1, 2, 3]),
      })),
    });
    await prisma.document.update({ where: { id: 'd2' }, data: { blob: Uint8Array.from([1, 2, 4]) } });
    const writer = await createCasWriter(prisma as unknown as BasePrismaClient, document);
    const bytes = (id: string): RowWrite => ({
      key: [id],
      expected: { blob: Uint8Array.from([1, 2, 3]), note: null },
      data: { blob: Uint8Array.from([9]), note: `n-${id}` },
    });
    expect((await writer.write(['d1', 'd2'].map(bytes))).map((outcome) => outcome.status)).toEqual(['applied', 'lost']);
    await prisma.document.update({ where: { id: 'd3' }, data: { body: { v: 'app' } } });
    const json = (id: string): RowWrite => ({
      key: [id],
      expected: { body: { v: id } },
      data: { body: { v: `new-${id}` } },
    });
    expect((await writer.write(['d1', 'd3'].map(json))).map((outcome) => outcome.status)).toEqual(['applied', 'lost']);
    const stored = await prisma.document.findMany({
      orderBy: { id: 'asc' },
      select: { id: true, body: true, note: true },
    });
    expect(stored).toEqual([
      { id: 'd1', body: { v: 'new-d1' }, note: 'n-d1' },
      { id: 'd2', body: { v: 'd2' }, note: null },
      { id: 'd3', body: { v: 'app' }, note: null },
    ]);
  });

  test('a Json value stored in another formatting than Prisma writes is compared by its value', async () => {
    // Written by another tool (Python's json.dumps puts spaces after ':' and ','): on SQLite,
    // which compared the column's text with Prisma's, such a row was a lost race on every pass.
    await db.query('DELETE FROM documents');
    for (const id of ['d1', 'd2', 'd3'])
      await db.query('INSERT INTO documents (id, tenant_id, title, body, meta) VALUES ($1, $2, $3, $4, $5)', [
        id,
        't',
        id,
        `{"v": "${id}",  "n": [1, 2.5]}`,
        `{ "k": true }`,
      ]);
    // The application rewrites d3's body after the read: that one is still a lost race.
    await prisma.document.update({ where: { id: 'd3' }, data: { body: { v: 'app', n: [1, 2.5] } } });
    const writer = await createCasWriter(prisma as unknown as BasePrismaClient, document);
    const outcomes = await writer.write(
      ['d1', 'd2', 'd3'].map((id) => ({
        key: [id],
        expected: { title: id, body: { v: id, n: [1, 2.5] }, meta: { k: true } },
        data: { body: { v: `new-${id}` }, meta: { k: false } },
      })),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'applied', 'lost']);
    const stored = await prisma.document.findMany({ orderBy: { id: 'asc' }, select: { body: true, meta: true } });
    expect(stored).toEqual([
      { body: { v: 'new-d1' }, meta: { k: false } },
      { body: { v: 'new-d2' }, meta: { k: false } },
      { body: { v: 'app', n: [1, 2.5] }, meta: { k: true } },
    ]);
  });

  test('a batch with Json: a String changed only in case or trailing space is still a lost race', async () => {
    if (provider === 'mysql')
      await db.query('ALTER TABLE documents MODIFY title TEXT COLLATE utf8mb4_unicode_ci NOT NULL');
    try {
      await db.query('DELETE FROM documents');
      await prisma.document.createMany({
        data: ['d1', 'd2', 'd3'].map((id) => ({ id, tenantId: 't', title: id, body: { v: id } })),
      });
      // The application changes d1's title in case and d2's by a trailing space, after the read.
      await prisma.document.update({ where: { id: 'd1' }, data: { title: 'D1' } });
      await prisma.document.update({ where: { id: 'd2' }, data: { title: 'd2 ' } });
      const writer = await createCasWriter(prisma as unknown as BasePrismaClient, document);
      const outcomes = await writer.write(
        ['d1', 'd2', 'd3'].map((id) => ({
          key: [id],
          expected: { title: id, body: { v: id } },
          data: { body: { v: `new-${id}` } },
        })),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['lost', 'lost', 'applied']);
      const stored = await prisma.document.findMany({ orderBy: { id: 'asc' }, select: { title: true, body: true } });
      expect(stored).toEqual([
        { title: 'D1', body: { v: 'd1' } },
        { title: 'd2 ', body: { v: 'd2' } },
        { title: 'd3', body: { v: 'new-d3' } },
      ]);
    } finally {
      if (provider === 'mysql') await db.query('ALTER TABLE documents MODIFY title TEXT COLLATE utf8mb4_bin NOT NULL');
    }
  });
});
