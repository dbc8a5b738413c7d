/**
 * The checks of {@link FieldCryptoOptions}, written once. `FieldCrypto`'s constructor runs them,
 * and so does a caller that is given these options before it can build the `FieldCrypto`
 * (`fieldEncryption()` of `@hushfield/prisma` builds it when the client is extended, with a key
 * store over that client): a wrong option then fails where it is written. `null` is no setting:
 * an option is left out for its default, and `false` turns off what can be turned off.
 */
import type { FieldCryptoOptions } from './field-crypto';
import { checkAuditOptions } from './audit-emitter';
import { checkDekPoolOptions, type DekPoolOptions } from './dek-pool';
import { decryptSampleRate } from './decrypt-sampling';
import { checkCacheOptions } from './key-cache';
import { isKeyring } from './key-hierarchy';
import type { KeyStore } from './key-store';
import { parallelMinValues } from './parallel-decrypt';
import { checkOptionsObject, needs } from './preconditions';

/** Unwrapped DEKs held by default (`dekCache`). */
const DEFAULT_DEK_CACHE_ENTRIES = 10_000;

/** {@link FieldCryptoOptions} as checked, with the defaults filled in. */
export interface CheckedCryptoOptions {
  readonly cache: ReturnType<typeof checkCacheOptions>;
  /** Most unwrapped DEKs held, or `undefined` when the DEK cache is off. */
  readonly dekCacheEntries: number | undefined;
  readonly dekPool: DekPoolOptions | undefined;
  /** The share of decrypts audited (0 to 1), whether or not a sink is given. */
  readonly auditDecryptsRate: number;
  readonly unicodeMismatch: 'refuse' | 'warn';
  /** The smallest `decryptMany` shared with the decrypt thread, or `undefined` for none. */
  readonly minParallel: number | undefined;
}

/**
 * Checks the options of a `FieldCrypto` without building one.
 * @param options - as given to `new FieldCrypto(...)`
 * @param keyStore - `'optional'` when the caller supplies a key store of its own if none is given
 * @returns the options with their defaults
 * @throws ConfigError when `cache` is not an object, `cache.ttlMs` is missing or a cache bound is
 *   invalid (`null` included)
 * @throws InvalidArgumentError naming the option when `options` is not an object, or `keyring`,
 *   `keyStore`, `dekCache`, `dekPool`, `audit`, `actor`, `auditDecrypts`, `unicodeMismatch` or
 *   `parallelDecrypt` is not what it names (`null` included)
 * @example checkFieldCryptoOptions({ keyring, keyStore, cache: { ttlMs: 60_000 } });
 */
export function checkFieldCryptoOptions(
  options: FieldCryptoOptions | Omit<FieldCryptoOptions, 'keyStore'>,
  keyStore: 'required' | 'optional' = 'required',
): CheckedCryptoOptions {
  checkOptionsObject(options, 'FieldCrypto', true);
  const cache = checkCacheOptions(options.cache);
  needs(isKeyring(options.keyring), 'options.keyring', 'must be a Keyring');
  const store = (options as { keyStore?: unknown }).keyStore;
  needs(
    (store === undefined && keyStore === 'optional') ||
      typeof (store as Partial<KeyStore> | null)?.getActive === 'function',
    'options.keyStore',
    'must be a KeyStore',
  );
  const dekCache: unknown = options.dekCache;
  needs(
    dekCache === undefined || dekCache === false || (typeof dekCache === 'object' && dekCache !== null),
    'options.dekCache',
    'must be { maxEntries } or false (to turn it off)',
  );
  const dekCacheEntries: unknown =
    dekCache === false
      ? undefined
      : dekCache === undefined
        ? DEFAULT_DEK_CACHE_ENTRIES
        : (dekCache as { maxEntries?: unknown }).maxEntries;
  needs(
    dekCache === false || (Number.isSafeInteger(dekCacheEntries) && (dekCacheEntries as number) > 0),
    'options.dekCache.maxEntries',
    'must be a positive integer',
  );
  const dekPool = options.dekPool === undefined || options.dekPool === false ? undefined : options.dekPool;
  if (dekPool !== undefined) checkDekPoolOptions(dekPool);
  checkAuditOptions(options, 'options');
  // Checked with or without a sink: a wrong value is refused, not ignored until a sink is added.
  const auditDecryptsRate = decryptSampleRate(options.auditDecrypts);
  const { unicodeMismatch } = options;
  needs(
    unicodeMismatch === undefined || unicodeMismatch === 'refuse' || unicodeMismatch === 'warn',
    'options.unicodeMismatch',
    "must be 'refuse' or 'warn'",
  );
  return {
    cache,
    dekCacheEntries: dekCacheEntries as number | undefined,
    dekPool,
    auditDecryptsRate,
    unicodeMismatch: unicodeMismatch ?? 'refuse',
    minParallel: parallelMinValues(options.parallelDecrypt),
  };
}
