/**
 * Runs the `fieldseal` CLI in this process, through its programmatic entry `run()`, on the
 * demo's open database, and captures what it prints.
 */
import { PassThrough, Writable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { run, type CliIO } from '@fieldseal/cli';
import type { Keyring } from '@fieldseal/core';
import { clinicConfig } from './fieldseal-config';
import { EXAMPLE_DIR } from './paths';

/** The CLI bound to the demo's database. */
export interface FieldsealCli {
  /** Runs `fieldseal <args>`; resolves with its exit code and everything it printed. */
  run(args: readonly string[]): Promise<{ exitCode: number; output: string }>;
}

/** A CLI runner on the open database `pglite`, unwrapping keys with `keyring`. */
export function openFieldseal(pglite: PGlite, keyring: Keyring): FieldsealCli {
  const config = clinicConfig(() => pglite, () => keyring);
  return {
    async run(args) {
      let output = '';
      const sink = new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          output += chunk.toString();
          done();
        },
      });
      const io: CliIO = { stdout: sink, stderr: sink, stdin: new PassThrough(), stdinIsTTY: false, stderrIsTTY: false };
      const exitCode = await run(args, { io, cwd: EXAMPLE_DIR, config: { path: 'fieldseal.config.ts', config, module: {} } });
      return { exitCode, output };
    },
  };
}
