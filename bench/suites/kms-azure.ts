/**
 * kms-azure: the kms benchmark's measurement (write N rows over S scopes, read them back cold
 * and warm, count keyring calls) with `AzureKeyVaultKeyring` (A256KW, through the official SDK)
 * against the loopback Key Vault fake, so its calls per scope per TTL are measured like AWS's.
 * Not part of `pnpm bench`'s published sections: run it alone,
 * `TEST_DATABASE_URL=... npx tsx --tsconfig bench/tsconfig.json bench/suites/kms-azure.ts [rows]`.
 */
import { AzureKeyVaultKeyring } from '@hushfield/kms-azure';
import { startAzureFake } from '../../test/keyrings/azure/server';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { plainClient, truncateUsers } from '../lib/prisma-clients';
import { oneRun, type Measured } from './kms';

/** One case: the scope count and what the run measured. */
export interface AzureKeyringCase extends Measured {
  readonly scopes: number;
  readonly rows: number;
}

/** Runs the measurement once per scope count; every run starts from an empty key store. */
export async function runAzureKeyringBench(options: {
  readonly db: TestDatabase;
  readonly rows?: number;
  readonly scopeCounts?: readonly number[];
  readonly log?: (line: string) => void;
}): Promise<AzureKeyringCase[]> {
  const { db } = options;
  const rows = options.rows ?? 10_000;
  const log = options.log ?? (() => undefined);
  const fake = await startAzureFake({ kind: 'managedhsm' });
  fake.createKey('hushfield', 'oct-HSM');
  const root = new AzureKeyVaultKeyring(
    fake.keyringOptions({ clientOptions: { agent: fake.agent({ keepAlive: true }) } }),
  );
  const service = {
    reset: () => fake.reset(),
    // Requests that carried a token, by operation (the SDK's challenge round trips are left out).
    snapshot: () => ({ wrapkey: fake.count('/wrapkey'), unwrapkey: fake.count('/unwrapkey') }),
  };
  const base = plainClient(db);
  const cases: AzureKeyringCase[] = [];
  try {
    for (const scopes of options.scopeCounts ?? [1, 100]) {
      log(`kms-azure: ${rows} rows in ${scopes} scope(s)`);
      cases.push({ scopes, rows, ...(await oneRun({ db, base, root, service }, scopes, rows, `az${scopes}`)) });
    }
    return cases;
  } finally {
    await truncateUsers(db);
    await db.query('TRUNCATE hushfield_keys');
    await base.$disconnect();
    await fake.stop();
  }
}

/** A Markdown table of the cases. */
export function azureKeyringTable(cases: readonly AzureKeyringCase[]): string {
  const lines = [
    '| scopes | rows | keyring calls write / cold read / warm read | Key Vault requests | write ms | cold read ms | warm read ms |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const c of cases) {
    const requests = Object.entries(c.kmsRequests)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    const times = [c.writeMs, c.coldReadMs, c.warmReadMs].map((ms) => ms.toFixed(0)).join(' | ');
    lines.push(
      `| ${c.scopes} | ${c.rows} | ${c.writeCalls} / ${c.coldReadCalls} / ${c.warmReadCalls} | ${requests} | ${times} |`,
    );
  }
  return lines.join('\n');
}

if (require.main === module) {
  const rows = Number(process.argv[2] ?? 10_000);
  void (async () => {
    const db = await createTestDatabase();
    try {
      const cases = await runAzureKeyringBench({ db, rows, log: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(`${azureKeyringTable(cases)}\n`);
    } finally {
      await db.close();
    }
  })();
}
