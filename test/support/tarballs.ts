/**
 * The publishable packages as tarballs, packed the way `pnpm pack:all` packs them
 * (`scripts/pack.js`), into a directory of the caller's. Each test file packs its own copy:
 * packing takes a second or two, and test files run side by side.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Repository root. */
export const ROOT = join(__dirname, '..', '..');

/** The packages `scripts/pack.js` packs, by directory under `packages/`. */
export const PACKAGE_DIRS = ['core', 'kms-aws', 'prisma', 'cli'] as const;

/** One packed package, as `pnpm pack --json` reports it. */
export interface PackedPackage {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the `.tgz`. */
  readonly filename: string;
  /** Paths inside the package (without the tarball's `package/` prefix). */
  readonly files: readonly { readonly path: string }[];
}

/**
 * Packs every publishable package into `outDir` and returns what was packed, in dependency
 * order. Builds the packages first when a build output is missing (a bare Jest run on a fresh
 * clone); otherwise packs `dist/` as `pnpm test` built it.
 */
export function packTarballs(outDir: string): PackedPackage[] {
  if (PACKAGE_DIRS.some((dir) => !existsSync(join(ROOT, 'packages', dir, 'dist', 'index.js')))) {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-b', ...PACKAGE_DIRS.map((dir) => `packages/${dir}`)], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not pnpm's business
  const report = execFileSync(
    process.execPath,
    [join(ROOT, 'scripts', 'pack.js'), '--out', outDir, '--no-build', '--json'],
    {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(report) as PackedPackage[];
}
