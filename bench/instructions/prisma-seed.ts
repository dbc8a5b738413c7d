/**
 * The databases `bench/instructions.ts --prisma` reads: one of plaintext rows for plain Prisma
 * and one of the same rows sealed as the extension writes them, each new and migrated on
 * TEST_DATABASE_URL's server, filled with SQL as `pnpm bench prisma` fills its tables.
 */
import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@hushfield/core';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { plainUserInputs, userInputs } from '../lib/fixtures';
import { encryptedClient, plainClient } from '../lib/prisma-clients';
import { insertEncryptedUsers, insertPlainUsers, insertPosts } from '../lib/seed-users';

/** The tag and scope count of the seeded users (bench/lib/fixtures.ts `userInput`). */
export const SEED = { tag: 'ie', tenants: 10 } as const;

/** The two seeded databases and the key their sealed rows are under. */
export interface SeededWorkload {
  readonly plainUrl: string;
  readonly encryptedUrl: string;
  /** The `LocalKeyring` root key, hex. */
  readonly rootKey: string;
  /** Drops both databases. */
  close(): Promise<void>;
}

/**
 * Seeds `rows` users (with `children` posts each when `children` > 0) in both databases.
 * @param serverUrl - a PostgreSQL server, as TEST_DATABASE_URL
 */
export async function seedPrismaWorkload(serverUrl: string, rows: number, children: number): Promise<SeededWorkload> {
  process.env.TEST_DATABASE_URL = serverUrl;
  const opened: TestDatabase[] = [];
  try {
    const plainDb = await createTestDatabase('postgres');
    opened.push(plainDb);
    const encryptedDb = await createTestDatabase('postgres');
    opened.push(encryptedDb);
    const plainIds = await insertPlainUsers(plainDb, plainUserInputs(0, rows, SEED.tag, SEED.tenants));
    if (children > 0) await insertPosts(plainDb, plainIds, children);

    const rootKey = randomBytes(32);
    const rootKeyHex = rootKey.toString('hex');
    const base = plainClient(encryptedDb);
    try {
      const sealer = encryptedClient(base, new LocalKeyring(rootKey), { dekCache: false }).crypto;
      const ids = await insertEncryptedUsers(encryptedDb, sealer, userInputs(0, rows, SEED.tag, SEED.tenants));
      if (children > 0) await insertPosts(encryptedDb, ids, children, sealer);
    } finally {
      await base.$disconnect();
    }
    return {
      plainUrl: plainDb.url as string,
      encryptedUrl: encryptedDb.url as string,
      rootKey: rootKeyHex,
      close: async () => {
        for (const db of opened) await db.close();
      },
    };
  } catch (error) {
    for (const db of opened) await db.close();
    throw error;
  }
}
