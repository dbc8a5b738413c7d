/**
 * The typed errors a value that fails to decrypt comes back with: a key-load failure, any error
 * located at the value (model, field, row), and a key of another scope than the row's. They name
 * the value's location and key only, never key material, ciphertext or plaintext. Counting and
 * auditing a failure is the caller's (`DecryptPass.failed`).
 */
import type { ParsedEnvelope } from './envelope';
import { DecryptionError, HushfieldError, KeyDestroyedError, KeyStoreError } from './errors';
import { messages } from './messages';
import type { FieldContext } from './row-encryptor';

/**
 * A failure to load key material for a value: hushfield's own errors as they are (located), any
 * other (the key store's database) as a {@link KeyStoreError}, transient.
 */
export function keyLoadFailure(
  error: unknown,
  key: { keyId: string; version: number },
  ctx?: FieldContext,
): HushfieldError {
  if (error instanceof HushfieldError) return located(error, ctx);
  return new KeyStoreError(messages.keyStoreFailed(key.keyId, key.version, ctx ?? {}), key, ctx, { cause: error });
}

/**
 * `error` as the failure of the value at `ctx`: a key's destruction or key-store failure named
 * with the value's location, any other hushfield error as it is, anything else a
 * {@link DecryptionError}.
 */
export function located(error: unknown, ctx: FieldContext | undefined): HushfieldError {
  if (error instanceof KeyDestroyedError) return new KeyDestroyedError(error.message, error, ctx);
  if (error instanceof KeyStoreError && ctx !== undefined) {
    const message = messages.keyStoreFailed(error.keyId, error.version, ctx);
    return new KeyStoreError(message, error, ctx, { cause: error.cause });
  }
  if (error instanceof HushfieldError) return error;
  return new DecryptionError(messages.decryptionFailed(ctx ?? {}), ctx, { cause: error });
}

/**
 * The error of a value whose key is not of `ctx.scope` (`keyScope`), or whose key's scope is
 * unknown; the caller counts it (see `DecryptPass.failed`).
 */
export function scopeError(envelope: ParsedEnvelope, ctx: FieldContext, keyScope: string | undefined): DecryptionError {
  return keyScope === undefined
    ? new DecryptionError(messages.scopeUnknown(ctx, envelope.keyId, envelope.version), ctx)
    : new DecryptionError(messages.otherScope(ctx, envelope.keyId), ctx, { otherScope: ctx.scope });
}
