/**
 * Delivers audit events to the configured sink, stamping time and actor. A sink that throws or
 * rejects is reported as a process warning (naming the error class only) and never fails the
 * operation being audited; an `actor()` that throws is warned about the same way, and the event
 * is delivered without an actor.
 */
import type { ActorContext, AuditEvent, AuditSink } from './audit';

/** An audit event before the emitter stamps `time` and `actor`. */
export type AuditDraft = Omit<AuditEvent, 'time' | 'actor'>;

/** Emits audit events to an optional sink. */
export class AuditEmitter {
  readonly #sink: AuditSink | undefined;
  readonly #actor: (() => ActorContext | undefined) | undefined;

  constructor(sink?: AuditSink, actor?: () => ActorContext | undefined) {
    this.#sink = sink;
    this.#actor = actor;
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
      const actor = this.#actorOrNone();
      const event: AuditEvent =
        actor === undefined ? { time: new Date(), ...draft } : { time: new Date(), ...draft, actor };
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
   * The actor context, or none when `actor()` throws: the event is still recorded (a keyring
   * call made outside a request is audited all the same) and the failure is warned about.
   */
  #actorOrNone(): ActorContext | undefined {
    try {
      return this.#actor?.();
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      process.emitWarning(
        `hushfield audit actor() failed (${name}); the event is recorded without an actor`,
        'HushfieldAuditWarning',
      );
      return undefined;
    }
  }

  #report(error: unknown): void {
    const name = error instanceof Error ? error.name : typeof error;
    process.emitWarning(`hushfield audit sink failed (${name}); the event was dropped`, 'HushfieldAuditWarning');
  }
}
