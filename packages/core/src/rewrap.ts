/**
 * Re-wrapping every live key under a new root key (`keys rewrap`): unwrap with the keyring that
 * wrapped it, wrap with the new one under the same context, and replace the stored value only
 * if it is still the one read (compare-and-swap), so a concurrent rotation or destroy wins.
 * Data rows are never touched. Each replacement is a `key.rewrap` audit event; one that lost to
 * a concurrent change is a failure (`HUSHFIELD_KEY_CONFLICT`), counted as skipped.
 */
import type { AuditEmitter } from './audit-emitter';
import { KeyConflictError } from './errors';
import type { KeyStore, StoredKey } from './key-store';
import type { Keyring } from './keyring';
import type { KeyringCalls } from './keyring-calls';
import { messages } from './messages';

/** What {@link rewrapKeys} needs from the key hierarchy. */
export interface RewrapContext {
  readonly store: KeyStore;
  readonly calls: KeyringCalls;
  readonly audit: AuditEmitter;
  readonly keyringFor: (stored: StoredKey) => Keyring;
}

/**
 * Re-wraps every live key version under `newKeyring`.
 * @returns how many were replaced, and how many skipped (already under `newKeyring`, or changed
 *   concurrently)
 * @throws KeyringError when a key cannot be unwrapped or wrapped (keys done so far stay done)
 */
export async function rewrapKeys(
  newKeyring: Keyring,
  context: RewrapContext,
): Promise<{ rewrapped: number; skipped: number }> {
  let rewrapped = 0;
  let skipped = 0;
  for (const stored of await context.store.list()) {
    if (stored.state === 'destroyed' || stored.wrappedKey === null) continue;
    if (stored.keyringId === newKeyring.id) {
      skipped++;
      continue;
    }
    const key = await context.calls.unwrap(context.keyringFor(stored), stored);
    try {
      const wrapped = await context.calls.wrap(newKeyring, stored, key);
      const draft = {
        operation: 'key.rewrap' as const,
        keyId: stored.keyId,
        kind: stored.kind,
        scope: stored.scope,
        version: stored.version,
        keyringId: newKeyring.id,
      };
      // A key changed since it was read is not replaced: audited as a failure (a conflict), not
      // as a re-wrap that never happened, and counted as skipped.
      const conflict = new KeyConflictError(messages.rewrapConflict(stored.kind, stored.keyId, stored.version));
      try {
        await context.audit.timed(draft, async () => {
          const replaced = await context.store.replaceWrapped(
            stored.keyId,
            stored.version,
            stored.wrappedKey!,
            wrapped.toString('base64'),
            newKeyring.id,
          );
          if (!replaced) throw conflict;
        });
        rewrapped++;
      } catch (error) {
        if (error !== conflict) throw error;
        skipped++;
      }
    } finally {
      key.fill(0);
    }
  }
  return { rewrapped, skipped };
}
