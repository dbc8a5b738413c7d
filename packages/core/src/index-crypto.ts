/**
 * The blind indexes and match indexes `FieldCrypto` computes: keys derived from the index root
 * key (or, for a per-scope index, from the scope's own key) and cached apart from scope keys,
 * a lookup's values under every live version, and the checks an indexed value passes first
 * (its spec, its text, its Unicode version). On a warm cache every value is computed without an
 * await; a per-scope index key is dropped with its scope key.
 */
import { ConfigError } from './errors';
import {
  checkSpec,
  computeBlindIndex,
  deriveIndexKey,
  deriveScopedIndexKey,
  blindIndexVersion,
  parseBlindIndex,
  type BlindIndexParts,
  type BlindIndexSpec,
} from './blind-index';
import { KeyCache, MISS } from './key-cache';
import type { KeyHierarchy } from './key-hierarchy';
import type { StoredKey } from './key-store';
import {
  checkMatchSpec,
  codePointLength,
  deriveMatchKey,
  MAX_MATCH_ROOT_VERSION,
  matchFingerprint,
  matchPositions,
  queryGrams,
  valueGrams,
  type MatchIndexSpec,
  type MatchKind,
} from './match-index';
import { messages } from './messages';
import { unicodeMismatches } from './normalizers';
import { needs } from './preconditions';
import { checkPlaintext } from './row-encryptor';
import { settleAll } from './settle-all';

/** Text of U+0000–U+007F only. */
// eslint-disable-next-line no-control-regex -- the range starts at U+0000 on purpose
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * Cache id of one derived index key; lengths keep the parts apart whatever characters they
 * hold. Keys derived from a scope key (per-scope indexes) start with `s`, then the scope key id
 * (see {@link scopedKeyPrefix}).
 */
function indexKeyId(
  stored: { keyId: string; version: number },
  spec: Pick<BlindIndexSpec, 'model' | 'field' | 'name' | 'perScope'>,
): string {
  const { model, field, name } = spec;
  const id = `${stored.keyId.length}$${stored.keyId}${stored.version}$${model.length}$${model}${field.length}$${field}${name}`;
  return spec.perScope === true ? `s${id}` : id;
}

/** The start of the cache id of every per-scope index key derived from scope key `keyId`. */
function scopedKeyPrefix(keyId: string): string {
  return `s${keyId.length}$${keyId}`;
}

/** What a match-index column stores for `value`: the fingerprint, then the sorted positions. */
function storedMatch(key: Buffer, spec: MatchIndexSpec, rootVersion: number, value: string): number[] {
  return [matchFingerprint(spec), ...matchPositions(key, spec, rootVersion, valueGrams(spec, value))];
}

/** Cache id of one derived match key: `m` keeps it apart from blind-index key ids. */
function matchKeyId(stored: StoredKey, spec: MatchIndexSpec): string {
  return `m${spec.tokens}.${spec.bits}.${spec.hashes}.${spec.fold}$${indexKeyId(stored, spec)}`;
}

/**
 * Blind indexes and match indexes over a key hierarchy, with their own cache of derived index
 * keys. `FieldCrypto` builds one and delegates its index methods to it.
 */
export class IndexCrypto {
  readonly #keys: KeyHierarchy;
  readonly #indexKeys: KeyCache;
  readonly #unicodeMismatch: 'refuse' | 'warn';
  /** Normalizers already warned about (`'warn'` policy): one warning each per process. */
  static readonly #warned = new Set<string>();

