/**
 * Entry of the decrypt thread (see `parallel-decrypt.ts`): it says when it is ready, then
 * answers each job with {@link openJob}'s result (texts and DEK ids; the DEKs themselves are in
 * the job's shared buffer, which the calling thread zeroes).
 */
import { parentPort } from 'node:worker_threads';
import { openJob, type OpenJob } from './thread-open';

const port = parentPort;
if (port !== null) {
  port.on('message', (job: OpenJob) => {
    port.postMessage(openJob(job));
  });
  port.postMessage('ready');
}
