/**
 * `updateMany` of encrypted fields writes row by row in one transaction the extension opens
 * (README, "Isolation and locking"). That transaction runs for up to 10 minutes, or for the
 * client's own `transactionOptions.timeout` when it sets one: past it the call fails with
 * Prisma's P2028 and nothing of it is written.
 */
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { PrismaClient } from '../../prisma/generated/client/client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { testProvider } from '../support/provider';
import { hushfieldSchema, rejection } from './support';

describe('updateMany of encrypted fields: the transaction it opens', () => {
  let db: TestDatabase;
  const keyring = new LocalKeyring(randomBytes(32));
  const clients: PrismaClient[] = [];
  const extended = (timeout?: number) => {
    const base = new PrismaClient({
      adapter: db.adapter(),
      ...(timeout === undefined ? {} : { transactionOptions: { timeout } }),
    });
    clients.push(base);
    return base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring }));
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const prisma = extended();
    for (let i = 0; i < 40; i++) {
      await prisma.user.create({
        data: { tenantId: 'acme', name: 'Timed', email: `t${i}@example.com`, emailIdx: computedBlindIndex },
      });
    }
  });
  afterAll(async () => {
    for (const client of clients) await client.$disconnect();
    await db.close();
  });

  // better-sqlite3 answers without returning to the event loop: the timer cannot fire first.
  (testProvider() === 'sqlite' ? it.skip : it)(
    "fails with P2028 past the client's transaction timeout, writing none of its rows",
    async () => {
      const error = (await rejection(
        extended(1).user.updateMany({ where: { name: 'Timed' }, data: { notes: 'never written' } }),
      )) as { code?: string };
      expect(error.code).toBe('P2028');
      const notes = await extended().user.findMany({ where: { name: 'Timed' }, select: { notes: true } });
      expect(notes.map((row) => row.notes)).toEqual(new Array(40).fill(null));
    },
  );

  it('writes every row within a timeout long enough', async () => {
    const result = await extended(60_000).user.updateMany({ where: { name: 'Timed' }, data: { notes: 'written' } });
    expect(result).toEqual({ count: 40 });
    const notes = await extended().user.findMany({ where: { name: 'Timed' }, select: { notes: true } });
    expect(new Set(notes.map((row) => row.notes))).toEqual(new Set(['written']));
  });
});
