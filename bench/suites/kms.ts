/**
 * kms: what the key hierarchy saves. With the KMS emulator adding latency to every call,
 * hushfield (`AwsKmsKeyring` → scope keys → per-row DEKs) writes then reads N rows in 1 and in
 * 100 scopes; a naive envelope baseline wraps each row's DEK with KMS directly (Encrypt per
 * write, Decrypt per read). Keyring calls, KMS requests and wall time.
 */
import type { Keyring } from '@hushfield/core';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import type { PrismaClient } from '../../prisma/generated/client/client';
import { kmsAdmin, startKmsEmulator, type KmsEmulator } from '../../test/kms/emulator';
import type { TestDatabase } from '../../test/support/database';
import { CountingKeyring, totalCalls } from '../lib/counting-keyring';
import { chunks, userInputs } from '../lib/fixtures';
import { median, timeOnce, type RunPlan } from '../lib/measure';
import { runNaive } from './kms-naive';
import { encryptedClient, plainClient, truncateUsers } from '../lib/prisma-clients';
import { count, ms, ratio, type Section, type TargetCheck } from '../lib/report';

/** Sizes and repetitions; the defaults are the published benchmark. */
export interface KmsBenchOptions {
  readonly db: TestDatabase;
  readonly rows?: number;
  readonly scopeCounts?: readonly number[];
  /** Latency the emulator adds to every call. */
  readonly latencyMs?: number;
  /** Rows the naive baseline really runs; its results are extrapolated to `rows`. */
  readonly naiveRows?: number;
  readonly plan?: RunPlan;
  readonly log?: (line: string) => void;
}

/** One hushfield run's measurements. */
export interface Measured {
  writeMs: number;
  coldReadMs: number;
  warmReadMs: number;
  writeCalls: number;
  coldReadCalls: number;
  warmReadCalls: number;
  kmsRequests: Record<string, number>;
}

/** Starts an emulator with one symmetric key; returns a keyring on it. */
async function kmsKeyring(emulator: KmsEmulator): Promise<AwsKmsKeyring> {
  const { arn } = await kmsAdmin(emulator).createKey({ description: 'hushfield bench root key' });
  return new AwsKmsKeyring({
    keyId: arn,
    clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials },
  });
}

/** What every run shares: the scratch database, the base client, the root keyring and its service's request counts. */
export interface Setting {
  readonly db: TestDatabase;
  readonly base: PrismaClient;
  readonly root: Keyring;
  readonly service: { reset(): void; snapshot(): Record<string, number> };
}

/** Writes `rows` rows over `scopes` scopes through hushfield, then reads them back cold and warm. */
export async function oneRun(
  { db, base, root, service }: Setting,
  scopes: number,
  rows: number,
  tag: string,
): Promise<Measured> {
  // A clean slate each run: no rows, no scope keys, so the write creates them.
  await truncateUsers(db);
  await db.query('TRUNCATE hushfield_keys');
  const keyring = new CountingKeyring(root);
  service.reset();
  const data = userInputs(0, rows, tag, scopes);
  const writer = encryptedClient(base, keyring);
  const writeMs = await timeOnce(async () => {
    for (const part of chunks(data, 1_000)) await writer.users.createMany({ data: part });
  });
  const writeCalls = totalCalls(keyring.calls);
  keyring.reset();
  // Another process reading: fresh caches, so the scope keys are unwrapped again.
  const reader = encryptedClient(base, keyring);
  let read: Record<string, unknown>[] = [];
  const coldReadMs = await timeOnce(async () => {
    read = await reader.users.findMany();
  });
  if (read.length !== rows || read[0].email === undefined || String(read[0].email).indexOf('@') < 0) {
    throw new Error('the read did not return the rows written');
  }
  const coldReadCalls = totalCalls(keyring.calls);
  keyring.reset();
  const warmReadMs = await timeOnce(() => reader.users.findMany());
  const warmReadCalls = totalCalls(keyring.calls);
  return {
    writeMs,
    coldReadMs,
    warmReadMs,
    writeCalls,
    coldReadCalls,
    warmReadCalls,
    kmsRequests: service.snapshot(),
  };
}

