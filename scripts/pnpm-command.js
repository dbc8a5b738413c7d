'use strict';
/**
 * The pnpm to run from scripts and tests: the version the root package.json pins in
 * `packageManager` (CI's), found as
 * 1. the pnpm running this process (`npm_execpath`, set by `pnpm run` / `pnpm test`),
 * 2. else `pnpm` on PATH,
 * 3. else `npx -y pnpm@<version>` (what the README's commands use).
 * pnpm 12 is a single executable; older releases are a script run by node, handled too.
 */
const { execFileSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
/** The pinned version, e.g. `12.4.2`. */
const PNPM_VERSION = require(path.join(ROOT, 'package.json'))
  .packageManager.replace(/^pnpm@/, '')
  .split('+')[0];

/** How to start `file`: directly, or through node when it is a JavaScript file. */
function launcher(file) {
  return /\.[cm]?js$/.test(file) ? { command: process.execPath, args: [file] } : { command: file, args: [] };
}

function versionOf({ command, args }) {
  try {
    return execFileSync(command, [...args, '--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The absolute path of `name` on PATH (callers may put shims named `pnpm` on PATH). */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

let cached;

/**
 * The pinned pnpm as `{ command, args, version }`: spawn `command` (an absolute path, or
 * `npx`) with `[...args, ...yours]`.
 * @returns {{ command: string, args: string[], version: string }}
 */
function pnpmCommand() {
  if (cached) return cached;
  const candidates = [];
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(path.basename(execPath))) candidates.push(launcher(execPath));
  const fromPath = onPath('pnpm');
  if (fromPath) candidates.push({ command: fromPath, args: [] });
  for (const candidate of candidates) {
    if (versionOf(candidate) === PNPM_VERSION) return (cached = { ...candidate, version: PNPM_VERSION });
  }
  const npx = { command: 'npx', args: ['-y', `pnpm@${PNPM_VERSION}`] };
  const version = versionOf(npx);
  if (version !== PNPM_VERSION)
    throw new Error(`pnpm ${PNPM_VERSION} not found (npx answered ${version ?? 'nothing'})`);
  return (cached = { ...npx, version });
}

module.exports = { pnpmCommand, PNPM_VERSION };
