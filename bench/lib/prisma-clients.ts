/**
 * The two clients the Prisma benchmarks compare, on the same database and tables: the base
 * generated client writing plaintext, and the same client extended with `fieldEncryption`.
 */
import { FieldCrypto, type Keyring } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore } from '@hushfield/prisma';
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { hushfieldSchema as PostgresSchema } from '../../prisma/generated/hushfield';
import type { TestDatabase } from '../../test/support/database';
import type { TestProvider } from '../../test/support/provider';

/**
 * The generated client class and hushfield schema of `provider` (`prisma/generated/` for
 * PostgreSQL, `prisma/<provider>/generated/` for the schemas derived from it). The `User` and
 * `Post` models the benchmarks use are the same in each; typed as PostgreSQL's.
 */
export function generatedFor(provider: TestProvider): {
  PrismaClient: typeof PrismaClient;
  hushfieldSchema: typeof PostgresSchema;
} {
  const dir = provider === 'postgresql' ? '../../prisma/generated' : `../../prisma/${provider}/generated`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- chosen at run time, one provider per section
  const client = require(`${dir}/client/client`) as { PrismaClient: typeof PrismaClient };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
  const schema = require(`${dir}/hushfield`) as { hushfieldSchema: typeof PostgresSchema };
  return { PrismaClient: client.PrismaClient, hushfieldSchema: schema.hushfieldSchema };
}

/** The provider a client was generated for. */
function providerOf(client: PrismaClient): TestProvider {
  const provider = (client as unknown as { _activeProvider?: string })._activeProvider;
  return provider === 'mysql' || provider === 'sqlite' ? provider : 'postgresql';
}
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
  const { PrismaClient: Client } = generatedFor(db.provider);
  return new Client({ adapter: db.adapter() });
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
  options: {
    dekCache?: { maxEntries: number } | false;
    dekPool?: boolean;
    ttlMs?: number;
    /** `false`: every value decrypted on the calling thread (default: large reads shared with the decrypt thread). */
    parallelDecrypt?: false;
  } = {},
): EncryptedClient {
  const crypto = new FieldCrypto({
    keyring,
    keyStore: new PrismaKeyStore(base),
    cache: { ttlMs: options.ttlMs ?? 60 * 60_000 },
    ...(options.dekCache === undefined ? {} : { dekCache: options.dekCache }),
    ...(options.dekPool === true ? { dekPool: {} } : {}),
    ...(options.parallelDecrypt === false ? { parallelDecrypt: false as const } : {}),
  });
  const { hushfieldSchema } = generatedFor(providerOf(base));
  const client = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, crypto }));
  return { users: client.user as unknown as UserOps, crypto };
}

/** Empties the tables a benchmark writes (key store excepted: scope keys stay warm). */
export async function truncateUsers(db: TestDatabase): Promise<void> {
  if (db.provider === 'postgresql') {
    await db.query('TRUNCATE users, posts, accounts, passports');
    return;
  }
  for (const table of ['accounts', 'posts', 'passports', 'users']) await db.query(`DELETE FROM ${table}`);
}
