/**
 * `pnpm exec tsx --tsconfig bench/tsconfig.json bench/instructions.ts`, options
 * `[--rev <git rev>]... [--rows <n>] [--fields 1|2|3] [--dek-cache off]`.
 *
 * Counts the CPU instructions of one cold `decryptMany` pass (bench/instructions/workload.cjs:
 * rows × 3 values, ten scopes) under valgrind's callgrind, for the bare-crypto floor (a DEK
 * unwrap and three decrypts per row), for each `--rev` and for the working tree's core.
 *
 * Wall time on a shared 2-core machine moves ±10 % between identical runs, which hides a change
 * worth a few percent; an instruction count does not move (node runs with `--single-threaded
 * --predictable`, so V8 compiles and collects garbage on the one thread, in the same order every
 * run: the same build gives the same count within about 0.5 %). A pass is the difference
 * between a run of five passes and a run of three, halved: the sealing, start-up and the first
 * passes' compilation by V8 (which would otherwise count as part of a pass) are left out.
 * Instructions are not time (cache misses are not counted), so this ranks changes to the code
 * path; `pnpm bench` still says what a read costs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/environment';

const CORE_DIR = join(REPO_ROOT, 'packages/core');
/**
 * Builds of other revisions: under node_modules, where neither git nor Jest looks (a second
 * `@hushfield/core` package or its tests anywhere else in the tree would be found by Jest).
 */
const REV_DIR = join(REPO_ROOT, 'node_modules/.cache/hushfield-bench-rev');
const WORKLOAD = join(REPO_ROOT, 'bench/instructions/workload.cjs');

interface Options {
  readonly revs: string[];
  readonly rows: number;
  /** Encrypted fields a row: 3 as `findMany` of users, 1 as the posts an `include` loads. */
  readonly fields: number;
  readonly dekCache: 'on' | 'off';
}

function parseArgs(argv: readonly string[]): Options {
  const revs: string[] = [];
  let rows = 3_000;
  let fields = 3;
  let dekCache: 'on' | 'off' = 'on';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--rev' && value !== undefined) revs.push(value);
    else if (arg === '--rows' && Number.isSafeInteger(Number(value)) && Number(value) > 0) rows = Number(value);
    else if (arg === '--fields' && ['1', '2', '3'].includes(value)) fields = Number(value);
    else if (arg === '--dek-cache' && value === 'off') dekCache = 'off';
    else throw new Error(`unknown argument ${arg} (see the comment at the top of bench/instructions.ts)`);
    i++;
  }
  return { revs, rows, fields, dekCache };
}

/** Builds core as of `rev` (its `packages/core` and the base tsconfig) and returns its entry point. */
function buildRevision(rev: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short=12', `${rev}^{commit}`], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const root = join(REV_DIR, sha);
  const entry = join(root, 'packages/core/dist/index.js');
  if (existsSync(entry)) return entry;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = execFileSync(
    'git',
    ['archive', sha, 'packages/core/src', 'packages/core/tsconfig.json', 'tsconfig.base.json'],
    { cwd: REPO_ROOT },
  );
  execFileSync('tar', ['-x', '-C', root], { input: archive });
  // Its dependencies, for the compiler and for node: the working tree's (the revisions compared
  // are meant to differ in core's code, not in lru-cache's).
  symlinkSync(join(CORE_DIR, 'node_modules'), join(root, 'packages/core/node_modules'));
  execFileSync('npx', ['tsc', '-p', join(root, 'packages/core/tsconfig.json')], { cwd: REPO_ROOT, stdio: 'inherit' });
  return entry;
}

/** Instructions callgrind collected for a run of the workload with `passes` passes. */
function instructions(entry: string | undefined, passes: number, options: Options): number {
  const run = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', 'node', '--single-threaded', '--predictable', WORKLOAD],
    {
      cwd: CORE_DIR,
      env: {
        ...process.env,
        ...(entry === undefined ? { FLOOR: '1' } : { CORE: entry }),
        ROWS: String(options.rows),
        FIELDS: String(options.fields),
        PASSES: String(passes),
        DEK_CACHE: options.dekCache,
      },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const collected = /Collected\s*:\s*([\d,]+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || collected === null) {
    throw new Error(`the workload failed under valgrind (exit ${run.status}):\n${(run.stderr ?? '').slice(-2000)}`);
  }
  return Number(collected[1].replaceAll(',', ''));
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  }
  execFileSync('npx', ['tsc', '-b', CORE_DIR], { cwd: REPO_ROOT, stdio: 'inherit' });
  const builds: [string, string | undefined][] = [
    ['floor', undefined],
    ...options.revs.map((rev): [string, string] => [rev, buildRevision(rev)]),
    ['working tree', join(CORE_DIR, 'dist/index.js')],
  ];
  const values = options.rows * options.fields;
  const rows = options.rows.toLocaleString('en-US');
  console.log(
    `one cold decryptMany pass of ${values.toLocaleString('en-US')} values (${rows} rows × ${options.fields}, ten scopes, DEK cache ${options.dekCache})`,
  );
  let first: number | undefined;
  for (const [name, entry] of builds) {
    const three = instructions(entry, 3, options);
    const five = instructions(entry, 5, options);
    const pass = (five - three) / 2;
    first ??= pass;
    const relative = pass === first ? '' : `  ${(pass / first).toFixed(2)}× the floor`;
    console.log(
      `${name.padEnd(14)} ${(pass / 1e6).toFixed(1).padStart(8)} M instructions a pass, ${Math.round(pass / values).toLocaleString('en-US')} a value${relative}`,
    );
  }
}

main();
