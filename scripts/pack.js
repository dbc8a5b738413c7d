#!/usr/bin/env node
// `pnpm pack:all`: packs every publishable package (packages/*, not private) into one
// directory, the way they would be published. `pnpm pack` writes each `workspace:*`
// dependency as the version it points at, so the tarballs install anywhere.
//
//   node scripts/pack.js [--out DIR] [--no-build] [--json]
//
// --out       where the tarballs go (default: dist-tarballs/ at the repository root, gitignored)
// --no-build  pack dist/ as it is. By default every package is rebuilt from clean first
//             (dist/ and the tsbuildinfo removed), so no output of a deleted source ships.
//             The tests pack with --no-build: `pnpm test` has built, and removing dist/
//             under tests that run beside them would break those.
// --json      print pnpm pack's JSON (name, version, filename, files) instead of the paths.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { pnpmCommand } = require('./pnpm-command');

const ROOT = path.join(__dirname, '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(ROOT, 'dist-tarballs') },
    'no-build': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const out = path.resolve(values.out);

const packages = readdirSync(path.join(ROOT, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => path.join('packages', entry.name))
  .filter((dir) => {
    const file = path.join(ROOT, dir, 'package.json');
    try {
      return !JSON.parse(readFileSync(file, 'utf8')).private;
    } catch {
      return false;
    }
  });

const log = (line) => process.stderr.write(`${line}\n`);

if (!values['no-build']) {
  for (const dir of packages) {
    rmSync(path.join(ROOT, dir, 'dist'), { recursive: true, force: true });
    rmSync(path.join(ROOT, dir, 'tsconfig.tsbuildinfo'), { force: true });
  }
  log(`building ${packages.join(', ')} from clean`);
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...packages], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

mkdirSync(out, { recursive: true });
const pnpm = pnpmCommand();
const filters = packages.flatMap((dir) => ['--filter', `./${dir}`]);
const report = execFileSync(
  pnpm.command,
  [...pnpm.args, ...filters, '--recursive', 'pack', '--pack-destination', out, '--json'],
  {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  },
);
const packed = JSON.parse(report);
const list = Array.isArray(packed) ? packed : [packed];
if (list.length !== packages.length) {
  throw new Error(`expected ${packages.length} tarballs, pnpm packed ${list.length}`);
}
if (values.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
else for (const entry of list) process.stdout.write(`${entry.filename}\n`);
