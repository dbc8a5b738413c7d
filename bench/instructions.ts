/**
 * `pnpm exec tsx --tsconfig bench/tsconfig.json bench/instructions.ts`, options
 * `[--rev <git rev>]... [--rows <n>] [--fields 1|2|3] [--dek-cache off] [--row-scope on]`, or
 * `--prisma findmany|include|findunique|update|create [--rows <n>] [--children <n>]`, or
 * `--handler findunique|update|create [--rows <n>]`.
 *
 * Counts the CPU instructions of one cold `decryptMany` pass on one thread (`parallelDecrypt:
 * false`, so the count is of the per-value path, not of a hand-over to the decrypt thread;
 * bench/instructions/workload.cjs: rows × 3 values, ten scopes; with `--row-scope on` each
 * value's context names its row's scope, as the extension's reads of a scoped model do, which a
 * core before the row-scope check ignores) under valgrind's callgrind, for the bare-crypto floor
 * (a DEK unwrap and three decrypts per row), for each `--rev` and for the working tree's core.
 *
 * Wall time on a shared 2-core machine moves ±10 % between identical runs, which hides a change
 * worth a few percent; an instruction count does not move (node runs with `--single-threaded
 * --predictable`, so V8 compiles and collects garbage on the one thread, in the same order every
 * run, with fixed hash and random seeds: see NODE_FLAGS and the README for how stable it is). A pass is the difference
 * between a run of five passes and a run of three, halved: the sealing, start-up and the first
 * passes' compilation by V8 (which would otherwise count as part of a pass) are left out.
 * Instructions are not time (cache misses are not counted), so this ranks changes to the code
 * path; `pnpm bench` still says what a read costs.
 *
 * With `--prisma`, the count is of `pnpm bench prisma`'s own cold read ratio, whole: plain
 * Prisma's `findMany` (with `include: { posts: true }` for `include`) on plaintext rows, the
 * same call through a cold hushfield client on sealed rows, and the floor's bare crypto for the
 * same values (bench/instructions/prisma-workload.ts, in separate processes). PostgreSQL runs
 * outside valgrind, so what is counted is the Node process: Prisma, the driver, the extension
 * and core; `(hushfield − plain) / floor` is the bench's "added / floor" in instructions. The
 * rows are seeded in two new databases on TEST_DATABASE_URL (else PostgreSQL on
 * 127.0.0.1:5432), dropped afterwards. Defaults: 1,000 users, or 100 users × 10 posts (a pass
 * is averaged over twenty, see PRISMA_PASSES: about ten minutes for each shape).
 *
 * `--prisma findunique|update|create` counts `pnpm bench prisma`'s point operations the same way, plain
 * against hushfield (no floor), `--rows` of them a pass (default 100) through one warm client
 * (see POINT_PASSES): instructions an operation, and hushfield's added instructions. Timing
 * cannot tell a change of a few per cent to a point operation on this machine; this count can,
 * though it leaves out what the CPU caches do (bench/FINDINGS.md). About five minutes a case.
 * Each point operation is also counted through a client extended with a query extension that
 * does nothing but call `query(args)` (`noop`): what Prisma's extension mechanism costs any
 * extension.
 *
 * `--handler findunique|update|create [--rows <n>]` counts the extension's handler alone, with
 * Prisma's query answered from memory, against the bare `node:crypto` calls the design
 * requires of the same operation (bench/instructions/handler-workload.ts): instructions an
 * operation, `--rows` of them a pass (default 1,000), a pass being the mean of passes 11 to 20
 * after a full garbage collection (see {@link settled}).
 * `handler − floor` is hushfield's own code; the floor is the design's crypto. No database; about
 * three minutes a shape.
 */
// First: the packages are measured as built (dist/), so the build is brought up to date.
import './lib/built';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { seedPrismaWorkload } from './instructions/prisma-seed';
import { REPO_ROOT } from './lib/environment';

const CORE_DIR = join(REPO_ROOT, 'packages/core');
/**
 * Builds of other revisions: under node_modules, where neither git nor Jest looks (a second
 * `@hushfield/core` package or its tests anywhere else in the tree would be found by Jest).
 */
