/**
 * What the isolation suites (cas-isolation, run-isolation, reencrypt-isolation,
 * key-store-isolation) share: sessions at an isolation level other than PostgreSQL's read
 * committed, and waiting until a call started on one connection is blocked on a lock another
 * holds, so that a race is driven in a fixed order (the holder goes on only once the database
 * shows the waiter queued behind it).
 */
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { isolatedMysqlAdapter, type TestDatabase } from './database';

/**
 * Makes `level` (`repeatable read`, `serializable`) the default of the new sessions of the
 * PostgreSQL database `db` (`ALTER DATABASE ... SET default_transaction_isolation`): this test's
 * database only, the server's setting stays as it is. Call it before any client connects.
 * Nothing on another provider, nor with `null` (the sessions' own default).
 */
export async function setDefaultIsolation(db: TestDatabase, level: string | null): Promise<void> {
  if (db.provider !== 'postgresql' || level === null) return;
  const name = new URL(db.url as string).pathname.slice(1);
  await db.query(`ALTER DATABASE "${name}" SET default_transaction_isolation = '${level}'`);
}

/**
 * A driver adapter on `db` whose sessions run at `level`: on MySQL/MariaDB each session sets it
 * (`isolatedMysqlAdapter`); elsewhere `db.adapter()`, PostgreSQL's sessions taking it from
 * {@link setDefaultIsolation}. With `null`, the sessions' own default.
 */
export function adapterAt(db: TestDatabase, level: string | null): SqlDriverAdapterFactory {
  return db.provider === 'mysql' && level !== null ? isolatedMysqlAdapter(db, level) : db.adapter();
}

/** How often, and how many times, the database is asked (30 s in all). */
const POLL_MS = 25;
const POLLS = 1200;

/**
 * How many other sessions of `db` wait for a lock in a statement whose text is LIKE `like`.
 * PostgreSQL: `pg_stat_activity` shows the lock wait. MariaDB lists a prepared statement waiting
 * for a row lock in its processlist, though not always in `INNODB_TRX` as `LOCK WAIT`: there a
 * session still running such a statement while the holder (idle in its transaction) keeps the
 * lock is one that waits.
 */
async function lockWaits(db: TestDatabase, like: string): Promise<number> {
  if (db.provider === 'postgresql') {
    const [{ n }] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() ' +
        "AND wait_event_type = 'Lock' AND query LIKE $1",
      [like],
    );
    return Number(n);
  }
  const [{ n }] = await db.query<{ n: number | bigint }>(
    'SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() ' +
      "AND COMMAND IN ('Query', 'Execute') AND INFO LIKE $1",
    [like],
  );
  return Number(n);
}

/**
 * Resolves once a session of `db` (a database only the calling test file uses) waits for a lock
 * in a statement on `table`; on MySQL/MariaDB, in one whose text is LIKE `mysqlLike` when given
 * (`%UPDATE%<table>%`: only an update of it). On SQLite a call of the same client queues on the
 * client's one connection instead, which nothing shows: a turn of the event loop lets it start.
 * @throws Error when no session waits within 30 s
 */
export async function waitingForLock(db: TestDatabase, table: string, mysqlLike?: string): Promise<void> {
  if (db.provider === 'sqlite') return new Promise((resolve) => setImmediate(resolve));
  const like = db.provider === 'postgresql' ? `%${table}%` : (mysqlLike ?? `%${table}%`);
  for (let tries = 0; tries < POLLS; tries++) {
    if ((await lockWaits(db, like)) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`no session of the test database waited for a lock on ${table}`);
}
