/**
 * For a test's child process (run with `node --import tsx`, outside Jest and so without its
 * module map): the generated client of the provider `HUSHFIELD_TEST_PROVIDER` names, and its
 * hushfield schema, on the driver that provider's Jest project uses.
 */
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { HushfieldSchema } from '@hushfield/prisma';
import type { PrismaClient as PostgresClient } from '../../prisma/generated/client/client';
import { testProvider } from './provider';

/**
 * A client and schema on `url` (PostgreSQL, MySQL/MariaDB or a SQLite file).
 * @param options - `connectionLimit`: the MariaDB pool's size (the driver's default when left out)
 */
export async function connectChild(
  url: string,
  options: { connectionLimit?: number } = {},
): Promise<{ prisma: PostgresClient; schema: HushfieldSchema }> {
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
      ...(options.connectionLimit === undefined ? {} : { connectionLimit: options.connectionLimit }),
    });
  } else if (provider === 'sqlite' && process.env.HUSHFIELD_SQLITE_DRIVER === 'libsql') {
    // The Jest project `libsql`: the child goes through the same driver as its parent.
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
