/**
 * Shared set-up for the extension's integration tests: a migrated database, a plain Prisma
 * client that logs every query with its parameters, the hushfield-extended client on top of
 * it, and assertions over what the database really stores.
 */
import { randomBytes } from 'node:crypto';
import { isEnvelope, type Keyring, LocalKeyring } from '@hushfield/core';
import { computedBlindIndex, fieldEncryption, type FieldEncryptionOptions } from '@hushfield/prisma';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
import { createPrisma, createTestDatabase, type LoggedQuery, type TestDatabase } from '../support/database';
import type { PrismaClient } from '../../prisma/generated/client/client';

export { hushfieldSchema };

/** Builds the extended client type for a base client. */
function extend(prisma: PrismaClient, options: Partial<FieldEncryptionOptions> & { keyring: Keyring }) {
  return prisma.$extends(fieldEncryption({ schema: hushfieldSchema, ...options }));
}

/** The hushfield-extended client. */
export type SealedClient = ReturnType<typeof extend>;

/** Everything one test file needs. */
export interface Harness {
  readonly db: TestDatabase;
  readonly base: PrismaClient;
  readonly prisma: SealedClient;
  readonly queries: LoggedQuery[];
  readonly keyring: Keyring;
  /** Another extended client on the same database and keyring, with cold caches. */
  fresh(options?: Partial<FieldEncryptionOptions>): {
    base: PrismaClient;
    prisma: SealedClient;
    queries: LoggedQuery[];
  };
  close(): Promise<void>;
}

/** A database (on `backend` when given, see `createTestDatabase`), a logging base client and the extended client. */
export async function createHarness(
  options: Partial<FieldEncryptionOptions> = {},
  backend?: TestDatabase['backend'],
): Promise<Harness> {
  const db = await createTestDatabase(backend);
  const keyring = options.keyring ?? new LocalKeyring(randomBytes(32));
  // The extended clients, as an application closes them: their own $disconnect also zeroes the
  // keys they cached (and stops those keys' expiry timers, which kept this file's modules alive).
  const clients: { $disconnect(): Promise<void> }[] = [];
  const make = (extra: Partial<FieldEncryptionOptions> = {}) => {
    const { prisma: base, queries } = createPrisma(db);
    let prisma: SealedClient;
    try {
      prisma = extend(base, { ...options, ...extra, keyring });
    } catch (error) {
      void base.$disconnect();
      throw error;
    }
    clients.push(prisma);
    return { base, queries, prisma };
  };
  const first = make();
  return {
    db,
    base: first.base,
    prisma: first.prisma,
    queries: first.queries,
    keyring,
    fresh: (extra) => make(extra),
    close: async () => {
      // Every client and the database's own connection are closed, whichever of them fails.
      const disconnected = await Promise.allSettled(clients.map((client) => client.$disconnect()));
      await db.close();
      for (const outcome of disconnected) if (outcome.status === 'rejected') throw outcome.reason;
    },
  };
}

/**
 * Creates `rows` users of tenant `tenantId` through `prisma` (named `user <r>`, email
 * `user<r>@<domain>`, notes `notes of <r>`), for reads of many encrypted values.
 */
export async function createUsers(prisma: SealedClient, tenantId: string, rows: number, domain: string): Promise<void> {
  for (let r = 0; r < rows; r++) {
    await prisma.user.create({
      data: {
        tenantId,
        name: `user ${r}`,
        email: `user${r}@${domain}`,
        emailIdx: computedBlindIndex,
        ssn: `123-45-${String(r).padStart(4, '0')}`,
        ssnIdx: computedBlindIndex,
        notes: `notes of ${r}`,
      },
    });
  }
}

/** The users of tenant `tenantId` by name, with their three encrypted fields. */
export function readUsers(prisma: SealedClient, tenantId: string) {
  return prisma.user.findMany({
    where: { tenantId },
    orderBy: { name: 'asc' },
    select: { id: true, name: true, email: true, ssn: true, notes: true },
  });
}

/** What `promise` rejects with, or `undefined` when it resolves: for asserting on an error's type and message. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Every text value of every column of every row of `table`, as the database stores it. */
export async function tableText(db: TestDatabase, table: string): Promise<string[]> {
  const rows = await db.query<Record<string, unknown>>(`SELECT * FROM "${table}"`);
  return rows.flatMap((row) =>
    Object.values(row).map((value) => (value instanceof Date ? value.toISOString() : String(value))),
  );
}

/** Asserts that no plaintext appears in any column of any row of `table`. */
export async function expectNoPlaintextIn(
  db: TestDatabase,
  table: string,
  plaintexts: readonly string[],
): Promise<void> {
  const text = (await tableText(db, table)).join('\n');
  for (const plain of plaintexts) expect(text.includes(plain)).toBe(false);
}

/** Asserts that no query and no parameter Prisma logged contains any of `plaintexts`. */
export function expectNoPlaintextInLog(queries: readonly LoggedQuery[], plaintexts: readonly string[]): void {
  const text = queries.map((q) => `${q.query}\n${q.params}`).join('\n');
  for (const plain of plaintexts) expect(text.includes(plain)).toBe(false);
}

export { isEnvelope };

/** Wraps a keyring and counts its calls. */
export class CountingKeyring implements Keyring {
  calls = 0;
  constructor(private readonly inner: Keyring) {}
  get id(): string {
    return this.inner.id;
  }
  wrapKey(key: Buffer, context: Record<string, string>): Promise<Buffer> {
    this.calls++;
    return this.inner.wrapKey(key, context);
  }
  unwrapKey(wrapped: Buffer, context: Record<string, string>): Promise<Buffer> {
    this.calls++;
    return this.inner.unwrapKey(wrapped, context);
  }
}

/** The wrapped data key inside an envelope (`hfe$1$keyId$version$wrappedDek$sealed`). */
export function wrappedDek(envelope: string): string {
  return envelope.split('$')[4];
}
