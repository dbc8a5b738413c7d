/**
 * `Decryptor`: the decrypt side of `FieldCrypto`, which constructs one and delegates to it:
 * single values and whole result sets (`decryptMany`, its synchronous passes and the split with
 * the decrypt thread), the row-scope check, and the decrypt counters and audit events.
 */
import { Buffer } from 'node:buffer';
import type { AuditEmitter } from './audit-emitter';
import type { DekCache } from './dek-cache';
import { sampled } from './decrypt-sampling';
import { valueAad } from './associated-data';
import { parseBinaryEnvelope } from './binary-envelope';
import { HeaderMemo, parseEnvelope, scopeKeyOf, type ParsedEnvelope } from './envelope';
import { DecryptionError, EnvelopeFormatError, HushfieldError, KeyDestroyedError, KeyStoreError } from './errors';
import { MISS } from './key-cache';
import type { KeyHierarchy } from './key-hierarchy';
import { messages } from './messages';
import { needs } from './preconditions';
import { checkContext, checkRowScope, type FieldContext } from './row-encryptor';
import { AWAITED, noteKeys, type PassKey, PassKeys, type ResolvedKey, type Waiting, waitFor } from './decrypt-keys';
import { splitForThread, takeThreadResult } from './parallel-decrypt';
import { decryptThread } from './thread-host';
import { countDecrypted, countDecryptFailure } from './telemetry';
import { decodeUtf8 } from './utf8';
import { openValue, unwrapDek } from './value-cipher';

/**
 * Sealed values up to 16 KiB are decoded into this one buffer, and associated data up to 2 KiB
 * built in the other, by every decrypt pass: a pass is synchronous and opens each value before
 * it parses the next, so one process-wide pair serves them all (allocated once: a buffer per
 * pass cost a point read more than it saved). They hold ciphertext and names only.
 */
/** A key `#allKeysCached` found in the key cache: noted, not copied. */
const PRESENT: ResolvedKey = Object.freeze({});

const passScratch = Buffer.allocUnsafe(16 * 1024);
const aadPassScratch = Buffer.allocUnsafe(2048);

/**
 * A failure to load key material for a value: hushfield's own errors as they are (located), any
 * other (the key store's database) as a {@link KeyStoreError}, transient.
 */
function keyLoadFailure(error: unknown, key: { keyId: string; version: number }, ctx?: FieldContext): HushfieldError {
  if (error instanceof HushfieldError) return located(error, ctx);
  return new KeyStoreError(messages.keyStoreFailed(key.keyId, key.version, ctx ?? {}), key, ctx, { cause: error });
}

function located(error: unknown, ctx: FieldContext | undefined): HushfieldError {
  if (error instanceof KeyDestroyedError) return new KeyDestroyedError(error.message, error, ctx);
  if (error instanceof KeyStoreError && ctx !== undefined) {
    const message = messages.keyStoreFailed(error.keyId, error.version, ctx);
    return new KeyStoreError(message, error, ctx, { cause: error.cause });
  }
  if (error instanceof HushfieldError) return error;
  return new DecryptionError(messages.decryptionFailed(ctx ?? {}), ctx, { cause: error });
}

/**
 * One item of `FieldCrypto.decryptMany`: a text envelope, or a binary envelope when
 * `ctx.kind` is `bytes` (the context, never the stored value, decides which).
 */
export interface DecryptItem {
  value: string | Uint8Array;
  ctx: FieldContext;
}

/** Decrypts for one `FieldCrypto`, over its key hierarchy, DEK cache and audit emitter. */
export class Decryptor {
  readonly #keys: KeyHierarchy;
  readonly #deks: DekCache | undefined;
  readonly #audit: AuditEmitter;
  /** Fraction of successful decrypts audited (0: off). */
  readonly #auditDecrypts: number;
  /** The smallest `decryptMany` call shared with the decrypt thread; `undefined`: none is. */
  readonly #minParallel: number | undefined;

  constructor(
    keys: KeyHierarchy,
    deks: DekCache | undefined,
    audit: AuditEmitter,
    auditDecrypts: number,
    minParallel: number | undefined,
  ) {
    this.#keys = keys;
    this.#deks = deks;
    this.#audit = audit;
    this.#auditDecrypts = auditDecrypts;
    this.#minParallel = minParallel;
  }

