/**
 * Runs the `hushfield` CLI in this process, through its programmatic entry `run()`, on the
 * demo's open database, and captures what it prints.
 */
import { PassThrough, Writable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { run, type CliIO } from '@hushfield/cli';
import type { Keyring } from '@hushfield/core';
import { clinicConfig } from './hushfield-config';
import { EXAMPLE_DIR } from './paths';

/** The CLI bound to the demo's database. */
export interface HushfieldCli {
  /** Runs `hushfield <args>`; resolves with its exit code and everything it printed. */
  run(args: readonly string[]): Promise<{ exitCode: number; output: string }>;
}

/** A CLI runner on the open database `pglite`, unwrapping keys with `keyring`. */
export function openHushfield(pglite: PGlite, keyring: Keyring): HushfieldCli {
  const config = clinicConfig(
    () => pglite,
    () => keyring,
  );
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
      const exitCode = await run(args, {
        io,
        cwd: EXAMPLE_DIR,
        config: { path: 'hushfield.config.ts', config, module: {} },
      });
      return { exitCode, output };
    },
  };
}
