/**
 * `pnpm exec tsx --tsconfig bench/tsconfig.json bench/profile.ts <scenario>`: runs one hot
 * path under `node --cpu-prof` and records the hot spots (self and total time per function)
 * as a section of bench/RESULTS.md. Scenarios: value-16, value-4k, value-1m, blind-index,
 * findmany, create.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hotSpots, type HotSpot } from './lib/cpu-profile';
import { describeEnvironment, REPO_ROOT } from './lib/environment';
import type { Section, Table } from './lib/report';
import { writeResults } from './lib/results-file';

const SCENARIOS = ['value-16', 'value-4k', 'value-1m', 'blind-index', 'findmany', 'create'] as const;
type Scenario = (typeof SCENARIOS)[number];
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The profiled work, run in the child process. */
async function runScenario(scenario: Scenario, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  if (scenario.startsWith('value-') || scenario === 'blind-index') {
    const { FieldCrypto, LocalKeyring, MemoryKeyStore } = await import('@fieldseal/core');
    const crypto = new FieldCrypto({ keyring: new LocalKeyring(randomBytes(32)), keyStore: new MemoryKeyStore(), cache: { ttlMs: 3_600_000 }, dekCache: false });
    const size = scenario === 'value-16' ? 16 : scenario === 'value-4k' ? 4096 : scenario === 'value-1m' ? 1 << 20 : 32;
    const plaintext = randomBytes(size).toString('base64').slice(0, size);
    const ctx = { model: 'users', field: 'notes', rowId: 'row-1' };
    const spec = { model: 'users', field: 'email', name: 'email_idx', normalize: ['lowercase', 'trim'] as const, bits: 256 };
    while (Date.now() < until) {
      for (let i = 0; i < 100; i += 1) {
        if (scenario === 'blind-index') {
          await crypto.blindIndex(spec, plaintext);
        } else {
          const encryptor = await crypto.rowEncryptor('default');
          const stored = encryptor.encrypt(plaintext, ctx);
          encryptor.dispose();
          await crypto.decrypt(stored, ctx);
        }
      }
    }
    return;
  }
  const { createTestDatabase } = await import('../test/support/database');
  const { encryptedClient, plainClient, truncateUsers } = await import('./lib/prisma-clients');
  const { chunks, userInputs } = await import('./lib/fixtures');
  const { LocalKeyring } = await import('@fieldseal/core');
  const db = await createTestDatabase();
  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  try {
    if (scenario === 'findmany') {
      const writer = encryptedClient(base, keyring).users;
      for (const part of chunks(userInputs(0, 10_000, 'p', 10), 5_000)) await writer.createMany({ data: part });
      while (Date.now() < until) await encryptedClient(base, keyring).users.findMany();
    } else {
      const writer = encryptedClient(base, keyring).users;
      let run = 0;
      while (Date.now() < until) {
        await truncateUsers(db);
        for (const row of userInputs(0, 500, `p${run}`, 10)) await writer.create({ data: row });
        run += 1;
      }
    }
  } finally {
    await base.$disconnect();
    await db.close();
  }
}

function table(title: string, spots: readonly HotSpot[], count: number): Table {
  return {
    title,
    columns: ['function', 'self', 'self %', 'total', 'total %'],
    rows: spots.slice(0, count).map((s) => [
      `\`${s.where}\``,
      `${s.selfMs.toFixed(0)} ms`,
      `${(s.selfShare * 100).toFixed(1)} %`,
      `${s.totalMs.toFixed(0)} ms`,
      `${(s.totalShare * 100).toFixed(1)} %`,
    ]),
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  const scenario = args.find((arg) => (SCENARIOS as readonly string[]).includes(arg)) as Scenario | undefined;
  const seconds = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 8);
  if (!scenario) {
    process.stderr.write(`usage: profile.ts <${SCENARIOS.join('|')}> [seconds]\n`);
    return 2;
  }
  process.env.TEST_DATABASE_URL ||= DEFAULT_URL;
  process.env.FIELDSEAL_TEST_BACKEND = 'postgres';
  if (args.includes('--child')) {
    await runScenario(scenario, seconds);
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), 'fieldseal-profile-'));
  try {
    const child = spawnSync(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', join(__dirname, 'profile.ts'), scenario, String(seconds), '--child'],
      { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, 'tsconfig.json') } },
    );
    if (child.status !== 0) return child.status ?? 1;
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('node wrote no .cpuprofile');
    const all = hotSpots(join(dir, file));
    const ours = all.filter((s) => s.where.includes('packages/')).sort((a, b) => b.totalMs - a.totalMs);
    const section: Section = {
      id: `profile-${scenario}`,
      title: `profile: ${scenario} (node --cpu-prof, ${seconds} s)`,
      command: `pnpm exec tsx --tsconfig bench/tsconfig.json bench/profile.ts ${scenario} ${seconds}`,
      tables: [table('Top functions by self time (everything)', all, 15), table('fieldseal functions by total time', ours, 12)],
      targets: [],
    };
    const { renderSection } = await import('./lib/report');
    process.stdout.write(`${renderSection(section)}\n`);
    const { Client } = await import('pg');
    const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    await client.end();
    writeResults([section], describeEnvironment(version));
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