  /**
   * @param cache - the validated key-cache options: derived index keys are cached as long, and
   *   as many
   * @param unicodeMismatch - the validated `unicodeMismatch` option of `FieldCrypto`
   */
  constructor(keys: KeyHierarchy, cache: { ttlMs: number; maxEntries: number }, unicodeMismatch: 'refuse' | 'warn') {
    this.#keys = keys;
    this.#indexKeys = new KeyCache({ ttlMs: cache.ttlMs, maxEntries: cache.maxEntries });
    // Per-scope index keys die with their scope key (here at once; elsewhere with its TTL).
    keys.onDestroy((keyIds) => {
      const prefixes = keyIds.map(scopedKeyPrefix);
      this.#indexKeys.deleteWhere((id) => prefixes.some((prefix) => id.startsWith(prefix)));
    });
    this.#unicodeMismatch = unicodeMismatch;
  }

  /**
   * The blind index of `value` under the current index root version, or, for a per-scope index
   * (`spec.perScope`), under the active key of `scope` (created on first use, as for a write).
   * @throws InvalidArgumentError when `spec` is invalid or a per-scope index is given no scope
   */
  async blindIndex(spec: BlindIndexSpec, value: string, scope?: string): Promise<string> {
    const warm = this.cachedBlindIndex(spec, value, scope);
    if (warm !== undefined) return warm;
    if (spec.perScope === true) {
      const material = await this.#keys.activeScopeKeyMaterial(scope as string);
      try {
        return this.#scopedBlindIndex(material.key, spec, material, value);
      } finally {
        material.key.fill(0);
      }
    }
    const [current] = await this.#keys.indexRootVersions();
    return this.#blindIndexUnder(current, spec, value);
  }

