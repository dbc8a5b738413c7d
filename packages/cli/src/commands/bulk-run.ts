/**
 * Shared driver of `reencrypt` and `decrypt`: runs the migrator over each selected model,
 * prints a per-model summary (or JSON), and maps the outcome to an exit code.
 */
import { CheckpointStore } from '../checkpoint';
import { createCasWriter } from '../cas-writer';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { ExitCodeValue } from '../exit-codes';
import { messages } from '../messages';
import { migrateModel } from '../migrator';
import type { MigrateResult } from '../migrator-result';
import type { ResumePolicy } from '../migrator-resume';
import { PfeImporter } from '../pfe-import';
import { assertRowKeys } from '../row-key';
import { createProgress } from '../progress';
import type { PlanMode } from '../row-plan';
import type { ModelMeta } from '@hushfield/prisma';
import { runScaled } from './scaled-run';
import type { ScaleOptions } from './scaled-run';
import { TokenBucket } from '../rate-limit';
import { bulkModelSpan } from '../telemetry';

/** Options shared by `reencrypt` and `decrypt`. */
export interface BulkOptions {
  readonly model?: string;
  readonly batch: number;
  readonly concurrency: number;
  readonly dryRun: boolean;
  /**
   * Move (or, for `decrypt`, open) values sealed under another scope's key than their row's:
   * after a model's `@encryption(scope: ...)` was added or changed. Without it they fail their row.
   */
  readonly rescope?: boolean;
  /**
   * Open values of a model bound to a field (`@encryption(bind: ...)`) that were sealed before the
   * binding was added, and (for `reencrypt`) seal every value again, bound. Without it they fail their row.
   */
  readonly rebind?: boolean;
  /**
   * `reencrypt` only: recompute every blind and match index value from its field's plaintext and
   * write those that differ, without rotating a key (values left by a deploy without the index
   * or without `@encrypted`, which `status --verify` counts as stale).
   */
  readonly reindex?: boolean;
  readonly resume: ResumePolicy;
  readonly fromPfeKey?: readonly string[];
  readonly quiet?: boolean;
  /** Attempts per batch while the keyring is throttled or unreachable (default 5). */
  readonly keyringAttempts?: number;
  /** Aborted on SIGINT/SIGTERM: stop after the batches in flight. */
  readonly signal?: AbortSignal;
  /** Rows read per second at most (a token bucket; in a scaled-out run, for the whole run). */
  readonly maxRowsPerSecond?: number;
  /** Scale out (`--run`, `--workers`, caps): see `scaled-run.ts`. Absent: one process, one checkpoint per model. */
  readonly scale?: ScaleOptions;
}

/** Runs `mode` over the selected models: in this process alone, or as (part of) a scaled-out run. */
export async function runBulk(ctx: CommandContext, mode: PlanMode, options: BulkOptions): Promise<ExitCodeValue> {
  return options.scale ? runScaled(ctx, mode, options, options.scale) : runSingle(ctx, mode, options);
}

/** The models `mode` acts on (`--model`, else every model with fields it handles). */
export function bulkModels(ctx: CommandContext, mode: PlanMode, only?: string): ModelMeta[] {
  return ctx
    .models(only)
    .filter((model) =>
      Object.values(model.encrypted).some((field) =>
        mode === 'decrypt' ? field.mode === 'readonly' : field.mode !== 'readonly',
      ),
    );
}

async function runSingle(ctx: CommandContext, mode: PlanMode, options: BulkOptions): Promise<ExitCodeValue> {
  const models = bulkModels(ctx, mode, options.model);
  assertRowKeys(models);
  const pfe = options.fromPfeKey && options.fromPfeKey.length > 0 ? new PfeImporter(options.fromPfeKey) : undefined;
  const client = await ctx.client();
  const crypto = await ctx.crypto();
  const keyStore = await ctx.keyStore();
  const guard = await ctx.shredGuard();
  const checkpoints = new CheckpointStore(client);
  const io = ctx.out.streams;
  const progress = createProgress(io.stderr, { tty: io.stderrIsTTY, quiet: options.quiet });
  const log = (line: string) => progress.note(line);
  if (models.length === 0) log(messages.bulk.nothingToDo(mode));
  const bucket = options.maxRowsPerSecond ? new TokenBucket(options.maxRowsPerSecond, options.batch) : undefined;

  const results: MigrateResult[] = [];
  for (const model of models) {
    const result = await bulkModelSpan(mode, model.name, async () =>
      migrateModel({
        client,
        crypto,
        keyStore,
        model,
        mode,
        checkpoints,
        pfe,
        progress,
        log,
        writer: await createCasWriter(client, model, guard),
        batchSize: options.batch,
        concurrency: options.concurrency,
        dryRun: options.dryRun,
        rescope: options.rescope,
        rebind: options.rebind,
        reindex: options.reindex,
        resume: options.resume,
        keyringAttempts: options.keyringAttempts,
        signal: options.signal,
        throttle: bucket ? (rows) => bucket.take(rows, options.signal) : undefined,
      }),
    );
    results.push(result);
    if (result.stopped) break;
  }
  progress.stop();
  return reportBulk(ctx, mode, options.dryRun, results);
}

/**
 * Prints the per-model summary (or the JSON document, with `extra` merged in and `extraLines`
 * after the models) and maps the outcome to an exit code.
 */
export function reportBulk(
  ctx: CommandContext,
  mode: PlanMode,
  dryRun: boolean,
  results: readonly MigrateResult[],
  extra: Record<string, unknown> = {},
  extraLines: readonly string[] = [],
  /** Rows left undone elsewhere (ranges another process of a scaled-out run finished `partial`). */
  undoneElsewhere = false,
): ExitCodeValue {
  // Plaintext left in a strict field is unreadable through the extension: the run is not done.
  const incomplete =
    undoneElsewhere ||
    results.some(
      (result) =>
        result.failed > 0 || result.pending > 0 || result.strictPlaintext > 0 || result.pendingOverflow === true,
    );
  const stopped = results.find((result) => result.stopped);
  const stop = stopped?.stopped ? { model: stopped.model, ...stopped.stopped } : undefined;
  // Encrypting adopted plaintext cannot reach the copies made before: say so wherever it happens.
  const adopted = mode === 'reencrypt' && results.some((result) => result.encrypted > 0);
  const notices = adopted ? [messages.bulk.adoptionNotice()] : [];
  ctx.out.result(
    {
      command: mode,
      dryRun,
      models: results,
      ...extra,
      ...(stop ? { stopped: stop } : {}),
      ...(adopted ? { notices } : {}),
    },
    () => [
      ...results.map((result) => messages.bulk.summary(mode, result, dryRun)),
      ...extraLines,
      ...notices.map((notice) => messages.bulk.note(notice)),
      ...results.flatMap((result) =>
        result.failures
          .slice(0, 10)
          .map((failure) =>
            messages.bulk.rowFailure(result.model, failure.key, failure.field, failure.code, failure.message),
          ),
      ),
      ...(stop ? [messages.bulk.stopped(stop.model, stop.message, stop.code), messages.bulk.resumable()] : []),
    ],
  );
  if (stop?.code === 'INTERRUPTED') return ExitCode.Aborted;
  if (stop) return results.some((result) => result.written > 0) ? ExitCode.Partial : ExitCode.Failure;
  return incomplete ? ExitCode.Partial : ExitCode.Ok;
}
