/**
 * Progress of a bulk run: a cli-progress bar with rows/s and ETA when stderr is a terminal,
 * plain lines otherwise (at most one every few seconds, plus one at the end of each model),
 * nothing at all when silenced. Always on stderr, so `--json` output stays parseable.
 */
import { SingleBar, Presets } from 'cli-progress';
import { messages } from './messages';

/** Receives progress of one model at a time. */
export interface Progress {
  start(model: string, total: number, done: number): void;
  advance(rows: number): void;
  note(line: string): void;
  stop(): void;
}

/** Rows per second and time left. */
export function rate(rows: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : Math.round((rows * 1000) / elapsedMs);
}

/** A progress reporter for `stream`: a bar on a terminal, lines otherwise. */
export function createProgress(
  stream: NodeJS.WritableStream,
  options: { tty: boolean; quiet?: boolean; intervalMs?: number },
): Progress {
  if (options.quiet) return { start() {}, advance() {}, note() {}, stop() {} };
  return options.tty ? new BarProgress(stream) : new LineProgress(stream, options.intervalMs ?? 5000);
}

class BarProgress implements Progress {
  private bar: SingleBar | null = null;
  private value = 0;
  private startValue = 0;
  private startedAt = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  start(model: string, total: number, done: number): void {
    this.stop();
    this.bar = new SingleBar(
      {
        stream: this.stream as NodeJS.WritableStream & { isTTY?: boolean },
        format: messages.progress.bar(model),
        etaBuffer: 50,
        hideCursor: true,
        // Drawn only when the caller found a terminal; this lets a captured stream show it too.
        noTTYOutput: true,
      },
      Presets.shades_classic,
    );
    this.value = done;
    this.startValue = done;
    this.startedAt = Date.now();
    this.bar.start(Math.max(total, done), done, { speed: 0 });
  }

  advance(rows: number): void {
    if (!this.bar) return;
    this.value += rows;
    if (this.value > this.bar.getTotal()) this.bar.setTotal(this.value);
    this.bar.update(this.value, { speed: rate(this.value - this.startValue, Date.now() - this.startedAt) });
  }

  note(line: string): void {
    this.stream.write(`\n${line}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

class LineProgress implements Progress {
  private model = '';
  private total = 0;
  private done = 0;
  private startDone = 0;
  private startedAt = 0;
  private lastLine = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {}

  start(model: string, total: number, done: number): void {
    Object.assign(this, {
      model,
      total: Math.max(total, done),
      done,
      startDone: done,
      startedAt: Date.now(),
      lastLine: Date.now(),
    });
  }

  advance(rows: number): void {
    this.done += rows;
    if (Date.now() - this.lastLine >= this.intervalMs) this.line();
  }

  note(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {
    if (this.model && this.total > 0) this.line();
    this.model = '';
  }

  private line(): void {
    this.lastLine = Date.now();
    const elapsed = Date.now() - this.startedAt;
    const speed = rate(this.done - this.startDone, elapsed);
    const left = Math.max(0, this.total - this.done);
    const eta = speed > 0 ? `${Math.ceil(left / speed)}s` : '?';
    this.stream.write(`${messages.progress.line(this.model, this.done, this.total, speed, eta)}\n`);
  }
}

/**
 * Progress of a scaled-out run, one plain line every `intervalMs` (and one at the end): the
 * whole run's rows (checkpointed by every process), its rows/s since this process joined and
 * the ETA, then each worker of this process with its own rows/s.
 */
export class RunProgress {
  private readonly startedAt = Date.now();
  private startDone: number | null = null;
  private lastLine = 0;

  constructor(
    private readonly runId: string,
    private readonly write: (line: string) => void,
    private readonly options: { quiet: boolean; intervalMs?: number },
  ) {}

  /** Records the run's rows done and planned, and this process's rows per worker; prints when due. */
  sample(done: number, total: number, workers: ReadonlyMap<string, number>, final = false): void {
    this.startDone ??= done;
    const now = Date.now();
    if (this.options.quiet || (!final && now - this.lastLine < (this.options.intervalMs ?? 5000))) return;
    this.lastLine = now;
    const elapsed = now - this.startedAt;
    const speed = rate(done - this.startDone, elapsed);
    const left = Math.max(0, total - done);
    const eta = left === 0 ? '0s' : speed > 0 ? `${Math.ceil(left / speed)}s` : '?';
    const perWorker = [...workers]
      .map(([worker, rows]) => messages.runs.workerRate(worker.slice(worker.lastIndexOf(':') + 1), rate(rows, elapsed)))
      .join(', ');
    this.write(messages.runs.progress(this.runId, done, Math.max(total, done), speed, eta, perWorker));
  }
}
