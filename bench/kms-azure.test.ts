/**
 * Smoke test of the Azure keyring measurement (bench/suites/kms-azure.ts) at tiny sizes: one
 * keyring call per key, whatever the number of rows, through the SDK and the Key Vault fake.
 */
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { azureKeyringTable, runAzureKeyringBench } from './suites/kms-azure';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.close();
});

it('counts one Key Vault call per key per TTL with the Azure keyring', async () => {
  const cases = await runAzureKeyringBench({ db, rows: 60, scopeCounts: [1, 3] });
  // write: the scope keys + the index key; cold read: the scope keys; warm read: none.
  expect(cases.map((c) => `${c.writeCalls} / ${c.coldReadCalls} / ${c.warmReadCalls}`)).toEqual([
    '2 / 1 / 0',
    '4 / 3 / 0',
  ]);
  expect(cases.map((c) => c.kmsRequests)).toEqual([
    { wrapkey: 2, unwrapkey: 1 },
    { wrapkey: 4, unwrapkey: 3 },
  ]);
  expect(azureKeyringTable(cases)).toContain('| 3 | 60 | 4 / 3 / 0 | wrapkey 4, unwrapkey 3 |');
}, 120_000);
