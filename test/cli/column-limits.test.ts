/**
 * Adopting plaintext whose envelope outgrows its MySQL/MariaDB `TEXT` column (`Customer.phone`,
 * 65,535 bytes): a 50,000-byte value fits as plaintext, its envelope (about 67 KB) does not.
 * MariaDB's `UPDATE … JOIN (SELECT ? …)` stored such a parameter cut to its length modulo 64 KiB,
 * without an error or a warning, even under a strict `sql_mode`: `reencrypt` replaced the
 * plaintext with an envelope that never decrypts and reported the row written. Such a row is now
 * reported as failed (`HUSHFIELD_INVALID_ARGUMENT`, naming the field, never the value) and left
 * as it was, and the run goes on with the others.
 *
 * In a column that holds such values (`@db.LongText`), the same statement cut every text
 * parameter over 64 KiB of its `UNION ALL` rows: an envelope was stored cut (the plaintext
 * lost, reported written), and a plaintext read that long never matched (reported as a lost
 * race, run after run). Text values now travel as bytes, which MariaDB keeps whole.
 */
import { PrismaClient } from '../../prisma/generated/client/client';
import { nonStrictMysqlAdapter } from '../support/database';
import { describeOn } from '../support/provider';
import { fieldEncryption, type HushfieldSchema } from '@hushfield/prisma';
import { appClient, countRows, createCliWorld, schema } from './support';
import type { CliWorld } from './support';

const long = (mark: string) => `${mark}:${'7'.repeat(50_000)}`;

describeOn(['mysql'], 'TEXT has a byte limit on MySQL and MariaDB only')('adopting a value too long for TEXT', () => {
  let world: CliWorld;

  beforeAll(async () => {
    world = await createCliWorld();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  /** Inserts one long and one short plaintext row, runs reencrypt, and checks that only the long one is left. */
  async function adopt(mark: string, prisma?: () => PrismaClient): Promise<void> {
    await world.db.query('DELETE FROM customers');
    await world.db.query('INSERT INTO customers (email, phone) VALUES ($1, $2), ($3, $4)', [
      `${mark}-long@example.com`,
      long(mark),
      `${mark}-short@example.com`,
      `${mark} 555`,
    ]);
    const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], {
      ...(prisma ? { config: { prisma } } : {}),
    });
    expect(result.stdout + result.stderr).not.toContain('7777777777');
    expect(result.code).toBe(3);
    const [report] = result.json.models;
    expect(report).toMatchObject({ model: 'Customer', written: 1, failed: 1 });
    expect(report.failures).toEqual([expect.objectContaining({ field: 'phone', code: 'HUSHFIELD_INVALID_ARGUMENT' })]);
    expect(report.failures[0].message).toMatch(
      /the sealed value is longer than its Text \(65535 bytes\) column holds.*\(@db\.MediumText\)/,
    );
    // The long row is left as it was (its plaintext, for a longer column), the short one is encrypted.
    const [row] = await world.db.query<{ email: string; phone: string }>(
      'SELECT email, phone FROM customers WHERE phone = $1',
      [long(mark)],
    );
    expect(row).toEqual({ email: `${mark}-long@example.com`, phone: long(mark) });
    const app = appClient(world);
    expect(
      await app.customer.findFirst({ where: { email: `${mark}-short@example.com` }, select: { phone: true } }),
    ).toEqual({ phone: `${mark} 555` });
  }

  it('leaves such a row as it was and reports it, under a strict sql_mode', async () => {
    await adopt('strict');
  });

  it('leaves it too in a session without a strict sql_mode', async () => {
    await adopt('lax', () => new PrismaClient({ adapter: nonStrictMysqlAdapter(world.db) }));
  });
});

describeOn(['mysql'], "MariaDB's UPDATE … JOIN is the MySQL writer's")(
  'adopting values over 64 KiB in LONGTEXT',
  () => {
    let world: CliWorld;
    // The schema of an application that declares the column `@db.LongText`: no byte limit to check.
    const models = JSON.parse(JSON.stringify(schema.models)) as HushfieldSchema['models'];
    delete (models.Customer.fields.phone as { maxBytes?: number }).maxBytes;
    const longText = { ...schema, models } as HushfieldSchema;
    // 50,000 bytes (an envelope of about 67 KB) and 80,000 bytes (as much again)
    const values = ['a', 'b', 'c', 'd'].map((mark, i) => `${mark}:${'é'.repeat(i % 2 === 0 ? 25_000 : 40_000)}`);

    beforeAll(async () => {
      world = await createCliWorld();
      await world.db.query('ALTER TABLE customers MODIFY phone LONGTEXT NULL');
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    it('encrypts every row of a batch in place, and the application reads each value back', async () => {
      await world.db.query('INSERT INTO customers (email, phone) VALUES ($1, $2)', ['short@example.com', '555']);
      for (const [i, phone] of values.entries())
        await world.db.query('INSERT INTO customers (email, phone) VALUES ($1, $2)', [`long-${i}@example.com`, phone]);
      const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], {
        config: { schema: longText },
      });
      // Each value as the application reads it: none cut, none left in plaintext.
      const app = world.prisma.$extends(
        fieldEncryption({ schema: longText, keyring: world.keyring, onDecryptError: 'null' }),
      );
      const read = await app.customer.findMany({ orderBy: { id: 'asc' }, select: { phone: true } });
      expect(read.map((row) => row.phone?.slice(0, 8) ?? null)).toEqual(
        ['555', ...values].map((value) => value.slice(0, 8)),
      );
      expect(read.map((row) => row.phone)).toEqual(['555', ...values]);
      expect(await countRows(world.db, "customers WHERE phone NOT LIKE 'hfe$%'")).toBe(0);
      expect(result.code).toBe(0);
      expect(result.json.models[0]).toMatchObject({ written: values.length + 1, failed: 0, lostRaces: 0 });
    });

    it('decrypts them back in place, every value whole', async () => {
      const readonly = JSON.parse(JSON.stringify(longText)) as HushfieldSchema;
      (readonly.models.Customer.encrypted.phone as { mode: string }).mode = 'readonly';
      const result = await world.runCli(['decrypt', '--model', 'Customer', '--json'], { config: { schema: readonly } });
      expect(result.code).toBe(0);
      expect(result.json.models[0]).toMatchObject({ failed: 0, lostRaces: 0 });
      const stored = await world.db.query<{ phone: string }>('SELECT phone FROM customers ORDER BY id');
      expect(stored.map((row) => row.phone)).toEqual(['555', ...values]);
    });
  },
);
