/**
 * `FieldCrypto`: the facade the Prisma extension and the CLI use. Encrypts the fields of one
 * row write under one fresh DEK, decrypts single values and whole result sets, and computes
 * blind and match indexes (in `index-crypto.ts`). The keyring is reached only through the key
 * hierarchy's cache: at most one call per scope key version per TTL, however many rows.
 */
import type { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import type { ActorContext, AuditSink } from './audit';
import { AuditEmitter } from './audit-emitter';
import type { BlindIndexParts, BlindIndexSpec } from './blind-index';
import { DekCache } from './dek-cache';
import { DekPool, type DekPoolOptions } from './dek-pool';
import type { AuditDecryptsOption } from './decrypt-sampling';
import { type DecryptItem, Decryptor } from './decryptor';

export type { DecryptItem } from './decryptor';
import { describeEnvelope, isEnvelope } from './envelope';
import type { HushfieldError } from './errors';
import { IndexCrypto } from './index-crypto';
import { MISS, type KeyCacheOptions } from './key-cache';
import type { MatchIndexSpec, MatchKind } from './match-index';
import { KeyAdmin } from './key-admin';
import { KeyHierarchy, type KeyMaterial } from './key-hierarchy';
import type { KeyStore, StoredKey } from './key-store';
import type { Keyring } from './keyring';
import { needs } from './preconditions';
import { checkFieldCryptoOptions } from './field-crypto-options';
import {
  checkContext,
  createRowEncryptor,
  freshDek,
  type FieldContext,
  type RowEncryptor,
  type UnsafeDeterminism,
} from './row-encryptor';
import type { ParallelDecryptOption } from './parallel-decrypt';
import { decryptThread } from './thread-host';
import { observeCaches } from './telemetry';

/** Options of {@link FieldCrypto}. */
export interface FieldCryptoOptions {
  keyring: Keyring;
  keyStore: KeyStore;
  /** Key cache; `ttlMs` is required (ConfigError without it). */
  cache: KeyCacheOptions;
  /**
   * Unwrapped per-row DEKs keyed by wrapped DEK; default `{ maxEntries: 10000 }`; `false` disables
   * (`null` is refused).
   */
  dekCache?: { maxEntries: number } | false;
  /**
   * Fresh DEKs prepared (drawn and wrapped) off the request path after a write, a few per scope,
   * each handed out once, zeroed when dropped. Off by default (`false`); `{}` turns it on with
   * `{ perScope: 8, maxScopes: 64, maxAgeMs: 10000 }`. It did not make creates measurably faster
   * on the benchmark machine (bench/RESULTS.md); what it changes for a memory dump: README,
   * "What it does not protect".
   */
  dekPool?: DekPoolOptions | false;
  audit?: AuditSink;
  actor?: () => ActorContext | undefined;
  /**
   * Emit `value.decrypt` events (they are many): `true` for every value, `{ sample: 0.01 }` for
   * about 1 % of successful decrypts (and every failure). Default false.
   */
  auditDecrypts?: AuditDecryptsOption;
  /**
   * What to do when a non-ASCII value goes through a normalizer pinned to another Unicode
   * version than the runtime's (README, "Node upgrades and Unicode"): `'refuse'` (default) throws ConfigError
   * before computing the index, `'warn'` computes it with the runtime's tables and emits one
   * process warning per normalizer (index values of the few inputs whose normalization changed
   * between the two versions then differ from the stored ones).
   */
  unicodeMismatch?: 'refuse' | 'warn';
  /**
   * Large `decryptMany` calls (a `findMany` of thousands of rows) shared with one process-wide
   * decrypt thread, which opens about half of their text values while the calling thread opens
   * the rest: `{ minValues }` is the smallest call split. Default `{ minValues: 4096 }` on the
   * main thread of a machine with more than one CPU; `false` keeps every decrypt on the calling
   * thread. Calls that emit `value.decrypt` audit events are never split. README, "Large reads".
   */
  parallelDecrypt?: ParallelDecryptOption;
}

/** Counters of the key and DEK caches. */
export interface CacheStats {
  hits: number;
  misses: number;
  keyringCalls: number;
  entries: number;
  dekHits: number;
  dekMisses: number;
  /** Prepared DEKs handed out to row writes, and held ready now (see `dekPool`). */
  dekPoolTaken: number;
  dekPoolReady: number;
}

/**
 * The blind-index root versions (or one scope's key versions) known at one moment: see
 * {@link FieldCrypto.indexVersionsMark} and {@link FieldCrypto.scopeIndexVersionsMark}.
 */
export interface IndexVersionsMark {
  /** @internal */
  readonly versions: readonly StoredKey[] | undefined;
}

/**
 * Field-level envelope encryption and blind indexes over a keyring and a key store.
 * @example
 * const crypto = new FieldCrypto({
 *   keyring: LocalKeyring.fromEnv(),
 *   keyStore: new MemoryKeyStore(),
 *   cache: { ttlMs: 60_000 },
 * });
 * const row = await crypto.rowEncryptor('default');
 * const stored = row.encrypt('ada@example.com', { model: 'users', field: 'email', rowId: id });
 * row.dispose();
 * await crypto.decrypt(stored, { model: 'users', field: 'email', rowId: id }); // 'ada@example.com'
 */
export class FieldCrypto {
  /** The key lifecycle (create, rotate, destroy, rewrap, list); never key material. */
  readonly keys: KeyAdmin;
  readonly #keys: KeyHierarchy;
  readonly #deks: DekCache | undefined;
  readonly #pool: DekPool | undefined;
  /** Blind and match indexes, and their derived keys (see `index-crypto.ts`). */
  readonly #index: IndexCrypto;
  /** Single values and whole result sets (see `decryptor.ts`). */
  readonly #decryptor: Decryptor;

  /**
   * @throws ConfigError when `cache` is not an object, `cache.ttlMs` is missing or a bound is
   *   invalid (`null` included)
   * @throws InvalidArgumentError when `options` is not an object, or an option is not what it
   *   names (`null` included: see {@link checkFieldCryptoOptions})
   */
  constructor(options: FieldCryptoOptions) {
    const checked = checkFieldCryptoOptions(options);
    this.#keys = new KeyHierarchy(options);
    this.keys = new KeyAdmin(this.#keys);
    if (checked.dekCacheEntries !== undefined) {
      const deks = new DekCache(checked.dekCacheEntries, checked.cache.ttlMs);
      this.#deks = deks;
      this.#keys.onDestroy((keyIds) => deks.dropKeys(keyIds));
    }
    if (checked.dekPool !== undefined) {
      const pool = new DekPool(checked.dekPool);
      this.#pool = pool;
      this.#keys.onDestroy((keyIds) => pool.flushKeys(keyIds));
      this.#keys.onRotate((scope) => pool.flush([scope]));
    }
    const audit = new AuditEmitter(options.audit, options.actor);
    const auditDecrypts = audit.enabled ? checked.auditDecryptsRate : 0;
    this.#index = new IndexCrypto(this.#keys, checked.cache, checked.unicodeMismatch);
    const minParallel = checked.minParallel;
    this.#decryptor = new Decryptor(this.#keys, this.#deks, audit, auditDecrypts, minParallel);
    observeCaches(this);
  }

  /**
   * Looks up the active keys of `scopes` not cached yet, together (one key-store query when
   * the key store has `getActives`), before rows in those scopes are written: a `createMany`
   * across many scopes then asks once instead of once a scope. Creates nothing and makes no
   * keyring call; a scope without a key, or a failed lookup, is left to {@link
   * FieldCrypto.rowEncryptor}, which creates or reports it.
   * @example await crypto.prefetchScopes(rows.map((row) => row.tenantId));
   */
  prefetchScopes(scopes: Iterable<string>): Promise<void> {
    return this.#keys.prefetchActiveScopes(scopes);
  }

  /** A row encryptor with a fresh DEK under `scope`'s active key (created on first use). */
  async rowEncryptor(scope: string): Promise<RowEncryptor> {
    return this.cachedRowEncryptor(scope) ?? this.#loadedRowEncryptor(scope, undefined);
  }

  /**
   * Like {@link FieldCrypto.rowEncryptor}, synchronously, when `scope`'s active key is cached:
   * a row encryptor with a fresh DEK, or `undefined` (nothing done, no I/O) when the key must
   * be loaded first. A row write on a warm cache then costs no await (each one is a microtask
   * hop, and a cold resume, between the database round trips).
   * @example const row = crypto.cachedRowEncryptor(scope) ?? (await crypto.rowEncryptor(scope));
   */
  cachedRowEncryptor(scope: string): RowEncryptor | undefined {
    if (typeof scope !== 'string') return undefined;
    const row = this.#keys.withCachedActiveScopeKey(scope, (material) =>
      this.#newRow(material, undefined, this.#deks?.generation),
    );
    return row === MISS ? undefined : row;
  }

  /** @internal Test hook: a row encryptor with a fixed DEK and nonces (golden vectors). Never in production. */
  unsafeRowEncryptor(scope: string, determinism?: UnsafeDeterminism): Promise<RowEncryptor> {
    return this.#loadedRowEncryptor(scope, determinism);
  }

  /** A row encryptor after loading (or creating) `scope`'s active key. */
  async #loadedRowEncryptor(scope: string, determinism: UnsafeDeterminism | undefined): Promise<RowEncryptor> {
    const generation = this.#deks?.generation;
    const material = await this.#keys.activeScopeKeyMaterial(scope);
    try {
      return this.#newRow(material, determinism, generation);
    } finally {
      material.key.fill(0);
    }
  }

  /**
   * Decrypts one envelope written for `ctx`.
   * @throws EnvelopeFormatError, DecryptionError (tampered or moved), KeyDestroyedError,
   *   KeyNotFoundError, KeyringError
   */
  async decrypt(envelope: string, ctx: FieldContext): Promise<string> {
    checkContext(ctx);
    needs(ctx.kind !== 'bytes', 'ctx.kind', "'bytes' values are decrypted with decryptBytes");
    return (await this.#decryptor.decryptOne(envelope, ctx)) as string;
  }

  /**
   * Decrypts one binary envelope (a `Bytes` value, binary-envelope.ts) written for `ctx`
   * (whose `kind` is taken as `bytes`).
   * @returns a new buffer holding the bytes
   * @throws as {@link FieldCrypto.decrypt}
   */
  async decryptBytes(envelope: Uint8Array, ctx: FieldContext): Promise<Buffer> {
    checkContext(ctx);
    needs(ctx.kind === undefined || ctx.kind === 'bytes', 'ctx.kind', "must be 'bytes' (or absent) for bytes");
    return (await this.#decryptor.decryptOne(envelope, { ...ctx, kind: 'bytes' })) as Buffer;
  }

  /**
   * Decrypts many values in one synchronous pass where it can: each value is parsed (a header
   * shared by a row's fields is decoded once) and opened at once under its row's DEK, taken
   * from the DEK cache or unwrapped in place under a cached scope key, once per row. Values
   * whose scope key is not cached wait: each distinct (key id, version) among them is
   * resolved once, concurrently, and they are decrypted in a second pass. Failures come back
   * in place as typed errors, never thrown.
   */
  decryptMany(items: readonly DecryptItem[]): Promise<(string | Buffer | HushfieldError)[]> {
    return this.#decryptor.decryptMany(items);
  }

  /**
   * Starts the process-wide decrypt thread that large `decryptMany` calls share their work with
   * (see `parallelDecrypt`), instead of on the first such call (which runs on the calling thread
   * while the thread starts). Resolves whether calls will be split: `false` when this instance
   * does not split them or the thread cannot start.
   * @example await crypto.startDecryptThread(); // at start-up, before serving reads
   */
  async startDecryptThread(): Promise<boolean> {
    return this.#decryptor.splits && (await decryptThread.start());
  }

  /** Cheap prefix test: whether `value` looks like an envelope (no parse, no decryption). */
  isEnvelope(value: string): boolean {
    return isEnvelope(value);
  }

  /** The format version, key id and key version an envelope names. @throws EnvelopeFormatError */
  describe(envelope: string): { formatVersion: number; keyId: string; version: number } {
    return describeEnvelope(envelope);
  }

  /**
   * The blind index of `value` under the current index root version, or, for a per-scope index
   * (`spec.perScope`), under the active key of `scope` (created on first use, as for a write).
   * @throws InvalidArgumentError when `spec` is invalid or a per-scope index is given no scope
   */
  blindIndex(spec: BlindIndexSpec, value: string, scope?: string): Promise<string> {
    return this.#index.blindIndex(spec, value, scope);
  }

  /**
   * Like {@link FieldCrypto.blindIndex}, synchronously, when the keys it needs are cached (the
   * index root versions and the derived index key; for a per-scope index, `scope`'s active
   * key): the same index value, or `undefined` (no I/O) when a key must be loaded first.
   * @throws InvalidArgumentError when `spec` is invalid (as `blindIndex` does)
   * @example const index = crypto.cachedBlindIndex(spec, email) ?? (await crypto.blindIndex(spec, email));
   */
  cachedBlindIndex(spec: BlindIndexSpec, value: string, scope?: string): string | undefined {
    return this.#index.cachedBlindIndex(spec, value, scope);
  }

  /**
   * The blind index of `value` under every live key version, current first (for queries): the
   * index root versions, or for a per-scope index the live versions of `scope`'s key, none
   * when the scope has no key or was destroyed (nothing can match; no key is created).
   * @throws InvalidArgumentError when `spec` is invalid or a per-scope index is given no scope
   */
  blindIndexAll(spec: BlindIndexSpec, value: string, scope?: string): Promise<string[]> {
    return this.#index.blindIndexAll(spec, value, scope);
  }

  /**
   * A mark of the blind-index root versions this process knows now, without I/O: taken before
   * a lookup, then given to {@link refreshIndexVersions} if it finds nothing.
   */
  indexVersionsMark(): IndexVersionsMark {
    return { versions: this.#keys.lastIndexRootVersions() };
  }

  /**
   * Reads the live blind-index root versions from the key store again, for a lookup through a
   * shared blind index that found nothing: another process may have added a version (`keys
   * rotate --index`) since this one last read them. Rate-limited: at most one key-store query
   * per second whatever the number of callers (a more recent read is answer enough).
   * @param since - {@link indexVersionsMark} taken before the lookup: a read made while it ran
   *   (by another caller's miss, or on expiry) may name a version it did not hash under
   * @returns whether a version appeared that `since` (without it, the previous read) did not
   *   name: the lookup may have missed a row indexed under it, and is worth running again
   * @example
   * const mark = crypto.indexVersionsMark();
   * if ((await find()) === null && (await crypto.refreshIndexVersions(mark))) return find();
   */
  refreshIndexVersions(since?: IndexVersionsMark): Promise<boolean> {
    return this.#keys.refreshIndexRootVersions(since?.versions);
  }

  /**
   * A mark of the live versions of `scope`'s key this process knows now, without I/O: taken
   * before a lookup through a per-scope blind index in `scope`, then given to
   * {@link refreshScopeIndexVersions} if it finds nothing.
   */
  scopeIndexVersionsMark(scope: string): IndexVersionsMark {
    return { versions: this.#keys.lastScopeVersions(scope) };
  }

  /**
   * Reads the live versions of `scope`'s key again, for a lookup through a per-scope blind index
   * that found nothing: another process may have rotated the scope's key (`keys rotate --scope`)
   * and moved rows to the new version since this one last read them. As
   * {@link refreshIndexVersions}: at most one key-store query per second per scope.
   * @param since - {@link scopeIndexVersionsMark} taken before the lookup
   * @returns whether a version appeared that `since` did not name: the lookup is worth running again
   * @throws InvalidArgumentError when `scope` is not a valid scope name
   */
  refreshScopeIndexVersions(scope: string, since?: IndexVersionsMark): Promise<boolean> {
    return this.#keys.refreshScopeVersions(scope, since?.versions);
  }

  /**
   * How many versions of `scope`'s key this process knows to be live, without I/O (0 when not
   * known): more than one after a rotation of the scope's key, while its per-scope blind
   * indexes match every live version.
   */
  cachedScopeIndexVersionCount(scope: string): number {
    return this.#keys.cachedScopeVersionCount(scope);
  }

  /**
   * How many blind-index root versions this process knows to be live, without I/O (0 when they
   * are not cached). More than one while an index-key rotation is under way.
   */
  cachedIndexVersionCount(): number {
    return this.#keys.cachedIndexRootVersions()?.length ?? 0;
  }

  /**
   * What the match-index column stores for `value` under the current index root version: the
   * parameters' fingerprint (negative), then the sorted positions.
   * @throws InvalidArgumentError on a bad spec, a lone surrogate, or a value longer than
   *   `spec.maxLength` code points (the message names the field, never the value)
   */
  matchIndex(spec: MatchIndexSpec, value: string): Promise<number[]> {
    return this.#index.matchIndex(spec, value);
  }

  /**
   * Like {@link FieldCrypto.matchIndex}, synchronously, when the index root versions and the
   * derived match key are cached; `undefined` (no I/O) when a key must be loaded first.
   */
  cachedMatchIndex(spec: MatchIndexSpec, value: string): number[] | undefined {
    return this.#index.cachedMatchIndex(spec, value);
  }

  /**
   * The positions a row's match index must hold for `kind` of `query` to possibly match, under
   * every live index root version, current first; `null` when the query is too short to form
   * one n-gram (the caller refuses it).
   * @throws InvalidArgumentError on a bad spec or a lone surrogate in `query`
   */
  matchQueryAll(spec: MatchIndexSpec, kind: MatchKind, query: string): Promise<number[][] | null> {
    return this.#index.matchQueryAll(spec, kind, query);
  }

  /** The index root version embedded in a stored blind index value, or `null`. */
  blindIndexVersion(indexValue: string): number | null {
    return this.#index.blindIndexVersion(indexValue);
  }

  /**
   * What a stored blind index value names: index root version, normalizer version and digest
   * length, or `null` when it is not one. A value whose parts differ from a freshly computed
   * one's is stale (`reencrypt` rebuilds it).
   */
  describeBlindIndex(indexValue: string): BlindIndexParts | null {
    return this.#index.describeBlindIndex(indexValue);
  }

  /** Drops and zeroes every cached scope key, index key and DEK (e.g. at shutdown). */
  clearCaches(): void {
    this.#keys.clearCache();
    this.#index.clearCache();
    this.#deks?.clear();
    this.#pool?.flush();
  }

  /** Key-cache and DEK-cache counters. */
  stats(): CacheStats {
    const { hits, misses, keyringCalls, entries } = this.#keys.counters();
    return {
      hits,
      misses,
      keyringCalls,
      entries,
      dekHits: this.#deks?.hits ?? 0,
      dekMisses: this.#deks?.misses ?? 0,
      dekPoolTaken: this.#pool?.taken ?? 0,
      dekPoolReady: this.#pool?.size ?? 0,
    };
  }

  /** Prints counters only. */
  toJSON(): CacheStats {
    return this.stats();
  }

  /** Prints counters only. */
  [inspect.custom](): string {
    return `FieldCrypto ${inspect(this.stats())}`;
  }

  /**
   * A row encryptor; its DEK is cached unless DEKs were dropped since `generation` was read.
   * Takes a DEK prepared under this very key version when the pool holds one, and asks for
   * the scope to be refilled once the current task is done.
   */
  #newRow(
    material: KeyMaterial,
    determinism: UnsafeDeterminism | undefined,
    generation: number | undefined,
  ): RowEncryptor {
    const deks = this.#deks;
    const pool = determinism === undefined ? this.#pool : undefined;
    const prepared = pool?.take(material.scope, material.keyId, material.version);
    const row = createRowEncryptor(
      material,
      determinism,
      deks === undefined
        ? undefined
        : (id, dek) => {
            if (!deks.set(id, dek, generation, this.#keys.scopeKeyRemainingTtl(material.keyId, material.version)))
              dek.fill(0);
          },
      prepared,
    );
    if (pool?.low(material.scope)) pool.requestRefill(material.scope, (scopes) => this.#refill(pool, scopes));
    return row;
  }

  /**
   * Tops up the pool for `scopes`, each under its active key version while that key is cached
   * (nothing for a scope whose key is not: destroyed, expired, or never loaded here). Runs
   * from `setImmediate`, so it never throws: a failure leaves the scope's entries flushed.
   */
  #refill(pool: DekPool, scopes: readonly string[]): void {
    const generation = pool.generation;
    for (const scope of scopes) {
      try {
        this.#keys.withCachedActiveScopeKey(scope, (material) => {
          const { keyId, version } = material;
          const ttl = this.#keys.scopeKeyRemainingTtl(keyId, version);
          for (let ready = pool.ready(scope, keyId, version); ready < pool.perScope && ttl > 0; ready++) {
            const entry = { keyId, version, expiresAt: pool.expiry(ttl), ...freshDek(material) };
            if (!pool.put(scope, entry, generation)) break;
          }
        });
      } catch {
        pool.flush([scope]);
      }
    }
  }
}