  /** Whether large `decryptMany` calls are shared with the decrypt thread (see `parallelDecrypt`). */
  get splits(): boolean {
    return this.#minParallel !== undefined;
  }

  /** Decrypts one envelope for `ctx` (checked by the caller); see `FieldCrypto.decrypt`. */
  async decryptOne(envelope: string | Uint8Array, ctx: FieldContext): Promise<string | Buffer> {
    if (ctx.scope !== undefined) checkRowScope(ctx);
    const parsed = this.#parse(envelope, ctx);
    const deks = this.#deks;
    const generation = deks?.generation;
    if (deks !== undefined) {
      deks.sweep();
      const cachedDek = deks.peek(parsed.dekId);
      // A row's scope is checked against its key's, known while the key is cached (else loaded below).
      const keyScope = ctx.scope === undefined ? undefined : this.#keys.cachedScopeOf(parsed.keyId, parsed.version);
      if (cachedDek !== undefined && (ctx.scope === undefined || keyScope !== undefined)) {
        deks.hits++;
        this.#checkScope(parsed, ctx, keyScope);
        return this.#open(parsed, ctx, cachedDek);
      }
      // Not cached, or its key is not: the DEK is unwrapped again.
      deks.misses++;
    }
    // Warm path: the scope key is cached, so no await and no key copy.
    const warm = this.#keys.withCachedScopeKey(parsed.keyId, parsed.version, (scopeKey, keyScope) => {
      this.#checkScope(parsed, ctx, keyScope);
      return this.#unwrapAndOpen(parsed, ctx, scopeKey, generation);
    });
    if (warm !== MISS) return warm;
    let scopeKey: Buffer;
    let keyScope: string | undefined;
    try {
      ({ key: scopeKey, scope: keyScope } = await this.#keys.scopedKeyMaterial(parsed.keyId, parsed.version));
    } catch (error) {
      throw this.#failed(keyLoadFailure(error, parsed, ctx), parsed, ctx);
    }
    try {
      this.#checkScope(parsed, ctx, keyScope);
      return this.#unwrapAndOpen(parsed, ctx, scopeKey, generation);
    } finally {
      scopeKey.fill(0);
    }
  }

  /** See `FieldCrypto.decryptMany`. */
  async decryptMany(items: readonly DecryptItem[]): Promise<(string | Buffer | HushfieldError)[]> {
    needs(Array.isArray(items), 'items', 'must be an array');
    const out: (string | Buffer | HushfieldError)[] = new Array(items.length);
    this.#deks?.sweep();
    // Read before any key is fetched: DEKs unwrapped after a destroy are not cached (see DekCache.generation).
    const generation = this.#deks?.generation;
    // This call's own copy of each scope key it uses (one key-cache hit per key per call, as
    // many rows as it takes), or why it could not be resolved; zeroed when the call ends.
    const keys = new Map<string, ResolvedKey>();
    try {
      const min = this.#auditDecrypts === 0 ? this.#minParallel : undefined;
      // Shared with the decrypt thread at once when every key it names is cached (a warm read):
      // the thread unwraps with copies of them. Else the key store is asked exactly as without
      // the thread, by this thread's first pass, and what waited for keys is shared after.
      if (min !== undefined && items.length >= min && decryptThread.available() && this.#allKeysCached(items)) {
        const all: Waiting = { indexes: [], keys: new Set() };
        noteKeys(items, 0, all, keys, this.#cachedCopy);
        if (all.keys.size === 0 && (await this.#decryptSplit(items, all.indexes, out, keys, generation))) return out;
        // A key evicted since, or nothing to share: the passes below, the keys copied so far kept.
        for (const id of all.keys) keys.delete(id);
      }
      // Nothing per value is kept between the passes but its index: per-value state held
      // across the await would outlive the young generation and make the garbage collector copy it.
      const waiting = this.#decryptPass(items, undefined, out, keys, generation);
      if (waiting === undefined) return out;
      await this.#resolveKeys(waiting.keys, keys);
      const { indexes } = waiting;
      const shared =
        min !== undefined &&
        indexes.length >= min &&
        decryptThread.available() &&
        (await this.#decryptSplit(items, indexes, out, keys, generation));
      if (!shared) this.#decryptPass(items, indexes, out, keys, generation);
      return out;
    } finally {
      for (const entry of keys.values()) entry.key?.fill(0);
    }
  }

  /** Looks up the scope keys `ids` (neither held nor cached) together, into `keys`: each its copy or why not. */
  async #resolveKeys(ids: Iterable<string>, keys: Map<string, ResolvedKey>): Promise<void> {
    const wanted = [...ids];
    const refs = wanted.map(scopeKeyOf);
    const loads = this.#keys.scopeKeyMaterials(refs);
    await Promise.all(
      wanted.map(async (id, i) => {
        try {
          keys.set(id, await loads[i]);
        } catch (error) {
          keys.set(id, { error: keyLoadFailure(error, refs[i]) });
        }
      }),
    );
  }

  /**
   * The values at `indexes` shared with the decrypt thread (`keys` holds every scope key they
   * name, copied or resolved): the thread opens its share while this thread runs its own pass,
   * and what the thread did not open (all of its share when it fails or misses its deadline) is
   * decrypted here, so errors, counters and the DEK cache follow this thread's rules alone.
   * `false` (nothing decrypted) when the thread is not ready or idle, or the values have too few
   * text values to share.
   */
  async #decryptSplit(
    items: readonly DecryptItem[],
    indexes: readonly number[],
    out: (string | Buffer | HushfieldError)[],
    keys: Map<string, ResolvedKey>,
    generation: number | undefined,
  ): Promise<boolean> {
    const split = splitForThread(items, indexes, keys);
    if (split === undefined) return false;
    // Taken by the thread, or its buffers zeroed by `run` when the thread became busy meanwhile.
    const running = decryptThread.run(split.job);
    if (running === undefined) return false;
    try {
      const started = performance.now();
      this.#decryptPass(items, split.ownIndexes, out, keys, generation);
      const result = await decryptThread.answer(running, performance.now() - started);
      if (result === undefined) {
        this.#decryptPass(items, split.threadIndexes, out, keys, generation);
        return true;
      }
      const deks = this.#deks;
      const retry = takeThreadResult(
        result,
        split,
        out,
        (i) => countDecrypted(items[i].ctx.model, items[i].ctx.field),
        (id, dek) => {
          if (deks === undefined) return;
          // Counted as the calling thread counts a row: a hit when the cache held its DEK already.
          if (deks.peek(id) !== undefined) {
            deks.hits++;
            return;
          }
          deks.misses++;
          const copy = Buffer.from(dek);
          const { keyId, version } = scopeKeyOf(id.slice(0, id.lastIndexOf('$')));
          if (!deks.set(id, copy, generation, this.#keys.scopeKeyRemainingTtl(keyId, version))) copy.fill(0);
        },
      );
      if (retry.length > 0) this.#decryptPass(items, retry, out, keys, generation);
      return true;
    } finally {
      // Zeroes the job's keys and DEKs whatever became of it (a job still running is abandoned).
      decryptThread.end(running, split.job);
    }
  }

  /**
   * Unwraps the envelope's DEK under `scopeKey` and opens the value (the DEK cache gets a copy,
   * unless DEKs were dropped since `generation` was read).
   */
  #unwrapAndOpen(
    envelope: ParsedEnvelope,
    ctx: FieldContext,
    scopeKey: Buffer,
    generation: number | undefined,
  ): string | Buffer {
    const dek = unwrapDek(scopeKey, envelope);
    if (dek === null) throw this.#failed(new DecryptionError(messages.dekUnwrapFailed(ctx), ctx), envelope, ctx);
    try {
      const copy = this.#deks === undefined ? undefined : Buffer.from(dek);
      if (copy !== undefined && !this.#deks?.set(envelope.dekId, copy, generation, this.#keyTtl(envelope)))
        copy.fill(0);
      return this.#open(envelope, ctx, dek);
    } finally {
      dek.fill(0);
    }
  }

  /**
   * One synchronous pass over `items` (or only those at `indexes`). The current row's DEK is
   * a DEK-cache entry used in place, found there or just unwrapped and added (nothing else is
   * added until the row changes, so nothing evicts and zeroes it meanwhile), or, with no DEK
   * cache, this pass's own, zeroed when the row changes. Values whose scope key is neither in
   * `keys` nor cached are left out and returned with the keys they need (only the first pass
   * meets any).
   */
  #decryptPass(
    items: readonly DecryptItem[],
    indexes: readonly number[] | undefined,
    out: (string | Buffer | HushfieldError)[],
    keys: Map<string, ResolvedKey>,
    generation: number | undefined,
  ): Waiting | undefined {
    const deks = this.#deks;
    // One buffer each for the sealed value being opened and its associated data, reused value
    // after value (each is handed to the cipher before the next is written): no allocation per value.
    const memo = new HeaderMemo(passScratch);
    const aadScratch = aadPassScratch;
    // Each scope key version's id and, once asked, when its cached copy expires (a row's DEK is
    // cached no longer): looked up once per pass.
    const passKeys = new PassKeys();
    let waiting: Waiting | undefined;
    let lastId: string | undefined;
    let dek: Buffer | undefined;
    let owned = false;
    // Why the current row's DEK is unavailable: a key error, or `null` when it failed to unwrap.
    let failure: unknown;
    let waits = false;
    // Whether the current row's DEK came from the DEK cache (counted as a hit).
    let hit = false;
    // The last scope and key id a value was found to match (see #refusedScope).
    let checkedScope: string | undefined;
    let checkedKeyId: string | undefined;
    const count = indexes === undefined ? items.length : indexes.length;
    try {
      for (let n = 0; n < count; n++) {
        const i = indexes === undefined ? n : indexes[n];
        const item = items[i];
        const ctx = item?.ctx;
        try {
          if (item === null || typeof item !== 'object') needs(false, `items[${i}]`, 'must be { value, ctx }');
          checkContext(ctx);
          const envelope = ctx.kind === 'bytes' ? parseBinaryEnvelope(item.value) : parseEnvelope(item.value, memo);
          if (envelope.dekId !== lastId) {
            if (owned) dek!.fill(0);
            lastId = envelope.dekId;
            owned = false;
            failure = undefined;
            waits = false;
            // Counted once the row is decided: a row left for the second pass is counted there.
            dek = deks?.peek(lastId);
            hit = dek !== undefined;
            if (hit) deks!.hits++;
            else {
              const passKey = passKeys.get(envelope.keyId, envelope.version);
              const unwrapped = this.#unwrapRow(envelope, passKey.id, keys);
              if (unwrapped !== MISS && deks !== undefined) deks.misses++;
              // The second pass holds every key the values it sees name: fail closed if not.
              if (unwrapped === MISS && indexes !== undefined) failure = new Error('scope key not resolved');
              else if (unwrapped === MISS) {
                waits = true;
                waiting = { indexes: [], keys: new Set([passKey.id]) };
              } else if (Buffer.isBuffer(unwrapped)) {
                dek = unwrapped;
                // The cache takes this very buffer (no copy per row on a cold read) and zeroes it
                // when it drops it; nothing is added before the row changes, so it stays valid.
                // Refused if a key was destroyed since the call began: then this pass owns it.
                if (deks === undefined || !deks.set(lastId, unwrapped, generation, this.#keyTtlMemo(envelope, passKey)))
                  owned = true;
              } else failure = unwrapped.error;
            }
          }
          if (dek !== undefined) {
            // A key id belongs to one scope: once a value under it opened for a scope, the rest of
            // the row's values (and a later row's under the same key and scope) need no second look.
            let refused: HushfieldError | typeof MISS | undefined;
            if (ctx.scope !== undefined && (ctx.scope !== checkedScope || envelope.keyId !== checkedKeyId)) {
              refused = this.#refusedScope(envelope, ctx, keys, passKeys, indexes);
              if (refused === undefined) {
                checkedScope = ctx.scope;
                checkedKeyId = envelope.keyId;
              }
            }
            if (refused === MISS) {
              // The DEK was cached, its key no longer is: this value and the rest wait for the
              // key (the row's DEK-cache hit is counted in the second pass, as it is used there).
              if (hit) deks!.hits--;
              return waitFor(items, i, passKeys.get(envelope.keyId, envelope.version).id, keys, this.#cachedCopy);
            }
            out[i] = refused ?? this.#open(envelope, ctx, dek, aadScratch);
          } else if (waits) {
            waiting!.indexes.push(i);
            // From here on the first pass only notes the keys the rest of the values need.
            noteKeys(items, i + 1, waiting!, keys, this.#cachedCopy);
            return waiting;
          } else if (failure !== null) {
            out[i] = this.#failed(located(failure, ctx), envelope, ctx);
          } else {
            out[i] = this.#failed(new DecryptionError(messages.dekUnwrapFailed(ctx), ctx), envelope, ctx);
          }
        } catch (error) {
          // A malformed value fails before #failed counts it (which every other failure passes).
          if (error instanceof EnvelopeFormatError) countDecryptFailure(error.code, ctx.model, ctx.field);
          out[i] = located(error, ctx);
        }
      }
    } finally {
      if (owned) dek!.fill(0);
    }
    return waiting;
  }

  /**
   * The row's DEK unwrapped under its scope key (this call's copy, taken from the key cache on
   * first use): a new buffer, `{ error: null }` when it fails to authenticate, `{ error }` when
   * the key could not be resolved, or `MISS` when the key is neither held nor cached.
   */
  #unwrapRow(
    envelope: ParsedEnvelope,
    id: string,
    keys: Map<string, ResolvedKey>,
  ): Buffer | { error: unknown } | typeof MISS {
    const { keyId, version } = envelope;
    let entry = keys.get(id);
    if (entry === AWAITED) return MISS;
    if (entry === undefined) {
      const copy = this.#cachedCopy(keyId, version);
      if (copy === MISS) {
        keys.set(id, AWAITED);
        return MISS;
      }
      entry = copy;
      keys.set(id, entry);
    }
    if (entry.key === undefined) return { error: entry.error };
    return unwrapDek(entry.key, envelope) ?? { error: null };
  }

  /** Whether every scope key `items` name is in the key cache (asked without using one: no hit, no use counted). */
  #allKeysCached(items: readonly DecryptItem[]): boolean {
    const probe: Waiting = { indexes: [], keys: new Set() };
    // Into a map of its own, thrown away: a cached key is noted as present, with no copy taken.
    const present = (keyId: string, version: number) =>
      this.#keys.scopeKeyRemainingTtl(keyId, version) > 0 ? PRESENT : MISS;
    noteKeys(items, 0, probe, new Map(), present);
    return probe.keys.size === 0;
  }

  /** A copy of a cached scope key, with its scope, for one call's own use; `MISS` when not cached. */
  readonly #cachedCopy = (keyId: string, version: number): ResolvedKey | typeof MISS =>
    this.#keys.withCachedScopeKey(keyId, version, (scopeKey, scope) => ({ key: Buffer.from(scopeKey), scope }));

  /**
   * Why a value whose DEK this pass holds must not be opened for `ctx.scope`: its key belongs to
   * another scope (a counted `DecryptionError`), its key failed to load (that failure), or
   * `MISS` when the key's scope is not known yet and the value must wait for the key (only the
   * first pass, `indexes` undefined, waits; the second fails closed). `undefined`: open it.
   * Kept out of {@link Decryptor.#decryptPass}, whose loop V8 optimizes as a whole.
   */
  #refusedScope(
    envelope: ParsedEnvelope,
    ctx: FieldContext,
    keys: Map<string, ResolvedKey>,
    passKeys: PassKeys,
    indexes: readonly number[] | undefined,
  ): HushfieldError | typeof MISS | undefined {
    try {
      checkRowScope(ctx);
    } catch (error) {
      return error as HushfieldError;
    }
    const passKey = passKeys.get(envelope.keyId, envelope.version);
    const keyScope = this.#passScope(envelope, passKey, keys);
    if (keyScope === ctx.scope) return undefined;
    if (keyScope === undefined) {
      const keyError = keys.get(passKey.id)?.error;
      if (keyError !== undefined) return this.#failed(located(keyError, ctx), envelope, ctx);
      if (indexes === undefined) return MISS;
    }
    return this.#scopeError(envelope, ctx, keyScope);
  }

  /**
   * The scope of the envelope's key as this call knows it (its own copy of the key, else the key
   * cache), remembered in `passKey`; `undefined` while the key is neither held nor cached.
   */
  #passScope(envelope: ParsedEnvelope, passKey: PassKey, keys: Map<string, ResolvedKey>): string | undefined {
    passKey.scope ??= keys.get(passKey.id)?.scope ?? this.#keys.cachedScopeOf(envelope.keyId, envelope.version);
    return passKey.scope;
  }

  /**
   * Throws (counted as a failed decrypt) when `ctx` names the row's scope and the envelope's key
   * is not that scope's, or its scope (`keyScope`) is not known.
   */
  #checkScope(envelope: ParsedEnvelope, ctx: FieldContext, keyScope: string | undefined): void {
    if (ctx.scope !== undefined && keyScope !== ctx.scope) throw this.#scopeError(envelope, ctx, keyScope);
  }

  /** The counted error of a value whose key is not of `ctx.scope` (`keyScope`), or whose key's scope is unknown. */
  #scopeError(envelope: ParsedEnvelope, ctx: FieldContext, keyScope: string | undefined): HushfieldError {
    const error =
      keyScope === undefined
        ? new DecryptionError(messages.scopeUnknown(ctx, envelope.keyId, envelope.version), ctx)
        : new DecryptionError(messages.otherScope(ctx, envelope.keyId), ctx, { otherScope: ctx.scope });
    return this.#failed(error, envelope, ctx);
  }

  /** How long the envelope's scope key stays cached: its DEKs are cached no longer. */
  #keyTtl(envelope: ParsedEnvelope): number {
    return this.#keys.scopeKeyRemainingTtl(envelope.keyId, envelope.version);
  }

  /**
   * Like {@link Decryptor.#keyTtl}, reading each scope key's expiry once per pass (into `passKey`)
   * and the clock per row, so a DEK is still cached no longer than its scope key.
   */
  #keyTtlMemo(envelope: ParsedEnvelope, passKey: PassKey): number {
    const now = performance.now();
    passKey.expiresAt ??= now + this.#keyTtl(envelope);
    return passKey.expiresAt - now;
  }

  /**
   * Opens a value under its row's DEK: its text, or for a `bytes` context its bytes (a new buffer).
   * @param aadScratch - where to build the associated data (see `valueAad`), when the caller has one
   */
  #open(envelope: ParsedEnvelope, ctx: FieldContext, dek: Buffer, aadScratch?: Buffer): string | Buffer {
    const plaintext = openValue(
      dek,
      envelope,
      valueAad(envelope.keyId, envelope.version, ctx.model, ctx.field, ctx.rowId, ctx, aadScratch),
    );
    if (plaintext === null) throw this.#failed(new DecryptionError(messages.decryptionFailed(ctx), ctx), envelope, ctx);
    let value: string | Buffer = plaintext;
    if (ctx.kind !== 'bytes') {
      value = decodeUtf8(plaintext);
      plaintext.fill(0);
    }
    countDecrypted(ctx.model, ctx.field);
    if (this.#auditDecrypts > 0 && sampled(this.#auditDecrypts)) this.#auditValue(envelope, ctx, 'success');
    return value;
  }

  /** Parses an envelope to decrypt for `ctx`; a malformed one is counted as a decrypt failure. */
  #parse(envelope: string | Uint8Array, ctx: FieldContext): ParsedEnvelope {
    try {
      return ctx.kind === 'bytes' ? parseBinaryEnvelope(envelope) : parseEnvelope(envelope);
    } catch (error) {
      if (error instanceof EnvelopeFormatError) countDecryptFailure(error.code, ctx.model, ctx.field);
      throw error;
    }
  }

  #failed(error: HushfieldError, envelope: ParsedEnvelope, ctx: FieldContext): HushfieldError {
    countDecryptFailure(error.code, ctx.model, ctx.field);
    if (this.#auditDecrypts > 0) this.#auditValue(envelope, ctx, 'failure', error.code);
    return error;
  }

  #auditValue(envelope: ParsedEnvelope, ctx: FieldContext, outcome: 'success' | 'failure', errorCode?: string): void {
    const detail: Record<string, string | number> = { model: ctx.model, field: ctx.field };
    if (this.#auditDecrypts < 1 && outcome === 'success') detail.sampleRate = this.#auditDecrypts;
    if (ctx.rowId !== undefined) detail.rowId = ctx.rowId;
    this.#audit.emit({
      operation: 'value.decrypt',
      outcome,
      keyId: envelope.keyId,
      kind: 'scope',
      version: envelope.version,
      detail,
      ...(errorCode === undefined ? {} : { errorCode }),
    });
  }
}
