#!/usr/bin/env node
// Runs `prisma generate` for every schema in the repository, offline.
// Prisma 7.10's CLI wants a schema-engine binary on disk before it generates, and downloads
// one when missing; generate never runs it, so any existing file satisfies the check here.
// The hushfield generator runs from packages/prisma/dist, so it is built first. Prisma runs a
// generator's provider command in its own working directory, and the schemas name the
// generator by a path relative to themselves, so each schema is generated from its directory.
// The MySQL and SQLite test schemas are derived from prisma/schema.prisma first
// (scripts/provider-schema.js).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { writeProviderSchemas } = require('./provider-schema');

const schemas = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['prisma/schema.prisma', ...writeProviderSchemas(), 'examples/quickstart/prisma/schema.prisma'];
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
env.CHECKPOINT_DISABLE = '1';

const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, env, stdio: 'inherit' });
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

run(bin('tsc'), ['-b', 'packages/prisma']);
for (const schema of schemas) {
  const file = path.join(root, schema);
  if (!require('node:fs').existsSync(file)) continue;
  run(bin('prisma'), ['generate', '--schema', file], path.dirname(file));
}
