// Setup file of the Jest project `mysql` (jest.config.js): the integration suites run on mysql.
process.env.HUSHFIELD_TEST_PROVIDER = 'mysql';