const REV_DIR = join(REPO_ROOT, 'node_modules/.cache/hushfield-bench-rev');
const WORKLOAD = join(REPO_ROOT, 'bench/instructions/workload.cjs');
/** Bundles of bench/instructions/prisma-workload.ts, one directory a run. */
const BUNDLE_DIR = join(REPO_ROOT, 'node_modules/.cache/hushfield-bench-instructions');
const PRISMA_WORKLOAD = join(REPO_ROOT, 'bench/instructions/prisma-workload.ts');
const HANDLER_WORKLOAD = join(REPO_ROOT, 'bench/instructions/handler-workload.ts');
/** The handler alone: a pass (1,000 operations by default) is the mean of passes 11 to 20. */
const HANDLER_PASSES = { from: 10, to: 20 } as const;
/**
 * Through Prisma, a pass is the mean of passes 11 to 30: V8 is still compiling Prisma's and the
 * driver's code into the tenth pass (a plain pass of 1,000 rows counted 90 M instructions
 * between passes 3 and 5, 40 M between 10 and 15), and garbage collections of the old
 * generation land every few passes, so twenty are averaged.
 */
const PRISMA_PASSES = { from: 10, to: 30 } as const;
/**
 * Point operations: a pass (100 operations by default) is the mean of passes 31 to 60, through
 * one client. V8 is still compiling into the thousands of operations: between passes 4 and 12
 * its optimizing compiler took half of hushfield's count and of plain Prisma's (an update
 * counted 3.49 M and 1.91 M instructions there, 1.12 M and 0.68 M between passes 30 and 60).
 */
const POINT_PASSES = { from: 30, to: 60 } as const;

/** The shapes `--prisma` counts. */
type PrismaShape = 'findmany' | 'include' | 'findunique' | 'update' | 'create';
const PRISMA_SHAPES: readonly PrismaShape[] = ['findmany', 'include', 'findunique', 'update', 'create'];

interface Options {
  readonly revs: string[];
  readonly rows: number;
  /** Encrypted fields a row: 3 as `findMany` of users, 1 as the posts an `include` loads. */
  readonly fields: number;
  readonly dekCache: 'on' | 'off';
  /** Each value's context names its row's scope (`FieldContext.scope`). */
  readonly rowScope: boolean;
  /** With `--prisma`: the whole `findMany` through Prisma, of this shape, or a point operation. */
  readonly prisma?: PrismaShape;
  /** With `--prisma include`: posts per user. */
  readonly children: number;
  /** With `--handler`: the extension's handler alone, against its bare crypto. */
  readonly handler?: HandlerShape;
}

/** The point operations `--handler` counts. */
type HandlerShape = 'findunique' | 'update' | 'create';
const HANDLER_SHAPES: readonly HandlerShape[] = ['findunique', 'update', 'create'];

function parseArgs(argv: readonly string[]): Options {
  const revs: string[] = [];
  let rows: number | undefined;
  let fields = 3;
  let dekCache: 'on' | 'off' = 'on';
  let rowScope = false;
  let prisma: Options['prisma'];
  let children = 10;
  let handler: Options['handler'];
  const count = (value: string | undefined) => Number.isSafeInteger(Number(value)) && Number(value) > 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--rev' && value !== undefined) revs.push(value);
    else if (arg === '--rows' && count(value)) rows = Number(value);
    else if (arg === '--fields' && ['1', '2', '3'].includes(value)) fields = Number(value);
    else if (arg === '--dek-cache' && value === 'off') dekCache = 'off';
    else if (arg === '--row-scope' && value === 'on') rowScope = true;
    else if (arg === '--prisma' && PRISMA_SHAPES.includes(value as PrismaShape)) prisma = value as PrismaShape;
    else if (arg === '--children' && count(value)) children = Number(value);
    else if (arg === '--handler' && HANDLER_SHAPES.includes(value as HandlerShape)) handler = value as HandlerShape;
    else throw new Error(`unknown argument ${arg} (see the comment at the top of bench/instructions.ts)`);
    i++;
  }
  const whole = prisma !== undefined || handler !== undefined;
  if (whole && (revs.length > 0 || fields !== 3 || dekCache !== 'on' || rowScope)) {
    throw new Error(
      '--prisma and --handler count the working tree as it is: --rev, --fields, --dek-cache and --row-scope do not apply',
    );
  }
  if (prisma !== undefined && handler !== undefined) throw new Error('give --prisma or --handler, not both');
  const defaultRows =
    handler !== undefined ? 1_000 : prisma === undefined ? 3_000 : prisma === 'findmany' ? 1_000 : 100;
  return { revs, rows: rows ?? defaultRows, fields, dekCache, rowScope, prisma, children, handler };
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

