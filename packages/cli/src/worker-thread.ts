/**
 * The entry of a `--workers N` worker thread: loads the configuration the way the CLI did,
 * opens its own Prisma client, keyring and key cache (so decryption and encryption run off
 * the main thread), runs the range-worker loop, and reports to the main thread: committed
 * rows (progress), requests for rate-cap tokens, log lines, and its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PassThrough } from 'node:stream';
import { loadConfig } from './config';
import { CommandContext } from './context';
import { Output, describeError } from './output';
import { PfeImporter } from './pfe-import';
import { emptyWorkerResult, runRangeWorker } from './range-worker';
import { bulkModels } from './commands/bulk-run';
import type { MainMessage, ThreadData, ThreadMessage } from './commands/scaled-run';

const data = workerData as ThreadData;
const port = parentPort as NonNullable<typeof parentPort>;
const post = (message: ThreadMessage) => port.postMessage(message);
const stop = new AbortController();
const grants = new Map<number, () => void>();
let nextTake = 0;

port.on('message', (message: MainMessage) => {
  if (message.type === 'stop') stop.abort();
  else if (message.type === 'grant') {
    grants.get(message.id)?.();
    grants.delete(message.id);
  }
});

/** Asks the main thread's token bucket for `rows` tokens; an abort stops waiting. */
function take(rows: number, signal: AbortSignal): Promise<void> {
  const id = nextTake++;
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      grants.delete(id);
      resolve();
    };
    grants.set(id, done);
    signal.addEventListener('abort', done, { once: true });
    post({ type: 'take', id, rows });
  });
}

async function main(): Promise<void> {
  const loaded = await loadConfig(data.cwd, data.configPath, data.dotenv);
  // Nothing is printed from here: lines go to the main thread, which owns the streams.
  const quiet = new PassThrough();
  const ctx = new CommandContext(
    loaded,
    new Output({ stdout: quiet, stderr: quiet, stdin: quiet, stdinIsTTY: false, stderrIsTTY: false }, false),
  );
  let sinkClosed = false;
  try {
    const result = await runRangeWorker({
      client: await ctx.client(),
      crypto: await ctx.crypto(),
      keyStore: await ctx.keyStore(),
      shredGuard: await ctx.shredGuard(),
      models: bulkModels(ctx, data.mode),
      mode: data.mode,
      runId: data.runId,
      owner: data.owner,
      leaseSeconds: data.leaseSeconds,
      batchSize: data.batchSize,
      concurrency: data.concurrency,
      keyringAttempts: data.keyringAttempts,
      pfe: data.fromPfeKey && data.fromPfeKey.length > 0 ? new PfeImporter(data.fromPfeKey) : undefined,
      rescope: data.rescope,
      rebind: data.rebind,
      reindex: data.reindex,
      pollMs: data.pollMs,
      signal: stop.signal,
      throttle: take,
      onRows: (rows) => post({ type: 'rows', rows }),
      log: (line) => post({ type: 'log', line }),
    });
    // The thread's own audit sink (built from the configuration) holds its key events: written
    // before the result is posted, as the main thread's are at the end of the command.
    const unwritten = await ctx.closeAuditSink();
    sinkClosed = true;
    post({
      type: 'result',
      result: unwritten === undefined || result.stopped ? result : { ...result, stopped: describeError(unwritten) },
    });
  } finally {
    if (!sinkClosed) await ctx.closeAuditSink();
    await ctx.close().catch(() => undefined);
  }
}

// The port closes only after the result is posted: a failure to open the client, keyring or key
// store here reaches the main thread with its reason (a message posted on a closed port is lost).
main()
  .catch((error: unknown) => {
    post({
      type: 'result',
      result: { ...emptyWorkerResult(data.owner), stopped: describeError(error) },
    });
  })
  .finally(() => port.close());
