/**
 * `reencrypt` against a KMS that throttles or goes down (the loopback KMS emulator, spoken to
 * by the real AWS SDK through `AwsKmsKeyring`): throttling slows the run (it backs off and
 * retries), an outage stops it with a clear message and its checkpoint, and the next run
 * resumes from there once the KMS is back.
 */
import { FieldCrypto } from '@hushfield/core';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import { PrismaKeyStore } from '@hushfield/prisma';
import { kmsAdmin, startKmsEmulator } from '../kms/emulator';
import type { KmsEmulator } from '../kms/emulator';
import { createCliWorld, insertRows } from './support';
import type { CliWorld } from './support';

let world: CliWorld;
let kms: KmsEmulator;
let keyring: AwsKmsKeyring;
const ROWS = 6000;

beforeAll(async () => {
  world = await createCliWorld();
  kms = await startKmsEmulator();
  const key = await kmsAdmin(kms).createKey();
  keyring = new AwsKmsKeyring({
    keyId: key.arn,
    clientConfig: { endpoint: kms.endpoint, region: kms.region, credentials: kms.credentials, maxAttempts: 1 },
    retry: { maxAttempts: 2, baseDelayMs: 10 },
    timeoutMs: 1000,
  });
  await insertRows(world.db, 'customers', ['email', 'phone'], ROWS, (i) => [`k${i}@example.org`, `p${i}`]);
}, 120_000);

afterAll(async () => {
  keyring?.destroy();
  await kms?.stop();
  await world?.close();
});

async function checkpoint(): Promise<{ cursor: string | null; processed: number; state: string } | undefined> {
  const [row] = await world.db.query<{ cursor: string | null; processed: number; state: string }>(
    `SELECT "cursor", processed, state FROM hushfield_checkpoints WHERE id = 'reencrypt:Customer'`,
  );
  return row;
}

test('throttling slows the run down, which backs off, retries and finishes', async () => {
  kms.faults.throttle(4);
  const result = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], { config: { keyring } });
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/keyring unavailable .*; retrying in 500 ms \(attempt 2\/5\)/);
  expect(result.stderr).toMatch(/retrying in 1000 ms \(attempt 3\/5\)/);
  expect(result.json.models[0]).toMatchObject({ scanned: ROWS, written: ROWS, failed: 0 });
  expect(kms.calls.total).toBeGreaterThanOrEqual(5); // 4 throttled answers, then served
});

test('an outage mid-run stops it with a clear message; the next run resumes from the checkpoint', async () => {
  const rotated = await world.runCli(['keys', 'rotate', '--scope', 'default', '--json'], { config: { keyring } });
  expect(rotated.code).toBe(0);
  // A short key-cache TTL makes the run go back to the KMS while it works; the KMS goes down
  // once the run has re-fetched its keys after the first expiry (counted through the audit
  // sink, so the trigger neither polls the database the run is busy with nor depends on speed).
  let unwraps = 0;
  let outage: Promise<void> | undefined;
  const audit = {
    emit(event: { operation: string }) {
      if (event.operation === 'keyring.unwrap' && ++unwraps >= 6 && !outage) outage = kms.faults.outage();
    },
  };
  const config = { keyring, cache: { ttlMs: 100 } };
  const running = world.runCli(
    ['reencrypt', '--model', 'Customer', '--batch', '50', '--concurrency', '1', '--keyring-attempts', '2', '--json'],
    { config: { ...config, audit } },
  );
  const stopped = await running;
  expect(stopped.code).toBe(3);
  expect(stopped.json.stopped).toMatchObject({ model: 'Customer', code: 'HUSHFIELD_KEYRING' });
  expect(stopped.stderr).toMatch(/keyring unavailable/);
  expect(outage).toBeDefined();
  const atStop = await checkpoint();
  expect(atStop?.state).toBe('running');
  expect(atStop?.processed).toBeGreaterThan(0);
  expect(atStop?.processed).toBeLessThan(ROWS);

  const human = await world.runCli(['reencrypt', '--model', 'Customer', '--keyring-attempts', '1'], { config });
  expect(human.code).toBe(1);
  expect(human.stdout).toContain('rerun the same command to resume');

  await kms.faults.restore();
  const resumed = await world.runCli(['reencrypt', '--model', 'Customer', '--json'], { config });
  expect(resumed.code).toBe(0);
  expect(resumed.json.models[0].resumedFrom).toBe(atStop?.cursor);
  expect(resumed.json.models[0].failed).toBe(0);

  const crypto = new FieldCrypto({ keyring, keyStore: new PrismaKeyStore(world.prisma), cache: { ttlMs: 60_000 } });
  const rows = await world.db.query<{ id: number; email: string }>('SELECT id, email FROM customers ORDER BY id');
  const emails = await crypto.decryptMany(
    rows.map((row) => ({ value: row.email, ctx: { model: 'customers', field: 'email' } })),
  );
  rows.forEach((row, i) => {
    expect(crypto.describe(row.email).version).toBe(2);
    expect(emails[i]).toBe(`k${row.id}@example.org`);
  });
});
