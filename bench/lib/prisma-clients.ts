/**
 * The two clients the Prisma benchmarks compare, on the same database and tables: the base
 * generated client writing plaintext, and the same client extended with `fieldEncryption`.
 */
import { randomUUID } from 'node:crypto';
import { FieldCrypto, type Keyring } from '@fieldseal/core';
import { fieldEncryption, PrismaKeyStore } from '@fieldseal/prisma';
import { PrismaClient } from '../../prisma/generated/client/client';
import { fieldsealSchema } from '../../prisma/generated/fieldseal';
import type { TestDatabase } from '../../test/support/database';
import type { PlainUserInput, UserInput } from './fixtures';

/**
 * The `user` delegate methods the benchmarks call. The extension accepts rows without the
 * blind-index columns (it computes them), which the generated input types do not know.
 */
export interface UserOps {
  create(args: { data: UserInput | PlainUserInput }): Promise<{ id: string }>;
  createMany(args: { data: (UserInput | PlainUserInput)[] }): Promise<{ count: number }>;
  findMany(args?: object): Promise<Record<string, unknown>[]>;
  findUnique(args: { where: Record<string, unknown> }): Promise<Record<string, unknown> | null>;
  update(args: { where: Record<string, unknown>; data: Record<string, unknown> }): Promise<unknown>;
}

/** A base client on `db`. */
export function plainClient(db: TestDatabase): PrismaClient {
  return new PrismaClient({ adapter: db.adapter() });
}

/** The base client's `user` delegate, typed as {@link UserOps}. */
export function plainUsers(client: PrismaClient): UserOps {
  return client.user as unknown as UserOps;
}

/** An extended client and the `FieldCrypto` behind it. */
export interface EncryptedClient {
  readonly users: UserOps;
  readonly crypto: FieldCrypto;
}

/**
 * A fresh `FieldCrypto` (empty key and DEK caches: "cold") over the key store table, and the
 * base client extended with it. Creating another one on the same base client is cheap.
 */
export function encryptedClient(
  base: PrismaClient,
  keyring: Keyring,
  options: { dekCache?: { maxEntries: number } | false; ttlMs?: number } = {},
): EncryptedClient {
  const crypto = new FieldCrypto({
    keyring,
    keyStore: new PrismaKeyStore(base),
    cache: { ttlMs: options.ttlMs ?? 60 * 60_000 },
    ...(options.dekCache === undefined ? {} : { dekCache: options.dekCache }),
  });
  const client = base.$extends(fieldEncryption({ schema: fieldsealSchema, keyring, crypto }));
  return { users: client.user as unknown as UserOps, crypto };
}

/**
 * Inserts plaintext rows with one SQL statement per 10,000 rows, bypassing Prisma: only used
 * to fill tables quickly for read benchmarks, never timed.
 */
export async function insertPlainUsers(db: TestDatabase, rows: readonly PlainUserInput[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000) {
    const part = rows.slice(i, i + 10_000);
    await db.query(
      `INSERT INTO users (id, "tenantId", name, email, email_idx, ssn, ssn_idx, notes)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
      [
        part.map(() => randomUUID()),
        part.map((r) => r.tenantId),
        part.map((r) => r.name),
        part.map((r) => r.email),
        part.map((r) => r.emailIdx),
        part.map((r) => r.ssn),
        part.map((r) => r.ssnIdx),
        part.map((r) => r.notes),
      ],
    );
  }
}

/** Empties the tables a benchmark writes (key store excepted: scope keys stay warm). */
export async function truncateUsers(db: TestDatabase): Promise<void> {
  await db.query('TRUNCATE users, posts, accounts');
}
