// Setup file of the Jest project `sqlite` (jest.config.js): the integration suites run on sqlite.
process.env.HUSHFIELD_TEST_PROVIDER = 'sqlite';
// Through better-sqlite3 (the project `libsql` sets the libSQL adapter instead).
delete process.env.HUSHFIELD_SQLITE_DRIVER;
