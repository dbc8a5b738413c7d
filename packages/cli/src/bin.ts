#!/usr/bin/env node
/**
 * The `fieldseal` executable: runs the command tree on the process's arguments and streams,
 * then exits with its code (see `exit-codes.ts`).
 */
import { run } from './program';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fieldseal: unexpected failure: ${error instanceof Error ? error.name : 'error'}\n`);
    process.exitCode = 1;
  },
);
