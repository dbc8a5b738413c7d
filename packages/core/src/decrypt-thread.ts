/**
 * Entry of the decrypt thread (see `parallel-decrypt.ts`): it says when it is ready (a message,
 * and its ready flag), then answers each job with {@link openJob}'s result (texts and DEK ids;
 * the DEKs themselves are in the job's shared buffer, which the calling thread zeroes).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openJob, type OpenJob } from './thread-open';

const port = parentPort;
if (port !== null) {
  port.on('message', (job: OpenJob) => {
    port.postMessage(openJob(job));
  });
  // Ready, where the calling thread can read it without its event loop turning (thread-host.ts),
  // then as a message; jobs are listened for already.
  const ready: unknown = (workerData as { ready?: unknown } | null)?.ready;
  if (ready instanceof Int32Array) {
    Atomics.store(ready, 0, 1);
    Atomics.notify(ready, 0);
  }
  port.postMessage('ready');
}
