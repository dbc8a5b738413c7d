/**
 * The quick start, end to end: runs `examples/quickstart/src/demo.ts` the way `pnpm demo` does
 * (tsx, on the built packages and the generated client) with its database and root key in a
 * temporary directory, then checks what it printed and, independently, what its database holds.
 * The packages must be built (`pnpm test` builds them first; so does `pnpm demo`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyDestroyedError, LocalKeyring, isEnvelope } from '@hushfield/core';
import { fieldEncryption } from '@hushfield/prisma';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../examples/quickstart/prisma/generated/client/client';
import { hushfieldSchema } from '../examples/quickstart/prisma/generated/hushfield';
import { TENANTS } from '../examples/quickstart/src/fixtures';

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'quickstart');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface DemoRun {
  readonly code: number;
  readonly output: string;
}

/** Runs the demo in a child process with its state in `stateDir`. */
function runDemo(stateDir: string, args: readonly string[] = []): Promise<DemoRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, QUICKSTART_STATE_DIR: stateDir, NO_COLOR: '1' };
  delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not the demo's business
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, 'src/demo.ts', ...args],
      { cwd: EXAMPLE, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Opens the demo's database (after the demo closed it) for raw SQL and a hushfield client. */
async function openDemoDatabase(stateDir: string) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const db = await PGlite.create(join(stateDir, '.data'));
  const keyring = LocalKeyring.fromFile(join(stateDir, '.hushfield-key'));
  const base = new PrismaClient({ adapter: new PrismaPGlite(db) as unknown as SqlDriverAdapterFactory });
  const prisma = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring }));
  return {
    db,
    prisma,
    close: async () => {
      await base.$disconnect();
      await db.close();
    },
  };
}

const northside = TENANTS.find((t) => t.id === 'northside')!;
const secrets = TENANTS.flatMap((t) =>
  t.patients.flatMap((p) => [p.name, p.email, p.ssn, p.diagnosisNotes, p.visitNotes]),
);

