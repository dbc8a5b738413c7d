#!/usr/bin/env node
/**
 * The `hushfield` executable: runs the command tree on the process's arguments and streams,
 * then exits with its code (see `exit-codes.ts`). The first SIGINT/SIGTERM asks a bulk run to
 * stop after the batches in flight (checkpoint saved); a second one exits at once, which is
 * also safe: the checkpoint only ever names committed batches.
 */
import { run } from './program';
import { messages } from './messages';

const controller = new AbortController();
const interrupt = (signal: NodeJS.Signals) => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write(`\n${messages.bin.stopping(signal)}\n`);
  controller.abort();
};
// `hushfield keys list | head`: a reader that went away is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

run(process.argv.slice(2), { signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  },
  (error: unknown) => {
    process.stderr.write(`${messages.bin.unexpectedFailure(error instanceof Error ? error.name : 'error')}\n`);
    process.exitCode = 1;
  },
);
