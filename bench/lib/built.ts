/**
 * Brings the packages' build (`dist/`) up to date when imported: the benchmarks measure hushfield
 * as an application runs it, built by `tsc` as npm ships it (bench/tsconfig.json maps
 * `@hushfield/*` to `dist/`), not its TypeScript sources through tsx. tsx's transform names every
 * function it creates (esbuild's `keepNames`), which costs a point operation's handler up to a
 * quarter of its CPU in a tight loop (bench/FINDINGS.md). Import it before anything that loads a
 * package: it runs the root `build` script's `tsc -b` (about half a second when nothing changed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './environment';

const build = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { build: string } })
  .scripts.build;
const [command, ...args] = build.split(/\s+/);
if (command !== 'tsc') throw new Error(`bench/lib/built.ts runs the build script's tsc, found: ${build}`);
// tsc -b trusts each project's .tsbuildinfo: a dist/ deleted since the last build counts as up to date.
const missing = args.some(
  (arg) => arg.startsWith('packages/') && !existsSync(join(REPO_ROOT, arg, 'dist', 'index.js')),
);
const force = missing ? ['--force'] : [];
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), ...args, ...force], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
});
