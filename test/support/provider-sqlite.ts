// Setup file of the Jest project `sqlite` (jest.config.js): the integration suites run on sqlite.
process.env.HUSHFIELD_TEST_PROVIDER = 'sqlite';
