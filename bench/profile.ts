/**
 * `pnpm exec tsx --tsconfig bench/tsconfig.json bench/profile.ts <scenario> [seconds]`: runs one
 * hot path under V8's CPU profiler (the one `node --cpu-prof` uses, started through
 * `node:inspector` after the setup so seeding is not in the profile) and records the hot spots
 * (self and total time per function) as a section of bench/RESULTS.md.
 * Scenarios: value-16, value-4k, value-1m, blind-index, findmany, findmany-warm, findunique, create,
 * reencrypt (the CLI's `run()` in this process on 20,000 legacy `Customer` rows per iteration).
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector';
import { Client } from 'pg';
import { hotSpots, type HotSpot } from './lib/cpu-profile';
import { describeEnvironment } from './lib/environment';
import { renderSection, type Section, type Table } from './lib/report';
import { writeResults } from './lib/results-file';

const SCENARIOS = [
  'value-16',
  'value-4k',
  'value-1m',
  'blind-index',
  'findmany',
  'findmany-warm',
  'findunique',
  'create',
  'reencrypt',
] as const;
type Scenario = (typeof SCENARIOS)[number];
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Prepares a scenario; returns one iteration of the hot path and a cleanup. */
type Prepared = { iteration: () => Promise<unknown>; close: () => Promise<void> };

async function prepare(scenario: Scenario): Promise<Prepared> {
  const { FieldCrypto, LocalKeyring, MemoryKeyStore } = await import('@hushfield/core');
  if (scenario.startsWith('value-') || scenario === 'blind-index') {
    const crypto = new FieldCrypto({
      keyring: new LocalKeyring(randomBytes(32)),
      keyStore: new MemoryKeyStore(),
      cache: { ttlMs: 3_600_000 },
      dekCache: false,
    });
    const size = scenario === 'value-16' ? 16 : scenario === 'value-4k' ? 4096 : scenario === 'value-1m' ? 1 << 20 : 32;
    const plaintext = randomBytes(size).toString('base64').slice(0, size);
    const ctx = { model: 'users', field: 'notes', rowId: 'row-1' };
    const spec = {
      model: 'users',
      field: 'email',
      name: 'email_idx',
      normalize: ['lowercase', 'trim'] as const,
      bits: 256,
    };
    const roundTrip = async (): Promise<void> => {
      const encryptor = await crypto.rowEncryptor('default');
      const stored = encryptor.encrypt(plaintext, ctx);
      encryptor.dispose();
      await crypto.decrypt(stored, ctx);
    };
    await roundTrip();
    await crypto.blindIndex(spec, plaintext);
    return {
      iteration: scenario === 'blind-index' ? () => crypto.blindIndex(spec, plaintext) : roundTrip,
      close: async () => undefined,
    };
  }
  const { createTestDatabase } = await import('../test/support/database');
  const { encryptedClient, plainClient, truncateUsers } = await import('./lib/prisma-clients');
  const { userInputs } = await import('./lib/fixtures');
  const { insertEncryptedUsers } = await import('./lib/seed-users');
  const db = await createTestDatabase();
  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  const writer = encryptedClient(base, keyring).users;
  const close = async (): Promise<void> => {
    await base.$disconnect();
    await db.close();
  };
  if (scenario === 'reencrypt') {
    const { run } = await import('@hushfield/cli');
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const { PrismaClient } = await import('../prisma/generated/client/client');
    const { hushfieldSchema } = await import('../prisma/generated/hushfield');
    const { PassThrough } = await import('node:stream');
    const config = {
      schema: hushfieldSchema,
      keyring,
      prisma: () => new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url as string }) }),
      cache: { ttlMs: 3_600_000 },
    };
    const io = {
      stdout: new PassThrough().resume(),
      stderr: new PassThrough().resume(),
      stdin: new PassThrough(),
      stdinIsTTY: false,
      stderrIsTTY: false,
    };
    return {
      iteration: async () => {
        await db.query('TRUNCATE customers, hushfield_checkpoints RESTART IDENTITY');
        await db.query(
          `INSERT INTO customers (email, phone) SELECT 'Customer.' || g || '@Example.com', '+1 555 ' || g FROM generate_series(1, 20000) AS g`,
        );
        const code = await run(['reencrypt', '--model', 'Customer', '--json'], {
          io,
          config: { path: 'bench/profile.ts', config, module: {} },
        });
        if (code !== 0) throw new Error(`reencrypt exited with ${code}`);
      },
      close,
    };
  }
  if (scenario === 'create') {
    let run = 0;
    return {
      iteration: async () => {
        await truncateUsers(db);
        for (const row of userInputs(0, 200, `p${run}`, 10)) await writer.create({ data: row });
        run += 1;
      },
      close,
    };
  }
  await insertEncryptedUsers(
    db,
    encryptedClient(base, keyring, { dekCache: false }).crypto,
    userInputs(0, 10_000, 'p', 10),
  );
  const warm = encryptedClient(base, keyring).users;
  await warm.findMany();
  if (scenario === 'findunique') {
    const emails = Array.from(
      { length: 200 },
      (_, j) => `user.p.${String((j * 7919) % 10_000).padStart(6, '0')}@example.com`,
    );
    return {
      iteration: async () => {
        for (const email of emails) await warm.findUnique({ where: { email } });
      },
      close,
    };
  }
  return {
    iteration:
      scenario === 'findmany-warm' ? () => warm.findMany() : () => encryptedClient(base, keyring).users.findMany(),
    close,
  };
}

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

/** Runs `iteration` for `seconds` under the CPU profiler; returns the profile. */
async function profile(iteration: () => Promise<unknown>, seconds: number): Promise<object> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) await iteration();
    return (await post<{ profile: object }>(session, 'Profiler.stop')).profile;
  } finally {
    session.disconnect();
  }
}

function table(title: string, spots: readonly HotSpot[], count: number): Table {
  return {
    title,
    columns: ['function', 'self', 'self %', 'total', 'total %'],
    rows: spots
      .slice(0, count)
      .map((s) => [
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
  process.env.HUSHFIELD_TEST_BACKEND = 'postgres';
  const prepared = await prepare(scenario);
  let recorded: object;
  try {
    recorded = await profile(prepared.iteration, seconds);
  } finally {
    await prepared.close();
  }
  // Function-level shares; "(program)" and "(idle)" are V8 and the event loop waiting (I/O).
  const all = hotSpots(recorded);
  const ours = all.filter((s) => s.where.includes('packages/')).sort((a, b) => b.totalMs - a.totalMs);
  const section: Section = {
    id: `profile-${scenario}`,
    title: `profile: ${scenario} (V8 CPU profile, ${seconds} s of the hot loop)`,
    command: `pnpm exec tsx --tsconfig bench/tsconfig.json bench/profile.ts ${scenario} ${seconds}`,
    tables: [
      table('Top functions by self time (everything)', all, 15),
      table('hushfield functions by total time', ours, 12),
    ],
    targets: [],
  };
  process.stdout.write(`${renderSection(section)}\n`);
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await client.end();
  writeResults([section], describeEnvironment(version));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
