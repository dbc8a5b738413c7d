#!/usr/bin/env node
// Runs Jest with the flags the suite needs and ends with one plain summary line.
// PGlite loads its WASM through a dynamic import, which Jest only supports with
// --experimental-vm-modules.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const env = { ...process.env };
env.NODE_OPTIONS = [env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning']
  .filter(Boolean)
  .join(' ');
const jest = path.join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const dir = mkdtempSync(path.join(tmpdir(), 'fieldseal-jest-'));
const report = path.join(dir, 'report.json');
const result = spawnSync(process.execPath, [jest, '--json', `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
let status = result.status ?? 1;
try {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  if (summary.numTotalTests === 0) status = status || 1; // a run that tested nothing is a failure
  process.stdout.write(
    `\njest: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${summary.numPendingTests + summary.numTodoTests} skipped\n`,
  );
} catch {
  // Jest did not write a report (it crashed or was given --help); its exit status stands.
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
