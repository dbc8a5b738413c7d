/**
 * The `hushfield` command tree (commander 14). `run()` parses arguments, loads the config,
 * runs one command and returns its exit code; it never calls `process.exit`, so tests run it
 * in-process with their own streams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { InvalidArgumentError } from '@hushfield/core';
import { loadConfig } from './config';
import { missingUrlHint } from './env-file';
import type { LoadedConfig } from './config';
import { CommandContext } from './context';
import { ExitCode } from './exit-codes';
import { messages } from './messages';
import type { ExitCodeValue } from './exit-codes';
import { Output, hasCode, processIO } from './output';
import type { CliIO } from './output';
import { expandSecretArgs } from './secret-arg';
import { commandSpan } from './telemetry';
import { auditCommand } from './commands/audit';
import { decryptCommand } from './commands/decrypt';
import { doctorCommand } from './commands/doctor';
import { keysCreate, keysList, keysRewrap, keysRotate, keysShred } from './commands/keys';
import { reencryptCommand } from './commands/reencrypt';
import { statusCommand } from './commands/status';
import { runStatus, runsList, runsSetState } from './commands/runs';
import type { BulkOptions } from './commands/bulk-run';
import type { ResumePolicy } from './migrator-resume';

/** How `run` is wired: streams, working directory, and (for tests) a preloaded config. */
export interface RunOptions {
  readonly io?: CliIO;
  readonly cwd?: string;
  /** Use this configuration instead of loading `hushfield.config.ts`. */
  readonly config?: LoadedConfig;
  /** Aborted to interrupt a bulk run between batches (the binary wires SIGINT/SIGTERM to it). */
  readonly signal?: AbortSignal;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new CommanderArgumentError(messages.run.positiveInteger(name));
    return parsed;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

type Action = (ctx: CommandContext, options: Record<string, unknown>) => Promise<ExitCodeValue>;

/** Whether `--json` is among the arguments (before a `--` that ends the options). */
function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The global options that take a value (given as the next argument, or after `=`). */
const GLOBAL_VALUE_OPTIONS: ReadonlySet<string> = new Set(['--config', '--dotenv']);

/**
 * Whether `-V`/`--version` comes after a command word in `argv` (before any `--`): a command's
 * name, or a word that names none (`hushfield frobnicate --version` printed the version and
 * exited 0). A global option's value is not a command: `--config status --version` prints the
 * version.
 */
function versionAfterCommand(argv: readonly string[]): boolean {
  let command = false;
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    const arg = argv[i];
    if (arg === '--version' || arg === '-V') return command;
    if (!command && GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) command = true;
  }
  return false;
}

/** The version in this package's package.json (one directory above `src/` and `dist/`). */
function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/** The command-line flag of a commander option key (`leaseSeconds` → `--lease-seconds`). */
function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Commander's parse error as the usage error every other bad argument is. */
function usageError(error: CommanderError): InvalidArgumentError {
  const message = error.code === 'commander.help' ? messages.run.commandRequired() : error.message;
  return new InvalidArgumentError(message.replace(/^error: /, ''), 'argv');
}

