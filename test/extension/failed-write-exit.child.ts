/**
 * The process of `failed-write-exit.test.ts`: a `createMany` across three tenants whose key
 * creation fails for one of them while the other two are still being created, the client closed
 * on the error as an application does, then nothing more: the process must exit by itself (no
 * `process.exit`). Connects to `DATABASE_URL` on the provider `HUSHFIELD_TEST_PROVIDER` names.
 * Run with `node --import tsx` and `TSX_TSCONFIG_PATH` mapping `@hushfield/*` to the sources.
 */
import { randomBytes } from 'node:crypto';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { KeyStoreError, LocalKeyring, type NewStoredKey, type StoredKey } from '@hushfield/core';
import { fieldEncryption, PrismaKeyStore, type HushfieldSchema } from '@hushfield/prisma';
import type { PrismaClient as PostgresClient } from '../../prisma/generated/client/client';
import { testProvider } from '../support/provider';

/** The provider's generated client and schema on `url`, outside Jest (so without its module map). */
async function connect(url: string): Promise<{ prisma: PostgresClient; schema: HushfieldSchema }> {
  const provider = testProvider();
  let adapter: SqlDriverAdapterFactory;
  if (provider === 'mysql') {
    const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
    const parsed = new URL(url);
    adapter = new PrismaMariaDb({
      host: parsed.hostname,
      port: Number(parsed.port || 3306),
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database: parsed.pathname.slice(1),
      connectionLimit: 4,
    });
  } else if (provider === 'sqlite' && process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql') {
    const { PrismaLibSql } = await import('@prisma/adapter-libsql');
    adapter = new PrismaLibSql({ url, timeout: 10_000 }) as unknown as SqlDriverAdapterFactory;
  } else if (provider === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    adapter = new PrismaBetterSqlite3({ url, timeout: 10_000 });
  } else {
    const { PrismaPg } = await import('@prisma/adapter-pg');
    adapter = new PrismaPg({ connectionString: url });
  }
  const generated = provider === 'postgresql' ? '../../prisma/generated' : `../../prisma/${provider}/generated`;
  const { PrismaClient } = (await import(`${generated}/client/client`)) as { PrismaClient: typeof PostgresClient };
  const { hushfieldSchema } = (await import(`${generated}/hushfield`)) as { hushfieldSchema: HushfieldSchema };
  return { prisma: new PrismaClient({ adapter }), schema: hushfieldSchema };
}

/** Fails the insert of `failing`'s key once the other two tenants' inserts run (300 ms each). */
class FailingWhileOthersRun extends PrismaKeyStore {
  #started = 0;
  #othersStarted!: () => void;
  readonly #others = new Promise<void>((resolve) => (this.#othersStarted = resolve));

  constructor(
    client: unknown,
    private readonly failing: string,
  ) {
    super(client);
  }

  /** Not the default store written out: the extension uses it as given. */
  override isOver(): boolean {
    return false;
  }

  override async insert(key: NewStoredKey): Promise<StoredKey> {
    if (key.scope === this.failing) {
      await this.#others;
      throw new KeyStoreError('the key store transaction timed out (simulated)', key, {});
    }
    if (++this.#started === 2) this.#othersStarted();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return super.insert(key);
  }
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const { prisma, schema } = await connect(url);
  const tenants = ['a', 'b', 'c'].map((name) => `exit-${name}-${randomBytes(3).toString('hex')}`);
  const app = prisma.$extends(
    fieldEncryption({
      schema,
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new FailingWhileOthersRun(prisma, tenants[2]),
    }),
  );
  try {
    await app.user.createMany({
      data: tenants.map((tenantId) => ({ tenantId, name: tenantId, email: `owner@${tenantId}.example.com` })),
    });
    process.stdout.write('created\n');
  } catch (error) {
    process.stdout.write(`${error instanceof Error ? error.name : 'error'}\n`);
  } finally {
    await prisma.$disconnect();
    process.stdout.write('disconnected\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exitCode = 1;
});
