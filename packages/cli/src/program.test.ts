import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ExitCode } from './exit-codes';
import { run } from './program';
import type { LoadedConfig } from './config';

async function cli(args: string[], config?: LoadedConfig, cwd?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await run(args, {
    io: { stdout, stderr, stdin: new PassThrough(), stdinIsTTY: false, stderrIsTTY: false },
    config,
    cwd,
  });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** A config whose client and keyring must never be reached by a usage error. */
const untouchable: LoadedConfig = {
  path: '<test>',
  module: {},
  config: {
    schema: { formatVersion: 1, keyStoreModel: 'HushfieldKey', models: {} },
    keyring: () => {
      throw new Error('keyring must not be built');
    },
    prisma: () => {
      throw new Error('client must not be built');
    },
  },
};

test('--help lists every command and exits 0', async () => {
  const result = await cli(['--help']);
  expect(result.code).toBe(ExitCode.Ok);
  for (const command of ['status', 'reencrypt', 'decrypt', 'keys', 'doctor']) expect(result.stdout).toContain(command);
});

test.each(['reencrypt', 'decrypt'])('%s --help documents --rescope', async (command) => {
  const result = await cli([command, '--help']);
  expect(result.code).toBe(ExitCode.Ok);
  // Commander wraps the description to the terminal width.
  const text = result.stdout.replace(/\s+/g, ' ');
  expect(text).toContain("--rescope after a model's @encryption(scope: ...) was added or changed: ");
  expect(text).toContain("values sealed under another scope's key than their row's (without it they fail their row)");
});

test.each([
  [['frobnicate']],
  [['reencrypt', '--nope']],
  [['reencrypt', '--batch', '0']],
  [['reencrypt', '--concurrency', 'two']],
  [['reencrypt', '--resume', '--restart']],
  [['keys', 'create']],
  [['keys', 'shred']],
  [['keys', 'list', '--kind', 'scopes']],
  [['keys', 'list', '--state', 'destroy']],
])('%j is a usage error (exit 2)', async (args) => {
  const result = await cli(args, untouchable);
  expect(result.code).toBe(ExitCode.Usage);
});

test.each([
  [['frobnicate', '--json']],
  [['status', '--json', '--nope']],
  [['--json', 'reencrypt', '--batch', '0']],
  [['reencrypt', '--resume', '--restart', '--json']],
  [['keys', 'create', '--json']],
  [['--json']],
])('%j prints its usage error as one JSON document on stdout (exit 2)', async (args) => {
  const result = await cli(args, untouchable);
  expect(result.code).toBe(ExitCode.Usage);
  const parsed = JSON.parse(result.stdout) as { error: { code: string; name: string; message: string } };
  expect(parsed.error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
  expect(parsed.error.message).not.toBe('');
  // Without --json the message stays on stderr, as before.
  const human = await cli(
    args.filter((arg) => arg !== '--json'),
    untouchable,
  );
  expect(human.stdout).toBe('');
});

test('keys rotate needs exactly one target', async () => {
  const result = await cli(['keys', 'rotate', '--json'], untouchable);
  expect(result.code).toBe(ExitCode.Usage);
  expect(JSON.parse(result.stdout).error.code).toBe('HUSHFIELD_INVALID_ARGUMENT');
});

test('an unknown --model is a usage error naming the known ones', async () => {
  const result = await cli(['status', '--model', 'Nope'], untouchable);
  expect(result.code).toBe(ExitCode.Usage);
  expect(result.stderr).toContain('unknown model Nope');
});

test('a missing config file is a usage error with a hint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-noconfig-'));
  try {
    const result = await cli(['status', '--json'], undefined, dir);
    expect(result.code).toBe(ExitCode.Usage);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'HUSHFIELD_CONFIG' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failure outside the user’s control exits 1', async () => {
  const result = await cli(['keys', 'list'], untouchable);
  expect(result.code).toBe(ExitCode.Failure);
  expect(result.stderr).toContain('client must not be built');
});

test.each(['--version', '-V'])('%s prints the package version and exits 0', async (flag) => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  const result = await cli([flag], untouchable);
  expect(result.code).toBe(ExitCode.Ok);
  expect(result.stdout.trim()).toBe(version);
});

test.each([
  [['keys', 'rotate', '--scope', 'acme', '--version', '3']],
  [['keys', 'retire', '--scope', 'acme', '--version', '1']],
  [['reencrypt', '--model', 'User', '-V']],
  // A word that names no command is taken for one: nothing was asked for that the version answers.
  [['frobnicate', '--version']],
  [['--config', 'x.ts', 'stauts', '-V']],
])('%j: a version flag after a command is a usage error, not the version printed with exit 0', async (args) => {
  const result = await cli(args, untouchable);
  expect(result.code).toBe(ExitCode.Usage);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('hushfield --version');
  const json = await cli([...args, '--json'], untouchable);
  expect(json.code).toBe(ExitCode.Usage);
  expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'HUSHFIELD_INVALID_ARGUMENT' });
});

test.each([
  [['--dotenv', 'x.env', '--version']],
  // A file named as a command is the option's value, not a command.
  [['--config', 'status', '--version']],
  [['--dotenv', 'keys', '-V']],
])('%j: --version after global options (no command) still prints the version', async (args) => {
  const result = await cli(args, untouchable);
  expect(result.code).toBe(ExitCode.Ok);
  expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
});

test.each([
  [['reencrypt', '--lease-seconds', '5'], '--lease-seconds shapes'],
  [['decrypt', '--range-rows', '100', '--lease-seconds', '5'], '--lease-seconds and --range-rows shape'],
])('%j without --run or --workers is a usage error, not ignored', async (args, message) => {
  const result = await cli(args, untouchable);
  expect(result.code).toBe(ExitCode.Usage);
  expect(result.stderr).toContain(message);
  const json = await cli([...args, '--json'], untouchable);
  expect(json.code).toBe(ExitCode.Usage);
  expect(JSON.parse(json.stdout).error.message).toContain('a scaled-out run only');
});
