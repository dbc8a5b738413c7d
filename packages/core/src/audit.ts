/**
 * Audit events: every keyring call and key lifecycle event, delivered to a pluggable sink.
 * Events never carry key material, wrapped keys, ciphertext or plaintext.
 */

/** Who is acting (user id, request id, service name...), supplied by the application. */
export type ActorContext = Readonly<Record<string, string>>;

/** What happened. `keyring.*` are calls to the root keyring; `key.*` are lifecycle events. */
export type AuditOperation =
  | 'keyring.wrap'
  | 'keyring.unwrap'
  | 'keyring.generate'
  | 'key.create'
  | 'key.rotate'
  | 'key.rewrap'
  | 'key.destroy'
  | 'value.decrypt';

/** One audit record. */
export interface AuditEvent {
  readonly time: Date;
  readonly operation: AuditOperation;
  readonly outcome: 'success' | 'failure';
  readonly keyId?: string;
  readonly kind?: 'scope' | 'index';
  readonly scope?: string;
  readonly version?: number;
  readonly keyringId?: string;
  /** Wall time of the call, for keyring operations. */
  readonly latencyMs?: number;
  /** The typed error's `code` when `outcome` is `failure`. */
  readonly errorCode?: string;
  readonly actor?: ActorContext;
  /** Extra non-secret facts (model, field, row id for `value.decrypt`; attempts for KMS). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** Receives audit events. It must not throw; a failing sink is reported, never fatal. */
export interface AuditSink {
  emit(event: AuditEvent): void | Promise<void>;
  /**
   * Optional: writes what the sink still holds, for a sink that queues events
   * (`BatchingAuditSink`, `PrismaAuditSink`). The CLI awaits it at the end of every
   * command, before it disconnects, so no event is lost when its process exits; an application
   * calls it at shutdown. Rejects when events could not be written (`AuditUnwrittenError`);
   * the sink stays usable afterwards.
   */
  close?(): Promise<void>;
}
