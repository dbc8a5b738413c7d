/**
 * Entry of the decrypt thread (see `parallel-decrypt.ts`): it says when it is ready, then
 * answers each job with {@link openJob}'s result, handing the DEKs' buffer over, not copying it.
 */
import { parentPort } from 'node:worker_threads';
import { openJob, type OpenJob } from './thread-open';

const port = parentPort;
if (port !== null) {
  port.on('message', (job: OpenJob) => {
    const result = openJob(job);
    port.postMessage(result, [result.deks]);
  });
  port.postMessage('ready');
}
