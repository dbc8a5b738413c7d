/**
 * Delivers audit events to the configured sink, stamping time and actor. A sink that throws or
 * rejects is reported as a process warning (naming the error class only) and never fails the
 * operation being audited; an `actor()` that throws is warned about the same way, and the event
 * is delivered without an actor, saying so (`detail.actorFailed`, the error's class name). A
 * sink (or `actor()`) that fails on every event warns at once, then at most once per
 * {@link WARNING_INTERVAL_MS} with the number of failures since: a flood of warnings would bury
 * everything else the process logs.
 */
import type { ActorContext, AuditEvent, AuditSink } from './audit';
import { needs } from './preconditions';

/** Least time between two warnings about the same kind of failure of one emitter. */
export const WARNING_INTERVAL_MS = 60_000;

/** Failures of one kind since the last warning about them, and when that warning went out. */
class WarningThrottle {
  #unreported = 0;
  #warnedAt: number | undefined;

  constructor(private readonly now: () => number) {}

  /** Counts one failure; @returns how many to report now, or 0 while the last warning is recent. */
  failed(): number {
    this.#unreported++;
    const now = this.now();
    if (this.#warnedAt !== undefined && now - this.#warnedAt < WARNING_INTERVAL_MS) return 0;
    this.#warnedAt = now;
    const count = this.#unreported;
    this.#unreported = 0;
    return count;
  }
}

/**
 * Checks the `audit` and `actor` options where they are given: a sink without `emit` (a bare
 * function, say) would lose every event with a warning only, so it is refused up front.
 * @param prefix - how the caller names its options object in errors (`options`), if it does
 * @throws InvalidArgumentError when `audit` is given and has no `emit()`, or `actor` is given and is not a function
 * @example
 * checkAuditOptions(options); // in a keyring's constructor
 */
export function checkAuditOptions(
  options: { readonly audit?: unknown; readonly actor?: unknown },
  prefix?: string,
): void {
  const { audit, actor } = options;
  const named = (option: string) => (prefix === undefined ? option : `${prefix}.${option}`);
  needs(
    audit === undefined ||
      ((typeof audit === 'object' || typeof audit === 'function') &&
        audit !== null &&
        typeof (audit as Partial<AuditSink>).emit === 'function'),
    named('audit'),
    'must be an AuditSink (an object with emit(event))',
  );
  needs(actor === undefined || typeof actor === 'function', named('actor'), 'must be a function');
}

/** An audit event before the emitter stamps `time` and `actor`. */
export type AuditDraft = Omit<AuditEvent, 'time' | 'actor'>;

/** Emits audit events to an optional sink. */
export class AuditEmitter {
  readonly #sink: AuditSink | undefined;
  readonly #actor: (() => ActorContext | undefined) | undefined;

  readonly #sinkFailures: WarningThrottle;
  readonly #actorFailures: WarningThrottle;

  /** @param now - the clock warnings are spaced by (milliseconds; tests pass their own) */
  constructor(sink?: AuditSink, actor?: () => ActorContext | undefined, now: () => number = () => performance.now()) {
    this.#sink = sink;
    this.#actor = actor;
    this.#sinkFailures = new WarningThrottle(now);
    this.#actorFailures = new WarningThrottle(now);
  }

  /** Whether a sink is configured (lets hot paths skip building events). */
  get enabled(): boolean {
    return this.#sink !== undefined;
  }

  /** Sends one event; never throws. */
  emit(draft: AuditDraft): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    try {
      const actor = this.#actorOrFailure();
      const event: AuditEvent =
        'failed' in actor
          ? { time: new Date(), ...draft, detail: { ...draft.detail, actorFailed: actor.failed } }
          : actor.actor === undefined
            ? { time: new Date(), ...draft }
            : { time: new Date(), ...draft, actor: actor.actor };
      const result = sink.emit(event);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error: unknown) => this.#report(error));
      }
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Runs `call`, emitting one event with its latency and outcome (and the typed error's code on
   * failure). Rethrows what `call` throws.
   */
  async timed<T>(draft: Omit<AuditDraft, 'outcome' | 'latencyMs' | 'errorCode'>, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      this.emit({ ...draft, outcome: 'success', latencyMs: performance.now() - started });
      return result;
    } catch (error) {
      const errorCode = (error as { code?: unknown })?.code;
      this.emit({
        ...draft,
        outcome: 'failure',
        latencyMs: performance.now() - started,
        ...(typeof errorCode === 'string' ? { errorCode } : {}),
      });
      throw error;
    }
  }

  /**
   * The actor context, or the class name of what `actor()` threw: the event is still recorded
   * (a keyring call made outside a request is audited all the same), says its actor failed, and
   * the failure is warned about.
   */
  #actorOrFailure(): { actor: ActorContext | undefined } | { failed: string } {
    try {
      return { actor: this.#actor?.() };
    } catch (error) {
      const count = this.#actorFailures.failed();
      if (count > 0) {
        process.emitWarning(
          `hushfield audit actor() failed (${errorName(error)}); ${times(count)} recorded without an actor`,
          'HushfieldAuditWarning',
        );
      }
      return { failed: errorName(error) };
    }
  }

  #report(error: unknown): void {
    const count = this.#sinkFailures.failed();
    if (count === 0) return;
    process.emitWarning(
      `hushfield audit sink failed (${errorName(error)}); ${times(count)} dropped`,
      'HushfieldAuditWarning',
    );
  }
}

/** The class of what was thrown, never its message (which may quote values). */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  // A class name, or nothing of it: an odd `name` is the thrower's text.
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(error.name) ? error.name : 'Error';
}

/** "the event was" / "n events since the last warning were". */
function times(count: number): string {
  return count === 1 ? 'the event was' : `${count} events since the last warning were`;
}
