/**
 * An encrypted `String` in a MySQL/MariaDB `TEXT` column (`User.notes String @db.Text`), whose
 * 65,535 bytes hold the envelope of a value of about 48 KiB. A longer value used to reach the
 * database: under a strict `sql_mode` it failed there with Prisma's untyped `P2000`, and in a
 * session without one MariaDB cut the envelope to fit and stored it, so the value could never be
 * decrypted again. It is now refused with `InvalidArgumentError` before the write is sent, in
 * either session.
 */
import { InvalidArgumentError } from '@hushfield/core';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { PrismaClient } from '../../prisma/generated/client/client';
import { nonStrictMysqlAdapter } from '../support/database';
import { describeOn } from '../support/provider';
import { createHarness, expectNoPlaintextIn, type Harness, hushfieldSchema, rejection } from './support';

/** 60 KiB of two-byte characters: its envelope (about 80 KiB) outgrows TEXT. */
const tooLong = 'é'.repeat(30 * 1024);
/** 40 KiB: its envelope (about 54 KiB) fits. */
const fits = 'ü'.repeat(20 * 1024);

describeOn(['mysql'], 'TEXT has a byte limit on MySQL and MariaDB only')('an encrypted value in a TEXT column', () => {
  let h: Harness;
  let lax: PrismaClient;

  beforeAll(async () => {
    h = await createHarness();
    // A session without a strict sql_mode, where MariaDB cuts an over-long value to fit.
    lax = new PrismaClient({ adapter: nonStrictMysqlAdapter(h.db) });
  });
  afterAll(async () => {
    await expectNoPlaintextIn(h.db, 'users', [tooLong.slice(0, 40), fits.slice(0, 40)]);
    await lax.$disconnect();
    await h.close();
  });

  const user = (email: string, notes: string) => ({
    data: { emailIdx: computedBlindIndex, tenantId: 'text-tenant', name: 'Noor', email, notes },
  });

  /** Asserts that `attempt` is refused with a typed error naming the column, and that no users row changed. */
  async function expectRefused(attempt: Promise<unknown>): Promise<void> {
    const before = await h.db.query('SELECT id, notes FROM users ORDER BY id');
    const error = await rejection(attempt);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ argument: 'User.notes' });
    expect((error as Error).message).toMatch(
      /User\.notes: the sealed value is longer than its Text \(65535 bytes\) column holds.*\(@db\.MediumText\)/,
    );
    expect((error as Error).message).not.toContain(tooLong.slice(0, 20));
    expect(await h.db.query('SELECT id, notes FROM users ORDER BY id')).toEqual(before);
  }

  it('writes and reads back a value whose envelope fits', async () => {
    const created = await h.prisma.user.create(user('fits@example.com', fits));
    expect((await h.fresh().prisma.user.findUnique({ where: { id: created.id } }))?.notes).toBe(fits);
  });

  it('refuses a value whose envelope outgrows the column, under a strict sql_mode', async () => {
    await expectRefused(h.prisma.user.create(user('strict@example.com', tooLong)));
    const row = await h.prisma.user.create(user('strict-update@example.com', 'short'));
    await expectRefused(h.prisma.user.update({ where: { id: row.id }, data: { notes: tooLong } }));
  });

  it('refuses it in a session without a strict sql_mode, where MariaDB would cut it and lose it', async () => {
    const prisma = lax.$extends(fieldEncryption({ schema: hushfieldSchema, keyring: h.keyring }));
    await expectRefused(prisma.user.create(user('lax@example.com', tooLong)));
    const row = await prisma.user.create(user('lax-update@example.com', fits));
    await expectRefused(prisma.user.updateMany({ where: { id: row.id }, data: { notes: tooLong } }));
    expect((await prisma.user.findUnique({ where: { id: row.id } }))?.notes).toBe(fits);
  });
});