describe('quickstart demo', () => {
  let stateDir: string;
  let first: DemoRun;

  beforeAll(async () => {
    // `pnpm test` generates the clients and builds the packages first, as `pnpm demo` does; a
    // bare Jest run on a fresh clone does it here.
    if (!existsSync(join(EXAMPLE, 'prisma', 'generated', 'hushfield', 'index.ts'))) {
      execFileSync(
        process.execPath,
        [join(ROOT, 'scripts', 'prisma-generate.js'), 'examples/quickstart/prisma/schema.prisma'],
        { cwd: ROOT },
      );
    }
    if (!existsSync(join(ROOT, 'packages', 'cli', 'dist', 'index.js'))) {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/cli'], {
        cwd: ROOT,
      });
    }
    stateDir = mkdtempSync(join(tmpdir(), 'hushfield-quickstart-'));
    first = await runDemo(stateDir);
  }, 600_000);

  afterAll(() => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('runs to completion on a fresh state directory, creating the key and the database', () => {
    expect(first.output).toContain('generated the local root key');
    expect(first.output).toContain('created the database');
    expect(first.output).toContain('Done.');
    expect(first.output).not.toContain('✗'); // the demo's own checks all held
    expect(first.code).toBe(0);
  });

  it('stores every encrypted column as an envelope and no written plaintext anywhere', async () => {
    expect(first.output).toMatch(/✓ none of the 25 sensitive values written appears anywhere/);
    const { db, close } = await openDemoDatabase(stateDir);
    try {
      const patients = await db.query<Record<string, string | null>>(
        'SELECT name, email, ssn, diagnosis_notes FROM patients',
      );
      const visits = await db.query<{ notes: string }>('SELECT notes FROM visits');
      const stored = [...patients.rows.flatMap((row) => Object.values(row)), ...visits.rows.map((row) => row.notes)];
      expect(stored).toHaveLength(5 * 4 + 5);
      for (const value of stored) expect(isEnvelope(value as string)).toBe(true);
      const dump = await db.query<{ t: string }>(
        "SELECT lower(string_agg(row_to_json(x)::text, '')) AS t FROM (SELECT * FROM patients) x " +
          "UNION ALL SELECT lower(string_agg(row_to_json(v)::text, '')) FROM visits v",
      );
      const text = dump.rows.map((row) => row.t).join('');
      for (const secret of secrets) expect(text).not.toContain(secret.toLowerCase());
    } finally {
      await close();
    }
  }, 120_000);

  it('finds the right patients by email and by SSN through blind indexes', () => {
    expect(first.output).toMatch(
      /findFirst\(\{ where: \{ email: ' {2}Ada\.Okafor@EXAMPLE\.com ' \} \}\)\s+→\s+found N-1001 Ada Okafor/,
    );
    expect(first.output).toMatch(
      /findUnique\(\{ where: \{ emailIdx: 'bruno\.silva@example\.com' \} \}\)\s+→\s+found N-1002 Bruno Silva/,
    );
    expect(first.output).toMatch(/findMany\(\{ where: \{ ssn: '900 34 5678' \} \}\)\s+→\s+found N-1003 Chen Wei\n/);
    // The SQL that was sent names the index column, and its parameter is not the address.
    expect(first.output).toMatch(/SQL sent: .*"email_idx" = \$1/);
    const params = /parameters: (\[[^\]]*\])/.exec(first.output)?.[1];
    expect(params).toMatch(/^\["v1\./);
    expect(params?.toLowerCase()).not.toContain('okafor');
  });

  it('refuses contains on an encrypted field before any query is sent', () => {
    expect(first.output).toContain('UnsupportedQueryError [HUSHFIELD_UNSUPPORTED_QUERY]');
    expect(first.output).toContain('✓ no query reached the database');
  });

  it('moves the rotated tenant to the new key version with hushfield reencrypt', () => {
    expect(first.output).toContain('$ hushfield keys rotate --scope northside');
    expect(first.output).toMatch(/after reencrypt:\s+\{"key v2":3\}/);
    expect(first.output).toContain('$ hushfield status');
  });

  it('leaves the shredded tenant unreadable and the other tenant readable', async () => {
    expect(first.output).toMatch(/harbor\s+unreadable KeyDestroyedError \[HUSHFIELD_KEY_DESTROYED\]/);
    expect(first.output).toMatch(/northside\s+readable\s+N-1001 Ada Okafor, N-1002 Bruno Silva, N-1003 Chen Wei/);
    const { db, prisma, close } = await openDemoDatabase(stateDir);
    try {
      const keys = await db.query<{ state: string; wrapped_key: string | null }>(
        "SELECT state, wrapped_key FROM hushfield_keys WHERE kind = 'scope' AND scope = 'harbor'",
      );
      expect(keys.rows.length).toBeGreaterThan(0);
      for (const key of keys.rows) expect(key).toEqual({ state: 'destroyed', wrapped_key: null });
      await expect(prisma.patient.findMany({ where: { tenantId: 'harbor' } })).rejects.toBeInstanceOf(
        KeyDestroyedError,
      );
      const readable = await prisma.patient.findMany({ where: { tenantId: 'northside' }, orderBy: { mrn: 'asc' } });
      expect(readable.map((p) => [p.mrn, p.name, p.email, p.ssn])).toEqual(
        northside.patients.map((p) => [p.mrn, p.name, p.email, p.ssn]),
      );
    } finally {
      await close();
    }
  }, 120_000);

  it('reports keyring calls against values read', () => {
    expect(first.output).toMatch(/1 keyring \(KMS\) call\(s\) for 15 values/);
  });

  it('runs again on the state it left, still unable to read the shredded tenant', async () => {
    const second = await runDemo(stateDir);
    expect(second.output).toContain('reusing the local root key');
    expect(second.output).toContain('State left by the previous run');
    expect(second.output).toMatch(/harbor\s+unreadable KeyDestroyedError/);
    expect(second.output).toContain('Done.');
    expect(second.code).toBe(0);
  }, 600_000);

  it('starts over with --reset: a new root key and a new database', async () => {
    const keyringId = /keyring (local:[0-9a-f]{8})/.exec(first.output)?.[1];
    const reset = await runDemo(stateDir, ['--reset']);
    expect(reset.output).toContain('--reset: deleted');
    expect(reset.output).toContain('generated the local root key');
    expect(reset.output).not.toContain('State left by the previous run');
    expect(/keyring (local:[0-9a-f]{8})/.exec(reset.output)?.[1]).not.toBe(keyringId);
    expect(reset.code).toBe(0);
  }, 600_000);
});