/**
 * How node runs under callgrind: V8 compiles and collects garbage on the one thread, in the same
 * order every run (`--single-threaded --predictable`), with fixed hash and random seeds (else
 * each process draws its own, and the layout of every hash table with them), and `gc()` exposed
 * for the workloads that take a SETTLE (see {@link settled}).
 */
const NODE_FLAGS = ['--single-threaded', '--predictable', '--hash-seed=1', '--random-seed=1', '--expose-gc'];

/** Instructions callgrind collected running `script` with `env` (see {@link NODE_FLAGS}). */
function collect(script: string, env: Record<string, string>): number {
  const run = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', 'node', ...NODE_FLAGS, script],
    { cwd: CORE_DIR, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const collected = /Collected\s*:\s*([\d,]+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || collected === null) {
    throw new Error(`the workload failed under valgrind (exit ${run.status}):\n${(run.stderr ?? '').slice(-2000)}`);
  }
  return Number(collected[1].replaceAll(',', ''));
}

/** Instructions of one pass: a run of `to` passes less a run of `from`, divided by `to − from`. */
function pass(script: string, env: Record<string, string>, from = 3, to = 5): number {
  return (
    (collect(script, { ...env, PASSES: String(to) }) - collect(script, { ...env, PASSES: String(from) })) / (to - from)
  );
}

/**
 * Like {@link pass}, both runs collecting garbage fully after pass `from` (the workload's
 * SETTLE): the counted passes then start from the same heap, whatever the process allocated
 * before them. Without it, the same build counted up to 11 % apart at different paths (the
 * path's strings shift what is allocated at start-up, so when the collections fall: see
 * bench/README.md).
 */
function settled(script: string, env: Record<string, string>, from: number, to: number): number {
  return pass(script, { ...env, SETTLE: String(from) }, from, to);
}

/** `decryptMany` alone: the floor, each `--rev` and the working tree's core. */
function countCore(options: Options): void {
  execFileSync('npx', ['tsc', '-b', CORE_DIR], { cwd: REPO_ROOT, stdio: 'inherit' });
  const builds: [string, string | undefined][] = [
    ['floor', undefined],
    ...options.revs.map((rev): [string, string] => [rev, buildRevision(rev)]),
    ['working tree', join(CORE_DIR, 'dist/index.js')],
  ];
  const values = options.rows * options.fields;
  const rows = options.rows.toLocaleString('en-US');
  console.log(
    `one cold decryptMany pass of ${values.toLocaleString('en-US')} values (${rows} rows × ${options.fields}, ten scopes, DEK cache ${options.dekCache}${options.rowScope ? ', row scope named' : ''})`,
  );
  let first: number | undefined;
  for (const [name, entry] of builds) {
    const count = pass(WORKLOAD, {
      ...(entry === undefined ? { FLOOR: '1' } : { CORE: entry }),
      ROWS: String(options.rows),
      FIELDS: String(options.fields),
      DEK_CACHE: options.dekCache,
      ROW_SCOPE: options.rowScope ? '1' : '0',
    });
    first ??= count;
    const relative = count === first ? '' : `  ${(count / first).toFixed(2)}× the floor`;
    console.log(
      `${name.padEnd(14)} ${(count / 1e6).toFixed(1).padStart(8)} M instructions a pass, ${Math.round(count / values).toLocaleString('en-US')} a value${relative}`,
    );
  }
}

/**
 * `entry` bundled by esbuild into one CommonJS file in a directory of its own (each valgrind run
 * loads the file again, so two runs at once must not share it).
 */
function bundled(entry: string): string {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const bundle = join(mkdtempSync(join(BUNDLE_DIR, 'run-')), 'workload.cjs');
  buildSync({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    tsconfig: join(REPO_ROOT, 'bench/tsconfig.json'),
    // The packages as built (bench/tsconfig.json maps @hushfield/* to dist/), their dependencies and
    // the generated client are bundled, each dependency as its package resolves it; Prisma's
    // runtime (which loads its query compiler from its own files) and the driver stay outside.
    external: ['@prisma/*', 'pg', 'pg-*'],
    logLevel: 'warning',
  });
  return bundle;
}

/** The extension's handler alone against the bare crypto of the same point operation. */
function countHandler(shape: HandlerShape, options: Options): void {
  const bundle = bundled(HANDLER_WORKLOAD);
  try {
    console.log(
      `${shape}, the extension's handler alone (query answered from memory): instructions an operation (${options.rows} a pass)`,
    );
    const env = { SHAPE: shape, ROWS: String(options.rows) };
    const each = { handler: 0, floor: 0 };
    for (const name of ['handler', 'floor'] as const) {
      each[name] = settled(bundle, { ...env, CASE: name }, HANDLER_PASSES.from, HANDLER_PASSES.to) / options.rows;
      console.log(`${name.padEnd(10)} ${Math.round(each[name]).toLocaleString('en-US').padStart(10)}`);
    }
    const own = each.handler - each.floor;
    console.log(
      `own       ${Math.round(own).toLocaleString('en-US').padStart(10)}: hushfield's code, ${(each.handler / each.floor).toFixed(2)}× the floor`,
    );
  } finally {
    rmSync(dirname(bundle), { recursive: true, force: true });
  }
}

/** The whole cold `findMany` through Prisma: plain, hushfield and the floor, as `pnpm bench prisma` compares them. */
async function countPrisma(shape: PrismaShape, options: Options): Promise<void> {
  const bundle = bundled(PRISMA_WORKLOAD);
  const children = shape === 'include' ? options.children : 0;
  const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const seeded = await seedPrismaWorkload(serverUrl, options.rows, children);
  try {
    const env = {
      SHAPE: shape,
      ROWS: String(options.rows),
      CHILDREN: String(children),
      PLAIN_URL: seeded.plainUrl,
      ENCRYPTED_URL: seeded.encryptedUrl,
      ROOT_KEY: seeded.rootKey,
    };
    if (shape === 'findunique' || shape === 'update' || shape === 'create') {
      console.log(`${shape} through Prisma on PostgreSQL: instructions an operation (${options.rows} a pass)`);
      const each = { plain: 0, noop: 0, hushfield: 0 };
      for (const name of ['plain', 'noop', 'hushfield'] as const) {
        each[name] = pass(bundle, { ...env, CASE: name }, POINT_PASSES.from, POINT_PASSES.to) / options.rows;
        console.log(`${name.padEnd(10)} ${Math.round(each[name]).toLocaleString('en-US').padStart(10)}`);
      }
      const added = each.hushfield - each.plain;
      console.log(
        `added     ${Math.round(added).toLocaleString('en-US').padStart(10)}: hushfield ${(each.hushfield / each.plain).toFixed(2)}× plain`,
      );
      return;
    }
    const what =
      shape === 'include'
        ? `${options.rows} users including ${options.rows * children} posts`
        : `${options.rows} users × 3 values`;
    console.log(`one cold findMany pass through Prisma on PostgreSQL: ${what}`);
    const counts = { plain: 0, hushfield: 0, floor: 0 };
    for (const name of ['plain', 'hushfield', 'floor'] as const) {
      counts[name] = pass(bundle, { ...env, CASE: name }, PRISMA_PASSES.from, PRISMA_PASSES.to);
      console.log(`${name.padEnd(10)} ${(counts[name] / 1e6).toFixed(1).padStart(8)} M instructions a pass`);
    }
    const added = counts.hushfield - counts.plain;
    console.log(
      `added     ${(added / 1e6).toFixed(1).padStart(8)} M instructions a pass: ${(added / counts.floor).toFixed(2)}× the floor`,
    );
  } finally {
    await seeded.close();
    rmSync(dirname(bundle), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  }
  if (options.handler !== undefined) countHandler(options.handler, options);
  else if (options.prisma === undefined) countCore(options);
  else await countPrisma(options.prisma, options);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
