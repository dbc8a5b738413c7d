/**
 * Whether the database behind a Prisma client stores text holding U+0000 as written: a scope or
 * a bound value (a row id) holding one is refused up front where it does not, since a key or a
 * row stored under another value than the one its values were sealed for never opens.
 */

/**
 * Why the database behind `client` cannot take text holding U+0000 as written, or `undefined`
 * where it can (MySQL, MariaDB, SQLite through better-sqlite3).
 * @param client - a Prisma client (extended or not); read for its provider and driver adapter only
 * @returns `'postgresql text cannot hold one'` (PostgreSQL, CockroachDB: the query fails with the
 *   database's own error, 22021), `'the libSQL driver cuts text at one'` (the value would be
 *   stored cut short), else `undefined`
 */
export function nulRefusal(client: unknown): string | undefined {
  const config = client as {
    _activeProvider?: unknown;
    _engineConfig?: { activeProvider?: unknown; adapter?: { adapterName?: unknown } };
  } | null;
  const provider = config?._activeProvider ?? config?._engineConfig?.activeProvider;
  if (provider === 'postgresql' || provider === 'cockroachdb') return `${provider} text cannot hold one`;
  const adapter = config?._engineConfig?.adapter?.adapterName;
  if (typeof adapter === 'string' && /libsql/i.test(adapter)) return 'the libSQL driver cuts text at one';
  return undefined;
}
