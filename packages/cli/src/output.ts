/**
 * What a command prints. With `--json`, stdout carries exactly one JSON document (the
 * result, or `{ "error": ... }`) and everything else goes to stderr; without it, stdout carries
 * human-readable lines. Errors are described from their typed `code`, never from a database
 * driver's message, which may echo query parameters (old plaintext in a CAS condition).
 */
import { HushfieldError } from '@hushfield/core';
import { messages } from './messages';

/** Streams and terminal facts a command runs with (the process's, or a test's). */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  /** Whether stdin is an interactive terminal (confirmations are only asked there). */
  readonly stdinIsTTY: boolean;
  /** Whether stderr is a terminal (progress bars are only drawn there). */
  readonly stderrIsTTY: boolean;
}

/** The process's own streams. */
export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}

/**
 * The class name of what was thrown, for where its message must not go (an `actor()` failure):
 * `Error` when its `name` is not a class name (the thrower's text), `typeof` for a non-error.
 */
export function errorClass(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(error.name) ? error.name : 'Error';
}

/** A safe, one-line description of any thrown value, with its stable code when it has one. */
export function describeError(error: unknown): { code: string; name: string; message: string } {
  if (isHushfieldError(error)) return { code: error.code, name: error.name, message: error.message };
  if (error && typeof error === 'object') {
    const record = error as { name?: unknown; code?: unknown; clientVersion?: unknown; meta?: unknown };
    const name = typeof record.name === 'string' ? record.name : 'Error';
    const code = typeof record.code === 'string' ? record.code : 'UNKNOWN';
    if (record.clientVersion !== undefined || name.startsWith('Prisma') || name === 'DriverAdapterError') {
      // Prisma's messages quote the invocation's arguments; keep only what identifies the failure.
      const meta = record.meta && typeof record.meta === 'object' ? (record.meta as Record<string, unknown>) : {};
      const where = ['modelName', 'target', 'constraint']
        .filter((key) => typeof meta[key] === 'string' || Array.isArray(meta[key]))
        .map((key) => `${key}=${String(meta[key])}`)
        .join(' ');
      return { code, name, message: messages.run.databaseRequestFailed(code, where) };
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { code, name, message };
  }
  return { code: 'UNKNOWN', name: 'Error', message: String(error) };
}

/** Prints results and diagnostics for one command invocation. */
export class Output {
  /** Whether `--json` was given. */
  readonly json: boolean;
  private readonly io: CliIO;

  constructor(io: CliIO, json: boolean) {
    this.io = io;
    this.json = json;
  }

  /** The streams this output writes to. */
  get streams(): CliIO {
    return this.io;
  }

  /** Prints the command's result: `data` as JSON, or the human lines. */
  result(data: unknown, human: () => readonly string[]): void {
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify(data, jsonReplacer, 2)}\n`);
    } else {
      for (const line of human()) this.io.stdout.write(`${line}\n`);
    }
  }

  /** A diagnostic line (stderr, so that `--json` stdout stays parseable). */
  info(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** A warning line on stderr. */
  warn(line: string): void {
    this.io.stderr.write(`${messages.run.warning(line)}\n`);
  }

  /**
   * Reports a failure after the command printed its result: a line on stderr, with `--json` too
   * (stdout already holds the command's one document).
   */
  errorAfterResult(error: unknown): void {
    const described = describeError(error);
    this.io.stderr.write(`${messages.run.error(described.message, described.code)}\n`);
  }

  /** Reports a failure: `{ "error": ... }` on stdout with `--json`, a line on stderr otherwise. */
  error(error: unknown): void {
    const described = describeError(error);
    if (this.json) this.io.stdout.write(`${JSON.stringify({ error: described }, null, 2)}\n`);
    else this.io.stderr.write(`${messages.run.error(described.message, described.code)}\n`);
  }
}

/** JSON with bigints as strings and dates as ISO strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Whether `error` is a hushfield error. Checked by code as well as by class, because a
 * configuration file loaded through jiti may carry its own copy of `@hushfield/core`.
 */
export function isHushfieldError(error: unknown): error is HushfieldError {
  if (error instanceof HushfieldError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('HUSHFIELD_');
}

/** Whether `error` is a hushfield error with the given code. */
export function hasCode(error: unknown, code: string): boolean {
  return isHushfieldError(error) && error.code === code;
}
