/**
 * Typed errors. Every error has a stable `code`; messages come from the catalog in
 * `messages.ts` and never contain key material, ciphertext or plaintext of an encrypted field.
 * Identifiers (model, field, row id, key id, scope, version) are not secret and are included.
 */

/** Stable error codes, safe to match on. */
export type HushfieldErrorCode =
  | 'HUSHFIELD_DECRYPTION_FAILED'
  | 'HUSHFIELD_ENVELOPE_FORMAT'
  | 'HUSHFIELD_KEYRING'
  | 'HUSHFIELD_KEY_DESTROYED'
  | 'HUSHFIELD_KEY_NOT_FOUND'
  | 'HUSHFIELD_KEY_CONFLICT'
  | 'HUSHFIELD_KEY_STORE'
  | 'HUSHFIELD_CONFIG'
  | 'HUSHFIELD_UNSUPPORTED_QUERY'
  | 'HUSHFIELD_INVALID_ARGUMENT'
  | 'HUSHFIELD_ROW_MOVED'
  | 'HUSHFIELD_AUDIT_UNWRITTEN';

/** Where a failing value lives; all optional because core does not always know. */
export interface ValueLocation {
  readonly model?: string;
  readonly field?: string;
  readonly rowId?: string;
  /** The scope of the value's row, when the read named it (`FieldContext.scope`). */
  readonly scope?: string;
}

/** Base class of every error hushfield throws. */
export class HushfieldError extends Error {
  /** Stable machine-readable code. */
  readonly code: HushfieldErrorCode;

  constructor(code: HushfieldErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** A stored value failed to authenticate or decrypt (tampered, moved, wrong key). */
export class DecryptionError extends HushfieldError {
  readonly model?: string;
  readonly field?: string;
  readonly rowId?: string;
  /**
   * Set when the value was refused because its key is not a key of its row's scope (this
   * scope): copied from another scope's row, or the row's scope column was changed.
   */
  readonly otherScope?: string;

  constructor(message: string, location: ValueLocation = {}, options?: { cause?: unknown; otherScope?: string }) {
    super('HUSHFIELD_DECRYPTION_FAILED', message, options);
    this.model = location.model;
    this.field = location.field;
    this.rowId = location.rowId;
    if (options?.otherScope !== undefined) this.otherScope = options.otherScope;
  }
}

/** A string is not a well-formed envelope (bad tag, length, encoding, or trailing data). */
export class EnvelopeFormatError extends HushfieldError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HUSHFIELD_ENVELOPE_FORMAT', message, options);
  }
}

/**
 * A keyring call failed. Names the keyring and operation, never the bytes involved. The
 * built-in keyrings throw it (or a subclass) themselves, with no `cause`. For an untyped error
 * thrown by a keyring of your own, `cause` keeps that error's class name, its `code` and its
 * stack frames only, not its message or other properties: the keyring was handed the key it
 * wraps (or unwrapped one), and its error may carry it (an HTTP client's error holds the request
 * body).
 */
export class KeyringError extends HushfieldError {
  readonly keyringId: string;
  readonly operation: 'wrap' | 'unwrap' | 'generate' | 'describe';
  /** Whether retrying later may succeed (throttling, timeouts, outages). */
  readonly retryable: boolean;
  /**
   * For an unwrap: the keyring the key store says wrapped the key, when it is not
   * `keyringId` (the one asked), e.g. after `keys rewrap`.
   */
  readonly wrappedBy?: string;

  constructor(
    message: string,
    details: { keyringId: string; operation: KeyringError['operation']; retryable?: boolean; wrappedBy?: string },
    options?: { cause?: unknown },
  ) {
    super('HUSHFIELD_KEYRING', message, options);
    this.keyringId = details.keyringId;
    this.operation = details.operation;
    this.retryable = details.retryable ?? false;
    if (details.wrappedBy !== undefined) this.wrappedBy = details.wrappedBy;
  }
}

/** The key a value needs was destroyed (crypto-shredded): the value is gone for good. */
export class KeyDestroyedError extends HushfieldError {
  readonly keyId: string;
  readonly scope: string;
  readonly version: number;
  readonly model?: string;
  readonly field?: string;
  readonly rowId?: string;

