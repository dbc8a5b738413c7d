/**
 * What a model's run asks of the keyring (`migrator.ts`): the plan context (the index key
 * versions `reencrypt` rebuilds blind and match indexes under, and the lookup of a scope's
 * active key), and retries with exponential backoff while the keyring is throttled or
 * unreachable.
 */
import { isHushfieldError } from './output';
import { messages } from './messages';
import type { MigrateOptions } from './migrator';
import type { PlanContext } from './row-plan';
import { currentIndexVersions } from './value-context';

/** What planning the model's batches needs: the index key versions (`reencrypt`) and the scope-key lookup. */
export async function planContext(options: MigrateOptions): Promise<PlanContext> {
  const { crypto, keyStore, model, mode, dryRun, rescope, rebind, reindex, pfe } = options;
  const indexVersions = new Map<string, number | null>();
  if (mode === 'reencrypt') {
    const indexKey = dryRun ? await keyStore.getActive('index', 'default') : null;
    for (const name of [...Object.keys(model.blindIndexes), ...Object.keys(model.matchIndexes ?? {})]) {
      if (dryRun) indexVersions.set(name, indexKey?.version ?? null);
    }
    if (!dryRun) {
      for (const [name, version] of await withKeyringRetry(options, () => currentIndexVersions(model, crypto)))
        indexVersions.set(name, version);
    }
  }
  // Looked up, never created, in a dry run and a real one alike: a row the plan refuses must not
  // leave its scope a key that holds nothing. Sealing a value creates the key it needs.
  const activeKey = async (scope: string) => {
    const key = await crypto.keys.existingScopeKey(scope);
    return key && { keyId: key.keyId, version: key.version };
  };
  return {
    model,
    crypto,
    mode,
    pfe,
    dryRun,
    rescope,
    rebind,
    reindex: mode === 'reencrypt' && reindex === true,
    activeKey,
    indexVersions,
  };
}

/** Retries `work` while the keyring reports a retryable failure, with exponential backoff. */
export async function withKeyringRetry<T>(options: MigrateOptions, work: () => Promise<T>): Promise<T> {
  const attempts = options.keyringAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const retryable =
        isHushfieldError(error) &&
        error.code === 'HUSHFIELD_KEYRING' &&
        (error as { retryable?: boolean }).retryable === true;
      if (!retryable || attempt >= attempts) throw error;
      const delay = (options.backoffMs ?? 500) * 2 ** (attempt - 1);
      options.log(messages.migrate.keyringRetry(options.model.name, error.message, delay, attempt + 1, attempts));
      await sleep(delay);
    }
  }
}

/** Resolves after `ms` milliseconds (the keyring backoff here, the pause between passes in `migrator.ts`). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
