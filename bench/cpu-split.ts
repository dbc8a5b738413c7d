/**
 * Where the CPU of one `hushfield reencrypt` run goes: the CLI process (per thread) against the
 * PostgreSQL backends serving it, read from /proc every 100 ms while the run goes (Linux only;
 * a backend's last 100 ms before it exits are missed). Seeds `rows` legacy plaintext customers
 * in a scratch database, runs the built CLI with the given arguments, and prints one JSON
 * line: CPU seconds by side and by thread, whole run and from the first row written (`steady`).
 *
 *   tsx --tsconfig bench/tsconfig.json bench/cpu-split.ts <rows> [CLI args...]
 *   e.g. bench/cpu-split.ts 100000 --run p1 --workers 1 --range-rows 5000
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase } from '../test/support/database';
import { REPO_ROOT } from './lib/environment';

const TICK = 100; // USER_HZ on Linux

/** utime + stime of a task (process or thread), in clock ticks, and its name. */
function cpuOf(path: string): { ticks: number; comm: string } | null {
  try {
    const stat = readFileSync(path, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat
      .slice(close + 2)
      .split(' ')
      .map(Number);
    return { ticks: fields[11] + fields[12], comm };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const [rowsArg, ...cliArgs] = process.argv.slice(2);
  const rows = Number(rowsArg ?? 100_000);
  const db = await createTestDatabase('postgres');
  const dbName = new URL(db.url as string).pathname.slice(1);
  try {
    await db.query(
      `INSERT INTO customers (email, phone)
       SELECT 'Customer.' || g || '@Example.com', '+1 555 ' || lpad(g::text, 7, '0') FROM generate_series(1, $1::int) AS g`,
      [rows],
    );
    await db.query('VACUUM ANALYZE customers');
    const key = randomBytes(32).toString('base64');
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      HUSHFIELD_BENCH_KEY: key,
    };
    const cli = (args: string[]) =>
      spawn(
        process.execPath,
        [
          // Node flags for the CLI only (e.g. --trace-gc; its stdout is then kept in CPU_SPLIT_STDOUT).
          ...(process.env.CPU_SPLIT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          join(REPO_ROOT, 'packages/cli/dist/bin.js'),
          ...args,
          '--json',
          '--config',
          join(__dirname, 'migrator/hushfield.config.ts'),
        ],
        { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
    await new Promise((resolve) => cli(['keys', 'create', '--scope', 'default']).on('exit', resolve));
    const child = cli(['reencrypt', '--model', 'Customer', ...cliArgs]);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    const started = performance.now();
    const threads = new Map<string, number>();
    const backends = new Map<number, number>();
    const backendTypes = new Map<number, string>();
    let firstRowAt: number | null = null;
    const sum = (m: Map<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    let atFirstRow = { node: 0, pg: 0, threads: new Map<string, number>() };
    const sample = async () => {
      const pid = child.pid as number;
      for (const tid of (() => {
        try {
          return readdirSync(`/proc/${pid}/task`);
        } catch {
          return [];
        }
      })()) {
        const cpu = cpuOf(`/proc/${pid}/task/${tid}/stat`);
        if (cpu) threads.set(`${tid} ${cpu.comm}`, cpu.ticks);
      }
      const pids = await db.query<{ pid: number; backend_type: string }>(
        'SELECT pid, backend_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [dbName],
      );
      for (const { pid: backend, backend_type: type } of pids) {
        const cpu = cpuOf(`/proc/${backend}/stat`);
        if (cpu) backends.set(backend, cpu.ticks);
        backendTypes.set(backend, type);
      }
      if (firstRowAt === null) {
        const [{ n }] = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM customers WHERE email_idx IS NOT NULL',
        );
        if (Number(n) > 0) {
          firstRowAt = performance.now();
          atFirstRow = { node: sum(threads), pg: sum(backends), threads: new Map(threads) };
        }
      }
    };
    const timer = setInterval(() => void sample().catch(() => undefined), 100);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(timer);
    if (process.env.CPU_SPLIT_STDOUT) writeFileSync(process.env.CPU_SPLIT_STDOUT, out);
    const wall = (performance.now() - started) / 1000;
    const nodeTicks = [...threads.values()].reduce((a, b) => a + b, 0);
    const pgTicks = [...backends.values()].reduce((a, b) => a + b, 0);
    const summary = (() => {
      try {
        return JSON.parse(out.slice(Math.max(0, out.lastIndexOf('\n{')))) as unknown;
      } catch {
        return {};
      }
    })() as { models?: { rowsPerSecond?: number; written?: number }[] };
    console.log(
      JSON.stringify({
        rows,
        args: cliArgs,
        pid: child.pid,
        code,
        wallSeconds: +wall.toFixed(1),
        workingSeconds: firstRowAt === null ? null : +((performance.now() - firstRowAt) / 1000).toFixed(1),
        nodeCpuSeconds: nodeTicks / TICK,
        steadyNodeCpuSeconds: (nodeTicks - atFirstRow.node) / TICK,
        steadyPostgresCpuSeconds: (pgTicks - atFirstRow.pg) / TICK,
        // Threads by id, from the first row written to the end (the main thread's id is the
        // process id; V8's helper threads, which run the parallel and concurrent GC, come next;
        // worker threads start last).
        steadyNodeThreads: Object.fromEntries(
          [...threads]
            .map(([k, v]) => [k.split(' ')[0], (v - (atFirstRow.threads.get(k) ?? 0)) / TICK] as const)
            .filter(([, v]) => v > 0),
        ),
        postgresCpuSeconds: pgTicks / TICK,
        postgresBackends: backends.size,
        postgresByType: [...backends].reduce<Record<string, number>>((out, [pid, ticks]) => {
          const type = backendTypes.get(pid) ?? '?';
          out[type] = (out[type] ?? 0) + ticks / TICK;
          return out;
        }, {}),
        written: summary.models?.[0]?.written,
        load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      }),
    );
  } finally {
    await db.close();
  }
}

void main();