  /**
   * Like {@link IndexCrypto.blindIndex}, synchronously, when the keys it needs are cached (the
   * index root versions and the derived index key; for a per-scope index, `scope`'s active
   * key): the same index value, or `undefined` (no I/O) when a key must be loaded first.
   * @throws InvalidArgumentError when `spec` is invalid (as `blindIndex` does)
   * @example const index = crypto.cachedBlindIndex(spec, email) ?? (await crypto.blindIndex(spec, email));
   */
  cachedBlindIndex(spec: BlindIndexSpec, value: string, scope?: string): string | undefined {
    this.#checkIndex(spec, value, scope);
    if (spec.perScope === true) {
      const warm = this.#keys.withCachedActiveScopeKey(scope as string, (material) =>
        this.#scopedBlindIndex(material.key, spec, material, value),
      );
      return warm === MISS ? undefined : warm;
    }
    const versions = this.#keys.cachedIndexRootVersions();
    if (versions === undefined) return undefined;
    const stored = versions[0];
    const warm = this.#indexKeys.use(indexKeyId(stored, spec), (key) =>
      computeBlindIndex(key, spec, stored.version, value),
    );
    return warm === MISS ? undefined : warm;
  }

  /**
   * The blind index of `value` under every live key version, current first (for queries): the
   * index root versions, or for a per-scope index the live versions of `scope`'s key, none
   * when the scope has no key or was destroyed (nothing can match; no key is created).
   * @throws InvalidArgumentError when `spec` is invalid or a per-scope index is given no scope
   */
  async blindIndexAll(spec: BlindIndexSpec, value: string, scope?: string): Promise<string[]> {
    this.#checkIndex(spec, value, scope);
    if (spec.perScope === true) {
      const versions = await this.#keys.liveScopeVersions(scope as string);
      return settleAll(
        versions.map(async (stored) => {
          // For this scope only: a key-store row relabelled to it cannot lend it another scope's cached key.
          const key = await this.#keys.versionMaterial(stored);
          try {
            return this.#scopedBlindIndex(key, spec, stored, value);
          } finally {
            key.fill(0);
          }
        }),
      );
    }
    const warm = this.#cachedBlindIndexAll(spec, value);
    if (warm !== undefined) return warm;
    const versions = await this.#keys.indexRootVersions();
    return settleAll(versions.map((stored) => this.#blindIndexUnder(stored, spec, value)));
  }

  /**
   * The shared index's values of `value` under every live root version, computed with the
   * cached index keys themselves (no copy, no await per version): `undefined` unless the root
   * versions and every version's index key are cached. A lookup's usual case.
   */
  #cachedBlindIndexAll(spec: BlindIndexSpec, value: string): string[] | undefined {
    const versions = this.#keys.cachedIndexRootVersions();
    if (versions === undefined) return undefined;
    const values: string[] = [];
    for (const stored of versions) {
      const computed = this.#indexKeys.use(indexKeyId(stored, spec), (key) =>
        computeBlindIndex(key, spec, stored.version, value),
      );
      if (computed === MISS) return undefined;
      values.push(computed);
    }
    return values;
  }

  /**
   * What the match-index column stores for `value` under the current index root version: the
   * parameters' fingerprint (negative), then the sorted positions.
   * @throws InvalidArgumentError on a bad spec, a lone surrogate, or a value longer than
   *   `spec.maxLength` code points (the message names the field, never the value)
   */
  async matchIndex(spec: MatchIndexSpec, value: string): Promise<number[]> {
    const warm = this.cachedMatchIndex(spec, value);
    if (warm !== undefined) return warm;
    const [current] = await this.#keys.indexRootVersions();
    return this.#withMatchKey(current, spec, (key) => storedMatch(key, spec, current.version, value));
  }

  /**
   * Like {@link IndexCrypto.matchIndex}, synchronously, when the index root versions and the
   * derived match key are cached; `undefined` (no I/O) when a key must be loaded first.
   */
  cachedMatchIndex(spec: MatchIndexSpec, value: string): number[] | undefined {
    this.#checkMatchValue(spec, value, 'value');
    const versions = this.#keys.cachedIndexRootVersions();
    if (versions === undefined) return undefined;
    const stored = versions[0];
    const warm = this.#indexKeys.use(matchKeyId(stored, spec), (key) => storedMatch(key, spec, stored.version, value));
    return warm === MISS ? undefined : warm;
  }

  /**
   * The positions a row's match index must hold for `kind` of `query` to possibly match, under
   * every live index root version, current first; `null` when the query is too short to form
   * one n-gram (the caller refuses it).
   * @throws InvalidArgumentError on a bad spec or a lone surrogate in `query`
   */
  async matchQueryAll(spec: MatchIndexSpec, kind: MatchKind, query: string): Promise<number[][] | null> {
    this.#checkMatchValue(spec, query, 'query');
    const ngrams = queryGrams(spec, kind, query);
    if (ngrams === null) return null;
    const versions = await this.#keys.indexRootVersions();
    return settleAll(
      versions.map((stored) =>
        this.#withMatchKey(stored, spec, (key) => matchPositions(key, spec, stored.version, ngrams)),
      ),
    );
  }

  /** The index root version embedded in a stored blind index value, or `null`. */
  blindIndexVersion(indexValue: string): number | null {
    return blindIndexVersion(indexValue);
  }

  /**
   * What a stored blind index value names: index root version, normalizer version and digest
   * length, or `null` when it is not one. A value whose parts differ from a freshly computed
   * one's is stale (`reencrypt` rebuilds it).
   */
  describeBlindIndex(indexValue: string): BlindIndexParts | null {
    return parseBlindIndex(indexValue);
  }

  /** Drops and zeroes every cached index key. */
  clearCache(): void {
    this.#indexKeys.clear();
  }

  /**
   * Checks a spec, and that this runtime normalizes `value` as pinned. ASCII text normalizes
   * the same under every Unicode version (its case mappings and its NFC/NFKC forms never
   * change), so only a value with a non-ASCII character can differ.
   * @throws InvalidArgumentError on a bad spec or value; ConfigError on a Unicode mismatch under `'refuse'`
   */
  #checkIndex(spec: BlindIndexSpec, value: string, scope: string | undefined): void {
    checkSpec(spec);
    if (spec.perScope === true) needs(typeof scope === 'string', 'scope', 'must be given for a per-scope index');
    // Before any key lookup (a query): a lone surrogate would be hashed as U+FFFD.
    checkPlaintext(value, 'value');
    this.#checkUnicode(`${spec.model}.${spec.name}`, spec.normalize, value);
  }

  /** Refuses (or warns about) a non-ASCII value under normalizers this runtime's Unicode data would change. */
  #checkUnicode(index: string, normalizers: BlindIndexSpec['normalize'], value: string): void {
    const mismatches = unicodeMismatches(normalizers);
    if (mismatches.length === 0 || (typeof value === 'string' && ASCII_ONLY.test(value))) return;
    const [{ normalizer, pinned, runtime }] = mismatches;
    const message = messages.unicodeMismatch(index, normalizer, pinned, runtime);
    if (this.#unicodeMismatch === 'refuse') throw new ConfigError(message);
    const id = `${normalizer}\u0000${runtime}`;
    if (!IndexCrypto.#warned.has(id)) {
      IndexCrypto.#warned.add(id);
      process.emitWarning(message, { code: 'HUSHFIELD_UNICODE' });
    }
  }

  #checkMatchValue(spec: MatchIndexSpec, value: string, what: string): void {
    checkMatchSpec(spec);
    checkPlaintext(value, what);
    needs(
      codePointLength(value) <= spec.maxLength,
      `${spec.model}.${spec.field}`,
      `is longer than the ${spec.maxLength} code points its match index ${spec.name} takes (maxLength)`,
    );
    if (spec.fold === 'case') this.#checkUnicode(`${spec.model}.${spec.name}`, ['lowercase@1'], value);
  }

  #withMatchKey<T>(stored: StoredKey, spec: MatchIndexSpec, use: (key: Buffer) => T): Promise<T> {
    needs(
      stored.version <= MAX_MATCH_ROOT_VERSION,
      'index root version',
      `must be at most ${MAX_MATCH_ROOT_VERSION} for match indexes`,
    );
    return this.#withIndexKey(
      matchKeyId(stored, spec),
      stored,
      (root) => deriveMatchKey(root, spec, stored.version),
      use,
    );
  }

  #blindIndexUnder(stored: StoredKey, spec: BlindIndexSpec, value: string): Promise<string> {
    return this.#withIndexKey(
      indexKeyId(stored, spec),
      stored,
      (root) => deriveIndexKey(root, spec, stored.version),
      (key) => computeBlindIndex(key, spec, stored.version, value),
    );
  }

  /**
   * Runs `use` with a key derived from an index root version (cached under `cacheId`; derived
   * from the unwrapped root on a miss, the root zeroed at once), zeroing the lent copy after.
   */
  async #withIndexKey<T>(
    cacheId: string,
    stored: StoredKey,
    derive: (root: Buffer) => Buffer,
    use: (key: Buffer) => T,
  ): Promise<T> {
    const key = await this.#indexKeys.get(cacheId, async () => {
      const root = await this.#keys.versionMaterial(stored);
      try {
        return derive(root);
      } finally {
        root.fill(0);
      }
    });
    try {
      return use(key);
    } finally {
      key.fill(0);
    }
  }

  /**
   * A per-scope index value under one scope key version, which the caller holds (so it was
   * unwrapped for this scope). The derived key is cached no longer than that scope key is.
   */
  #scopedBlindIndex(
    scopeKey: Buffer,
    spec: BlindIndexSpec,
    version: { keyId: string; version: number },
    value: string,
  ): string {
    const id = indexKeyId(version, spec);
    const warm = this.#indexKeys.use(id, (key) => computeBlindIndex(key, spec, version.version, value));
    if (warm !== MISS) return warm;
    const key = deriveScopedIndexKey(scopeKey, spec, version.keyId, version.version);
    const computed = computeBlindIndex(key, spec, version.version, value);
    this.#indexKeys.put(id, key, undefined, this.#keys.scopeKeyRemainingTtl(version.keyId, version.version));
    return computed;
  }
}
