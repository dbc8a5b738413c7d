// Setup file of the Jest project `libsql` (jest.config.js): the extension and key-store suites
// run on SQLite again, through @prisma/adapter-libsql (Turso's driver) instead of better-sqlite3.
process.env.HUSHFIELD_TEST_PROVIDER = 'sqlite';
process.env.HUSHFIELD_SQLITE_DRIVER = 'libsql';
