/**
 * Every call the key hierarchy makes to a keyring goes through here: it builds the encryption
 * context that binds a wrapped key to its id, kind, scope and version, times the call, emits
 * one audit event, counts it, and turns any failure into a `KeyringError`.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from './aead';
import type { AuditEmitter } from './audit-emitter';
import { HushfieldError, KeyringError } from './errors';
import type { EncryptionContext, Keyring } from './keyring';
import type { KeyKind, StoredKey } from './key-store';
import { messages } from './messages';
import { keyringSpan } from './telemetry';

/** What identifies one key version for wrapping. */
export interface KeySlot {
  readonly keyId: string;
  readonly kind: KeyKind;
  readonly scope: string;
  readonly version: number;
}

/** The encryption context of a key version (see docs/CONTRACTS.md). */
export function wrapContext(slot: KeySlot): EncryptionContext {
  return {
    purpose: slot.kind === 'scope' ? 'hushfield/scope-key' : 'hushfield/index-key',
    keyId: slot.keyId,
    scope: slot.scope,
    version: String(slot.version),
  };
}

/**
 * What of a keyring's own (untyped) error is kept as `cause`: its class name, a short `code`
 * (`ECONNRESET`) and its stack frames, never its message nor any other property. The keyring was
 * handed the key it wraps, or unwrapped one, and its error may carry either: an HTTP client's
 * error holds the request it failed on (body and all), and a message may quote anything. The
 * built-in keyrings throw typed errors, which carry no key and are passed on as they are.
 */
function redactedCause(error: unknown): Error {
  const name = className(error);
  const code = (error as { code?: unknown } | null)?.code;
  const keptCode = typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : undefined;
  const cause = new Error(messages.keyringCauseWithheld(keptCode));
  cause.name = name;
  if (keptCode !== undefined) Object.assign(cause, { code: keptCode });
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
  // Frames only: the stack's first lines repeat the message.
  const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
  cause.stack = [`${name}: ${cause.message}`, ...frames].join('\n');
  return cause;
}

/** The class name of what a keyring threw, or `Error` when its `name` is not one (the thrower's text). */
function className(error: unknown): string {
  return error instanceof Error && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(error.name) ? error.name : 'Error';
}

function asKeyringError(error: unknown, keyring: Keyring, operation: KeyringError['operation']): HushfieldError {
  if (error instanceof HushfieldError) return error;
  // Sanitised as in the cause: the message goes to the same logs.
  const reason = error instanceof Error ? className(error) : 'unknown error';
  return new KeyringError(
    messages.keyringFailed(keyring.id, operation, reason),
    { keyringId: keyring.id, operation },
    { cause: redactedCause(error) },
  );
}

/**
 * The error for a key another keyring wrapped (its row names that keyring) which `keyring`
 * failed to unwrap: it names both, since "tampered" would send the operator the wrong way.
 * `undefined` for the keyring that wrapped it, and for transient failures (an outage stays one).
 */
function wrappedElsewhere(error: unknown, keyring: Keyring, stored: StoredKey): KeyringError | undefined {
  if (stored.keyringId === keyring.id || (error instanceof KeyringError && error.retryable)) return undefined;
  return new KeyringError(
    messages.keyringMismatch(stored, stored.keyringId, keyring.id),
    { keyringId: keyring.id, operation: 'unwrap', wrappedBy: stored.keyringId },
    { cause: error instanceof HushfieldError ? error : redactedCause(error) },
  );
}

/** A keyring answer that is not what the contract promises: a typed error, before anything is stored. */
function badAnswer(keyring: Keyring, operation: KeyringError['operation'], what: string): KeyringError {
  return new KeyringError(messages.keyringFailed(keyring.id, operation, `it returned ${what}`), {
    keyringId: keyring.id,
    operation,
  });
}

/** Audited, counted keyring calls. */
export class KeyringCalls {
  #count = 0;

  constructor(private readonly audit: AuditEmitter) {}

  /** Keyring calls made so far (wrap, unwrap and generate). */
  get count(): number {
    return this.#count;
  }

  /** A fresh key and its wrapped form, through `generateKey` when the keyring has one. */
  async generate(keyring: Keyring, slot: KeySlot): Promise<{ key: Buffer; wrapped: Buffer }> {
    const context = wrapContext(slot);
    if (typeof keyring.generateKey === 'function') {
      return this.#call(keyring, 'generate', slot, async () => {
        const generated = await keyring.generateKey!(context);
        const key: unknown = generated?.plaintextKey;
        const wrapped: unknown = generated?.wrappedKey;
        if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
          if (Buffer.isBuffer(key)) key.fill(0);
          throw badAnswer(keyring, 'generate', 'a key that is not 32 bytes');
        }
        if (!Buffer.isBuffer(wrapped) || wrapped.length === 0) {
          key.fill(0);
          throw badAnswer(keyring, 'generate', 'no wrapped key');
        }
        return { key, wrapped };
      });
    }
    const key = randomBytes(KEY_BYTES);
    try {
      return { key, wrapped: await this.wrap(keyring, slot, key) };
    } catch (error) {
      key.fill(0);
      throw error;
    }
  }

  /** Wraps `key` for `slot`. */
  wrap(keyring: Keyring, slot: KeySlot, key: Buffer): Promise<Buffer> {
    return this.#call(keyring, 'wrap', slot, async () => {
      const wrapped: unknown = await keyring.wrapKey(key, wrapContext(slot));
      if (!Buffer.isBuffer(wrapped) || wrapped.length === 0) throw badAnswer(keyring, 'wrap', 'no wrapped key');
      return wrapped;
    });
  }

  /** Unwraps a stored key version (which must not be destroyed). */
  unwrap(keyring: Keyring, stored: StoredKey): Promise<Buffer> {
    const wrapped = Buffer.from(stored.wrappedKey ?? '', 'base64');
    return this.#call(keyring, 'unwrap', stored, async () => {
      let key: Buffer;
      try {
        key = await keyring.unwrapKey(wrapped, wrapContext(stored));
      } catch (error) {
        throw wrappedElsewhere(error, keyring, stored) ?? error;
      }
      if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
        // Whatever came back may be key material all the same: zeroed before it is dropped.
        if (Buffer.isBuffer(key)) key.fill(0);
        throw new KeyringError(messages.keyringFailed(keyring.id, 'unwrap', 'it returned a key that is not 32 bytes'), {
          keyringId: keyring.id,
          operation: 'unwrap',
        });
      }
      return key;
    });
  }

  #call<T>(
    keyring: Keyring,
    operation: 'wrap' | 'unwrap' | 'generate',
    slot: KeySlot,
    call: () => Promise<T>,
  ): Promise<T> {
    this.#count++;
    const draft = {
      operation: `keyring.${operation}` as const,
      keyId: slot.keyId,
      kind: slot.kind,
      scope: slot.scope,
      version: slot.version,
      keyringId: keyring.id,
    };
    return keyringSpan(keyring.id, operation, slot, () =>
      this.audit.timed(draft, async () => {
        try {
          return await call();
        } catch (error) {
          throw asKeyringError(error, keyring, operation);
        }
      }),
    );
  }
}