  constructor(message: string, key: { keyId: string; scope: string; version: number }, location: ValueLocation = {}) {
    super('HUSHFIELD_KEY_DESTROYED', message);
    this.keyId = key.keyId;
    this.scope = key.scope;
    this.version = key.version;
    this.model = location.model;
    this.field = location.field;
    this.rowId = location.rowId;
  }
}

/** The key store has no key with the id and version a value names. */
export class KeyNotFoundError extends HushfieldError {
  readonly keyId: string;
  readonly version?: number;

  constructor(message: string, key: { keyId: string; version?: number }) {
    super('HUSHFIELD_KEY_NOT_FOUND', message);
    this.keyId = key.keyId;
    this.version = key.version;
  }
}

/**
 * The key store failed under a read of key material (its database errored or timed out), or
 * a key write's own transaction timed out (nothing stored): a transient outage, not a verdict
 * on the value, so it is never read as `null`. The database's
 * own error is the `cause`; the message names the key and the value's location only.
 */
export class KeyStoreError extends HushfieldError {
  readonly keyId: string;
  readonly version: number;
  readonly model?: string;
  readonly field?: string;
  readonly rowId?: string;

  constructor(
    message: string,
    key: { keyId: string; version: number },
    location: ValueLocation = {},
    options?: { cause?: unknown },
  ) {
    super('HUSHFIELD_KEY_STORE', message, options);
    this.keyId = key.keyId;
    this.version = key.version;
    this.model = location.model;
    this.field = location.field;
    this.rowId = location.rowId;
  }
}

/** A key-store write lost a race (the key version already exists). Callers re-read. */
export class KeyConflictError extends HushfieldError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HUSHFIELD_KEY_CONFLICT', message, options);
  }
}

/** Invalid configuration or schema annotations. */
export class ConfigError extends HushfieldError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HUSHFIELD_CONFIG', message, options);
  }
}

/** A query would send an encrypted field's plaintext to the database, or cannot be answered. */
export class UnsupportedQueryError extends HushfieldError {
  readonly model: string;
  readonly field: string;
  readonly operation: string;

  constructor(message: string, details: { model: string; field: string; operation: string }) {
    super('HUSHFIELD_UNSUPPORTED_QUERY', message);
    this.model = details.model;
    this.field = details.field;
    this.operation = details.operation;
  }
}

/** A public function was called with a bad argument (names the argument, never its secret value). */
export class InvalidArgumentError extends HushfieldError {
  readonly argument: string;

  constructor(message: string, argument: string) {
    super('HUSHFIELD_INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/**
 * A write sealed for a row's scope kept missing the row: each time it was read, another client
 * moved it to another scope (or changed its id) before the write. Nothing was written; retrying
 * later may succeed.
 */
export class RowMovedError extends HushfieldError {
  readonly model: string;
  readonly operation: string;
  /** How many times the row was read and the write sent. */
  readonly attempts: number;

  constructor(message: string, details: { model: string; operation: string; attempts: number }) {
    super('HUSHFIELD_ROW_MOVED', message);
    this.model = details.model;
    this.operation = details.operation;
    this.attempts = details.attempts;
  }
}

/**
 * An audit sink's `close()` gave up waiting for its writer (a write that did not return within
 * `closeTimeoutMs`): `unwritten` events (the batch in flight and those queued behind it) are not
 * known to be written. The sink keeps them and goes on writing should the write return; an
 * application that exits now loses them.
 */
export class AuditUnwrittenError extends HushfieldError {
  /** The sink's `name`. */
  readonly sink: string;
  /** Events not written when `close()` gave up. */
  readonly unwritten: number;
  /** How long `close()` waited, in ms. */
  readonly timeoutMs: number;

  constructor(message: string, details: { sink: string; unwritten: number; timeoutMs: number }) {
    super('HUSHFIELD_AUDIT_UNWRITTEN', message);
    this.sink = details.sink;
    this.unwritten = details.unwritten;
    this.timeoutMs = details.timeoutMs;
  }
}
