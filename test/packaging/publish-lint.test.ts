/**
 * Every publishable package, packed as `pnpm pack:all` packs it, is fit to publish:
 * - publint (strict: warnings count, and no suggestion is left) finds nothing;
 * - Are the Types Wrong (`attw`) finds no problem, and types resolve for CommonJS and ESM
 *   importers under `node10`, `node16`/`nodenext` and `bundler` resolution;
 * - the tarball holds only what runs (build output, the sources its maps name, docs), no test,
 *   and every source map names files that are in the tarball;
 * - its manifest is complete: no `workspace:` range left, `engines`, `exports` with types,
 *   `bin` scripts that exist and start with a shebang, and every package the build output
 *   requires declared as a dependency or peer dependency.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { type PackedPackage, ROOT, packTarballs } from '../support/tarballs';

const run = promisify(execFile);

/** The JavaScript file of a dev dependency's `bin`, run with this Node. */
function binOf(pkg: string, name: string): string {
  const dir = join(ROOT, 'node_modules', pkg);
  const { bin } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(dir, bin[name]);
}

/** Runs a tool to completion, resolving with its exit code and output (never rejecting). */
async function tool(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.NODE_OPTIONS;
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

interface Manifest {
  name: string;
  type?: string;
  main?: string;
  types?: string;
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

let workDir: string;
let packed: PackedPackage[];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'hushfield-publint-'));
  packed = packTarballs(join(workDir, 'tarballs'));
  for (const pkg of packed) {
    const into = join(workDir, 'unpacked', pkg.name);
    await run('mkdir', ['-p', into]);
    await run('tar', ['-xzf', pkg.filename, '-C', into, '--strip-components=1']);
  }
}, 300_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const unpacked = (pkg: PackedPackage, path = '') => join(workDir, 'unpacked', pkg.name, path);
const manifestOf = (pkg: PackedPackage) => JSON.parse(readFileSync(unpacked(pkg, 'package.json'), 'utf8')) as Manifest;
const byName = (name: string) => {
  const pkg = packed.find((candidate) => candidate.name === name);
  if (!pkg) throw new Error(`${name} was not packed`);
  return pkg;
};

const NAMES = [
  '@hushfield/core',
  '@hushfield/kms-aws',
  '@hushfield/kms-vault',
  '@hushfield/kms-pkcs11',
  '@hushfield/kms-gcp',
  '@hushfield/kms-azure',
  '@hushfield/prisma',
  '@hushfield/cli',
];

it('packs every publishable package', () => {
  expect(packed.map((pkg) => pkg.name).sort()).toEqual([...NAMES].sort());
});

describe.each(NAMES)('%s', (name) => {
  it('passes publint in strict mode with no suggestion left', async () => {
    const result = await tool(binOf('publint', 'publint'), ['run', byName(name).filename, '--strict']);
    const output = `${result.stdout}${result.stderr}`;
    expect({ code: result.code, output }).toEqual({ code: 0, output: expect.stringContaining('All good!') });
  }, 120_000);

  it('has no problem Are the Types Wrong can find, and types for every resolution mode', async () => {
    const result = await tool(binOf('@arethetypeswrong/cli', 'attw'), [byName(name).filename, '--format', 'json']);
    const report = JSON.parse(result.stdout) as {
      analysis: {
        entrypoints: Record<
          string,
          {
            resolutions: Record<
              string,
              { resolution?: { fileName: string }; implementationResolution?: { fileName: string } }
            >;
          }
        >;
        problems: unknown[];
      };
    };
    expect(report.analysis.problems).toEqual([]);
    expect(result.code).toBe(0);
    const root = report.analysis.entrypoints['.'];
    for (const mode of ['node10', 'node16-cjs', 'node16-esm', 'bundler']) {
      expect({ mode, types: root.resolutions[mode]?.resolution?.fileName }).toEqual({
        mode,
        types: expect.stringMatching(/\.d\.ts$/),
      });
      expect({ mode, js: root.resolutions[mode]?.implementationResolution?.fileName }).toEqual({
        mode,
        js: expect.stringMatching(/\.js$/),
      });
    }
  }, 120_000);

  it('ships only build output, the sources its maps name, docs and the README: no tests', () => {
    const paths = byName(name).files.map((file) => file.path);
    expect(paths.filter((path) => !/^(dist\/|src\/|docs\/|README\.md$|package\.json$|LICENSE$)/.test(path))).toEqual(
      [],
    );
    expect(paths.filter((path) => /\.(test|spec)\.[cm]?[jt]s$|(^|\/)__tests__\//.test(path))).toEqual([]);
    expect(paths).toContain('README.md');
  });

  it('has source maps that name only files in the tarball', () => {
    const paths = new Set(byName(name).files.map((file) => file.path));
    const maps = [...paths].filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(unpacked(byName(name), map), 'utf8')) as {
        sources: string[];
        sourceRoot?: string;
      };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), sourceRoot ?? '', source));
        if (!paths.has(target)) missing.push(`${map} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has a complete manifest: versions for workspace ranges, engines, exports with types, working bins', () => {
    const pkg = byName(name);
    const manifest = manifestOf(pkg);
    const paths = new Set(pkg.files.map((file) => file.path));
    expect(readFileSync(unpacked(pkg, 'package.json'), 'utf8')).not.toContain('workspace:');
    expect(manifest.type).toBe('commonjs');
    expect(manifest.engines?.node).toMatch(/^>=20/);
    expect(manifest.exports?.['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(paths.has('dist/index.d.ts') && paths.has('dist/index.js')).toBe(true);
    for (const [command, file] of Object.entries(manifest.bin ?? {})) {
      expect({ command, shipped: paths.has(posix.normalize(file)) }).toEqual({ command, shipped: true });
      expect(readFileSync(unpacked(pkg, file), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    }
  });

  it('declares every package its build output requires', () => {
    const pkg = byName(name);
    const manifest = manifestOf(pkg);
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const builtins = new Set(builtinModules);
    const undeclared = new Set<string>();
    for (const { path } of pkg.files.filter((file) => /^dist\/.*\.js$/.test(file.path))) {
      const code = readFileSync(unpacked(pkg, path), 'utf8');
      // tsc's CommonJS output names every import as require("..."), dynamic ones included.
      for (const [, specifier] of code.matchAll(/\brequire\("([^"]+)"\)/g)) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const parts = specifier.split('/');
        const dependency = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        if (!declared.has(dependency)) undeclared.add(`${dependency} (${path})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });
});

it('makes @prisma/client 7 a peer dependency of the packages that reach Prisma', () => {
  for (const name of ['@hushfield/prisma', '@hushfield/cli']) {
    expect({ name, peer: manifestOf(byName(name)).peerDependencies?.['@prisma/client'] }).toEqual({
      name,
      peer: '^7.0.0',
    });
  }
  for (const name of NAMES.filter((n) => n === '@hushfield/core' || n.startsWith('@hushfield/kms-'))) {
    expect({ name, peers: manifestOf(byName(name)).peerDependencies }).toEqual({ name, peers: undefined });
  }
});