/** Runs the KMS benchmark. */
export async function runKmsBench(options: KmsBenchOptions): Promise<Section> {
  const { db } = options;
  const rows = options.rows ?? 10_000;
  const scopeCounts = options.scopeCounts ?? [1, 100];
  const latencyMs = options.latencyMs ?? 5;
  // The naive baseline makes two sequential KMS calls per row, so its time is linear in rows:
  // 250 rows × 3 runs measure the per-row cost as well as 1,000 did, in a quarter of the time.
  const naiveRows = Math.min(options.naiveRows ?? 250, rows);
  const plan = options.plan ?? { warmup: 1, runs: 3 };
  const log = options.log ?? (() => undefined);

  const emulator = await startKmsEmulator();
  const aws = await kmsKeyring(emulator);
  emulator.faults.latencyMs = latencyMs;
  const base = plainClient(db);
  const setting: Setting = { db, base, root: aws, service: emulator.calls };
  const resultRows: string[][] = [];
  const targets: TargetCheck[] = [];
  const hushfieldMs: { scopes: number; total: number }[] = [];

  try {
    // Every run starts from an empty key store, so only the code needs warming: once, on a
    // tenth of the rows, not a full run per case.
    for (let run = 0; run < plan.warmup; run += 1)
      await oneRun(setting, scopeCounts[0], Math.ceil(rows / 10), `kw${run}`);
    for (const scopes of scopeCounts) {
      log(`kms: hushfield, ${count(rows)} rows in ${scopes} scope(s)`);
      const runs: Measured[] = [];
      for (let run = 0; run < plan.runs; run += 1) {
        const measured = await oneRun(setting, scopes, rows, `k${scopes}-${run}`);
        runs.push(measured);
      }
      const pick = (f: (m: Measured) => number): number => median(runs.map(f));
      const last = runs[runs.length - 1];
      const total = pick((m) => m.writeMs + m.coldReadMs);
      hushfieldMs.push({ scopes, total });
      resultRows.push([
        `hushfield, ${scopes} scope${scopes === 1 ? '' : 's'}`,
        count(rows),
        `${last.writeCalls} / ${last.coldReadCalls} / ${last.warmReadCalls}`,
        Object.entries(last.kmsRequests)
          .map(([op, n]) => `${op} ${n}`)
          .join(', '),
        ms(pick((m) => m.writeMs)),
        ms(pick((m) => m.coldReadMs)),
        ms(pick((m) => m.warmReadMs)),
        ms(total),
      ]);
      // Keys in use: one per scope, plus the blind-index root key.
      const allowed = scopes + 1;
      targets.push({
        target: `≤ 1 keyring call per key per TTL, ${scopes} scope${scopes === 1 ? '' : 's'} (${scopes} scope key${scopes === 1 ? '' : 's'} + 1 index key)`,
        measured: `write ${last.writeCalls}, cold read ${last.coldReadCalls}, warm read ${last.warmReadCalls}`,
        met: last.writeCalls <= allowed && last.coldReadCalls <= allowed && last.warmReadCalls === 0,
      });
    }

    log(`kms: naive baseline, ${count(naiveRows)} rows (extrapolated to ${count(rows)})`);
    const naive = await runNaive({
      db,
      base,
      keyring: aws,
      emulator,
      rows: naiveRows,
      plan: { warmup: 0, runs: plan.runs },
    });
    const scale = rows / naiveRows;
    const naiveTotal = (naive.writeMs + naive.readMs) * scale;
    resultRows.push([
      `naive: KMS Encrypt/Decrypt per row${scale === 1 ? '' : ` (ran ${count(naiveRows)}, ×${scale} extrapolated)`}`,
      count(rows),
      `${count(naive.writeCalls * scale)} / ${count(naive.readCalls * scale)} / ${count(naive.readCalls * scale)}`,
      Object.entries(naive.kmsRequests)
        .map(([op, n]) => `${op} ${count(n * scale)}`)
        .join(', '),
      ms(naive.writeMs * scale),
      ms(naive.readMs * scale),
      ms(naive.readMs * scale),
      ms(naiveTotal),
    ]);
    return {
      id: 'kms',
      title: `kms: keyring calls and wall time with ${latencyMs} ms per KMS call`,
      command: 'pnpm bench kms',
      intro:
        `The KMS emulator (\`test/kms/emulator\`, the real \`@aws-sdk/client-kms\` over loopback HTTP) adds ${latencyMs} ms to every call. ` +
        `hushfield: \`AwsKmsKeyring\` as the root keyring, \`PrismaKeyStore\`, \`User\` rows written with \`createMany\` in chunks of 1,000 ` +
        'spread round robin over the scopes (tenantId), starting from an empty key store each run (so writes create the scope keys), then read ' +
        'back by a second client with fresh caches ("cold", as another process would) and once more by that client ("warm"). ' +
        'Naive: the same rows and tables, each row a fresh DEK wrapped by KMS `Encrypt` on write and unwrapped by KMS `Decrypt` on read ' +
        '(sequential calls, AES-256-GCM values, HMAC indexes, no caching).',
      tables: [
        {
          title: `Writing then reading ${count(rows)} User rows (3 encrypted fields each)`,
          columns: [
            'case',
            'rows',
            'keyring calls write / cold read / warm read',
            'KMS requests (emulator, whole run)',
            'write',
            'read cold',
            'read warm',
            'write + cold read',
          ],
          rows: resultRows,
          notes: [
            `Medians of ${plan.runs} runs, after ${plan.warmup} warm-up run(s) of ${count(Math.ceil(rows / 10))} rows before the first case (each run starts from an empty key store, so only the code needs warming); call counts from the last run (they do not vary).`,
            ...hushfieldMs.map(
              (f) =>
                `hushfield with ${f.scopes} scope(s) is ${ratio(naiveTotal / f.total)} faster than the naive baseline (write + cold read).`,
            ),
          ],
        },
      ],
      targets,
    };
  } finally {
    await truncateUsers(db);
    await db.query('TRUNCATE hushfield_keys');
    await base.$disconnect();
    aws.destroy();
    await emulator.stop();
  }
}