/**
 * Runs the CLI with `argv` (arguments after the program name).
 * @returns the process exit code ({@link ExitCode}).
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const io = options.io ?? processIO();
  const cwd = options.cwd ?? process.cwd();
  let exitCode: number = ExitCode.Ok;

  const wrap =
    (action: Action) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      // Positional arguments (`runs pause <id>`) join the options under their names.
      const positional = Object.fromEntries(command.registeredArguments.map((arg, i) => [arg.name(), args[i]]));
      const opts = { ...(command.optsWithGlobals() as Record<string, unknown>), ...positional };
      const out = new Output(io, Boolean(opts.json));
      let ctx: CommandContext | undefined;
      try {
        const loaded =
          options.config ??
          (await loadConfig(cwd, opts.config as string | undefined, opts.dotenv as string | undefined));
        ctx = new CommandContext(loaded, out);
        const commandCtx = ctx;
        exitCode = await commandSpan(command, () => action(commandCtx, opts));
      } catch (error) {
        out.error(error);
        const hint = ctx === undefined ? undefined : missingUrlHint(error, ctx.loaded.envFile);
        if (hint !== undefined) out.info(messages.run.hint(hint));
        exitCode =
          hasCode(error, 'HUSHFIELD_CONFIG') || hasCode(error, 'HUSHFIELD_INVALID_ARGUMENT')
            ? ExitCode.Usage
            : ExitCode.Failure;
      } finally {
        // The audit sink first: a queueing sink writes through the client closed next.
        const unwritten = await ctx?.closeAuditSink();
        if (unwritten !== undefined) {
          out.errorAfterResult(unwritten);
          if (exitCode === ExitCode.Ok) exitCode = ExitCode.Failure;
        }
        await ctx?.close();
      }
    };

  const program = new Command('hushfield')
    .description('hushfield: field-level encryption for Prisma: status, re-encryption, key lifecycle, health checks')
    .option('--config <file>', 'hushfield.config.ts to use (default: next to prisma.config.ts)')
    // not --env-file: Node 20 takes that flag for itself, even after the script name
    .option(
      '--dotenv <file>',
      'env file to read first (default: the .env next to the config file, if any); the environment wins',
    )
    .option('--json', 'print one JSON document on stdout')
    .version(cliVersion(), '-V, --version', "print this package's version")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  program
    .command('status')
    .description('count plaintext, encrypted (by scope-key version), destroyed and unreadable values; key health')
    .option('--model <model>', 'only this model')
    .option('--batch <n>', 'rows read per query', positiveInt('--batch'), 5000)
    .option('--verify', 'also decrypt every value to count unreadable ones', false)
    .option('--run <id>', "show a scaled-out run's ranges, their owners and leases instead")
    .option(
      '--index-buckets',
      'also report bucket sizes and skew of truncated blind indexes (counts only, never values)',
      false,
    )
    .action(
      wrap((ctx, o) =>
        o.run !== undefined
          ? runStatus(ctx, o.run as string)
          : statusCommand(ctx, {
              model: o.model as string | undefined,
              batch: o.batch as number,
              verify: Boolean(o.verify),
              indexBuckets: Boolean(o.indexBuckets),
            }),
      ),
    );

  const bulk = (
    name: 'reencrypt' | 'decrypt',
    description: string,
    action: (ctx: CommandContext, options: BulkOptions) => Promise<ExitCodeValue>,
  ) =>
    program
      .command(name)
      .description(description)
      .option('--model <model>', 'only this model')
      .option('--batch <n>', 'rows per batch (one read, one write statement)', positiveInt('--batch'), 1000)
      .option('--concurrency <n>', 'batches in flight at once', positiveInt('--concurrency'), 2)
      .option('--dry-run', 'count what would change; write nothing, create no keys', false)
      .option(
        '--rescope',
        `after a model's @encryption(scope: ...) was added or changed: ${name === 'decrypt' ? 'decrypt' : 'move'} ` +
          "values sealed under another scope's key than their row's (without it they fail their row)",
        false,
      )
      .option(
        '--rebind',
        `after a model's @encryption(bind: ...) was added: ${name === 'decrypt' ? 'decrypt' : 'seal again, bound,'} ` +
          'values written before it, without the binding (without it they fail their row)',
        false,
      )
      .addOption(
        new Option('--resume', 'resume the unfinished run even if keys were rotated since').conflicts('restart'),
      )
      .option('--restart', 'ignore the checkpoint and start from the first row')
      .addOption(
        new Option(
          '--force-restart',
          "--restart a scaled-out run even while other processes' workers hold live leases on its ranges " +
            '(they lose them and take the new ones)',
        ).conflicts('resume'),
      )
      .option(
        '--keyring-attempts <n>',
        'tries per batch while the keyring is throttled or down, backing off from 0.5 s',
        positiveInt('--keyring-attempts'),
        5,
      )
      .option(
        '--from-pfe-key <key>',
        'prisma-field-encryption (cloak) key to import with; repeatable; env:NAME or file:PATH',
        collect,
      )
      .option('--run <id>', 'start or join the scaled-out run <id>: processes on any host share its ranges')
      .option('--workers <n>', 'worker threads in this process (a scaled-out run)', positiveInt('--workers'))
      .option(
        '--max-rows-per-second <n>',
        'rows read per second, for the whole run',
        positiveInt('--max-rows-per-second'),
      )
      .option('--max-concurrency <n>', 'ranges worked on at once across the run', positiveInt('--max-concurrency'))
      .option(
        '--lease-seconds <n>',
        'lease of a claimed range (a dead worker is replaced after it)',
        positiveInt('--lease-seconds'),
        30,
      )
      .option('--range-rows <n>', 'rows per range when a run is planned', positiveInt('--range-rows'), 50_000)
      .hook('preAction', (command) => {
        // They shape a scaled-out run only: given alone they would be ignored without a word.
        const given = ['leaseSeconds', 'rangeRows', 'forceRestart'].filter(
          (key) => command.getOptionValueSource(key) === 'cli',
        );
        const scaled = ['run', 'workers', 'maxConcurrency'].some((key) => command.getOptionValue(key) !== undefined);
        if (given.length > 0 && !scaled) command.error(`error: ${messages.run.scaledOnly(given.map(flagOf))}`);
      })
      .action(
        wrap((ctx, o) => {
          const resume: ResumePolicy = o.restart || o.forceRestart ? 'restart' : o.resume ? 'resume' : 'auto';
          const scaled = o.run !== undefined || o.workers !== undefined || o.maxConcurrency !== undefined;
          return action(ctx, {
            model: o.model as string | undefined,
            batch: o.batch as number,
            concurrency: o.concurrency as number,
            dryRun: Boolean(o.dryRun),
            rescope: Boolean(o.rescope),
            rebind: Boolean(o.rebind),
            reindex: Boolean(o.reindex),
            resume,
            keyringAttempts: o.keyringAttempts as number,
            signal: options.signal,
            fromPfeKey: o.fromPfeKey ? expandSecretArgs(o.fromPfeKey as string[], 'from-pfe-key') : undefined,
            maxRowsPerSecond: o.maxRowsPerSecond as number | undefined,
            scale: scaled
              ? {
                  run: o.run as string | undefined,
                  workers: o.workers as number | undefined,
                  leaseSeconds: o.leaseSeconds as number,
                  rangeRows: o.rangeRows as number,
                  maxRowsPerSecond: o.maxRowsPerSecond as number | undefined,
                  maxConcurrency: o.maxConcurrency as number | undefined,
                  restart: Boolean(o.restart || o.forceRestart),
                  forceRestart: Boolean(o.forceRestart),
                  // Worker threads load the config themselves; a preloaded one (tests) keeps them on this thread.
                  launch: options.config
                    ? undefined
                    : { configPath: ctx.loaded.path, dotenv: o.dotenv as string | undefined, cwd },
                }
              : undefined,
          });
        }),
      );
  bulk(
    'reencrypt',
    'encrypt legacy plaintext, move values to the active key versions, rebuild blind indexes, import prisma-field-encryption data',
    reencryptCommand,
  ).addOption(
    // A dry run opens no value, so it cannot tell which index values differ.
    new Option(
      '--reindex',
      'recompute every blind and match index value from its decrypted field and write those that differ, ' +
        'without rotating a key (values status --verify counts as stale)',
    ).conflicts('dryRun'),
  );
  bulk('decrypt', 'write plaintext back for fields switched to readonly (the way out)', decryptCommand);

  const runs = program
    .command('runs')
    .description('scaled-out runs (reencrypt --run / --workers): list, pause, resume');
  runs
    .command('list')
    .description("list runs, newest first (status --run <id> shows one run's ranges)")
    .action(wrap((ctx) => runsList(ctx)));
  runs
    .command('pause <id>')
    .description('pause a run: every worker, in every process, finishes its batch and waits (survives restarts)')
    .action(wrap((ctx, o) => runsSetState(ctx, o.id as string, 'paused')));
  runs
    .command('resume <id>')
    .description('resume a paused run')
    .action(wrap((ctx, o) => runsSetState(ctx, o.id as string, 'running')));

  const keys = program.command('keys').description('key lifecycle: list, create, rotate, rewrap, shred');
  keys
    .command('list')
    .description('list stored key versions (never their material)')
    .option('--scope <scope>', 'only this scope')
    .option('--kind <kind>', 'scope or index')
    .option('--state <state>', 'active, pending, retired or destroyed')
    .action(
      wrap((ctx, o) =>
        keysList(ctx, {
          scope: o.scope as string | undefined,
          kind: o.kind as string | undefined,
          state: o.state as string | undefined,
        }),
      ),
    );
  keys
    .command('create')
    .description('create the first key of a scope')
    .requiredOption('--scope <scope>', 'scope (default, or a tenant/user id)')
    .action(wrap((ctx, o) => keysCreate(ctx, { scope: o.scope as string })));
  keys
    .command('rotate')
    .description('make a new active key version (old versions still decrypt until reencrypt moves the data)')
    .option('--scope <scope>', 'rotate this scope')
    .option('--all', 'rotate every scope with an active key')
    .option('--index', 'rotate the blind-index root key (published as pending, written after --wait)')
    .option(
      '--wait <ms>',
      'how long the new version stays pending, matched but not written (at least the longest ' +
        "cache.indexVersionsTtlMs of any process); --index: default 31000, or the config's + 1000 when longer; " +
        '--scope/--all: without it, the new version is active at once',
      positiveInt('--wait'),
    )
    .action(
      wrap((ctx, o) =>
        keysRotate(ctx, {
          scope: o.scope as string | undefined,
          all: Boolean(o.all),
          index: Boolean(o.index),
          waitMs: o.wait as number | undefined,
        }),
      ),
    );
  keys
    .command('rewrap')
    .description('re-wrap every live key under another root key; data rows are untouched')
    .requiredOption(
      '--to-keyring <source>',
      'a name in the config (keyrings / named export), a module file, or a LocalKeyring key file',
    )
    .action(wrap((ctx, o) => keysRewrap(ctx, { toKeyring: o.toKeyring as string, cwd })));
  keys
    .command('shred')
    .description("destroy a scope's keys: its data becomes unreadable for good (GDPR erasure)")
    .requiredOption('--scope <scope>', 'scope to destroy')
    .option('--yes', 'do not ask (required when stdin is not a terminal)')
    .action(wrap((ctx, o) => keysShred(ctx, { scope: o.scope as string, yes: Boolean(o.yes) })));

  program
    .command('doctor')
    .description('check database TLS and certificate expiry, keyring reachability, schema vs key store')
    .option('--require-tls', 'fail when the database connection does not use TLS', false)
    .option(
      '--url <url>',
      'connection string to read the server certificate from (default: config databaseUrl, DATABASE_URL)',
    )
    .action(
      wrap((ctx, o) => doctorCommand(ctx, { requireTls: Boolean(o.requireTls), url: o.url as string | undefined })),
    );

  program
    .command('audit')
    .description('list audit events (the HushfieldAuditEvent table PrismaAuditSink writes) by scope, actor, time')
    .option('--scope <scope>', 'only events of this scope (tenant, user)')
    .option('--actor <actor>', 'only events whose actor has this value (key=value, or a value of any field)')
    .option('--since <time>', 'from this time on: ISO 8601, or a duration ago (7d, 12h, 30m)')
    .option('--until <time>', 'before this time: ISO 8601, or a duration ago')
    .option('--operation <op>', 'only this operation (keyring.unwrap, key.destroy, value.decrypt, ...)')
    .option('--limit <n>', 'newest events shown at most', positiveInt('--limit'), 100)
    .option(
      '--model <name>',
      "the audit log's Prisma model, when PrismaAuditSink was given another (default HushfieldAuditEvent)",
    )
    .action(
      wrap((ctx, o) =>
        auditCommand(ctx, {
          model: o.model as string | undefined,
          scope: o.scope as string | undefined,
          actor: o.actor as string | undefined,
          since: o.since as string | undefined,
          until: o.until as string | undefined,
          operation: o.operation as string | undefined,
          limit: o.limit as number,
        }),
      ),
    );

  // Commander takes `--version` anywhere: `keys rotate --scope S --version 3` printed the version
  // and exited 0 without rotating, and so did a command that does not exist.
  if (versionAfterCommand(argv)) {
    new Output(io, jsonRequested(argv)).error(new InvalidArgumentError(messages.run.versionAlone(), 'argv'));
    return ExitCode.Usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return ExitCode.Ok;
    // Commander has written its message to stderr; `--json` promises one document on stdout too.
    if (jsonRequested(argv)) new Output(io, true).error(usageError(error));
    return ExitCode.Usage;
  }
  return exitCode;
}
