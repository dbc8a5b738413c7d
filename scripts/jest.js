#!/usr/bin/env node
// Runs Jest with the flags the suite needs, then prints the totals line the summary reporter
// recorded, last. PGlite loads its WASM through a dynamic import, which Jest only supports
// with --experimental-vm-modules, which warns once per process that it is experimental: that
// one warning is disabled (--disable-warning, Node >= 20.11), every other warning still shows, in
// Jest and in the processes the tests start (they inherit NODE_OPTIONS).
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const dir = mkdtempSync(path.join(tmpdir(), 'hushfield-jest-'));
const env = { ...process.env, HUSHFIELD_JEST_SUMMARY: path.join(dir, 'summary.txt') };
env.NODE_OPTIONS = [env.NODE_OPTIONS, '--experimental-vm-modules', '--disable-warning=ExperimentalWarning']
  .filter(Boolean)
  .join(' ');
const jest = path.join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(process.execPath, [jest, ...process.argv.slice(2)], { stdio: 'inherit', env });
try {
  process.stdout.write(`\n${readFileSync(env.HUSHFIELD_JEST_SUMMARY, 'utf8')}\n`);
} catch {
  // No totals: Jest stopped before running tests; its exit status says why.
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(result.status ?? 1);
