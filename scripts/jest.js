#!/usr/bin/env node
// Runs Jest with the flags the suite needs: PGlite loads its WASM through a dynamic import,
// which Jest only supports with --experimental-vm-modules.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
env.NODE_OPTIONS = [env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning']
  .filter(Boolean)
  .join(' ');
const jest = path.join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(process.execPath, [jest, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
