/**
 * `DecryptPass`: the per-value path of a `Decryptor`, which constructs one and runs every pass
 * through it: opening one value under its row's DEK (`open`, also for single values), the
 * synchronous passes of `decryptMany` over a result set (`run`), the row-scope check within a
 * pass, and the decrypt counters and audit events. The pass's loop is tuned (bench/instructions.ts
 * counts it): what it calls per value are this class's own methods and plain functions, with no
 * allocation per value.
 */
import { Buffer } from 'node:buffer';
import type { AuditEmitter } from './audit-emitter';
import type { DekCache } from './dek-cache';
import { sampled } from './decrypt-sampling';
import { valueAad } from './associated-data';
import { parseBinaryEnvelope } from './binary-envelope';
import { HeaderMemo, parseEnvelope, type ParsedEnvelope, withWrappedDek } from './envelope';
import { DecryptionError, EnvelopeFormatError, type HushfieldError } from './errors';
import { MISS } from './key-cache';
import type { KeyHierarchy } from './key-hierarchy';
import { messages } from './messages';
import { needs } from './preconditions';
import { checkContext, checkRowScope, type FieldContext } from './row-encryptor';
import { AWAITED, noteKeys, type PassKey, PassKeys, type ResolvedKey, type Waiting, waitFor } from './decrypt-keys';
import { located, scopeError } from './decrypt-errors';
import type { DecryptItem } from './decryptor';
import { countDecrypted, countDecryptFailure } from './telemetry';
import { decodeUtf8 } from './utf8';
import { openValue, unwrapDek } from './value-cipher';

/**
 * Sealed values up to 16 KiB are decoded into this one buffer, and associated data up to 2 KiB
 * built in the other, by every decrypt pass: a pass is synchronous and opens each value before
 * it parses the next, so one process-wide pair serves them all (allocated once: a buffer per
 * pass cost a point read more than it saved). They hold ciphertext and names only.
 */
const passScratch = Buffer.allocUnsafe(16 * 1024);
const aadPassScratch = Buffer.allocUnsafe(2048);

/** Opens values for one `Decryptor`, over its key hierarchy, DEK cache and audit emitter. */
export class DecryptPass {
  readonly #keys: KeyHierarchy;
  readonly #deks: DekCache | undefined;
  readonly #audit: AuditEmitter;
  /** Fraction of successful decrypts audited (0: off). */
  readonly #auditDecrypts: number;

  constructor(keys: KeyHierarchy, deks: DekCache | undefined, audit: AuditEmitter, auditDecrypts: number) {
    this.#keys = keys;
    this.#deks = deks;
    this.#audit = audit;
    this.#auditDecrypts = auditDecrypts;
  }

  /**
   * One synchronous pass over `items` (or only those at `indexes`). The current row's DEK is
   * a DEK-cache entry used in place, found there or just unwrapped and added (nothing else is
   * added until the row changes, so nothing evicts and zeroes it meanwhile), or, with no DEK
   * cache, this pass's own, zeroed when the row changes. Values whose scope key is neither in
   * `keys` nor cached are left out and returned with the keys they need (only the first pass
   * meets any).
   */
  run(
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
          // The wrapped DEK is decoded only if the DEK cache holds no DEK under its exact text.
          let envelope =
            ctx.kind === 'bytes' ? parseBinaryEnvelope(item.value) : parseEnvelope(item.value, memo, deks?.holds);
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
              // Held but expired since the parse: decoded now (it was checked when it was cached).
              envelope = withWrappedDek(envelope);
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
              return waitFor(items, i, passKeys.get(envelope.keyId, envelope.version).id, keys, this.cachedCopy);
            }
            out[i] = refused ?? this.open(envelope, ctx, dek, aadScratch);
          } else if (waits) {
            waiting!.indexes.push(i);
            // From here on the first pass only notes the keys the rest of the values need.
            noteKeys(items, i + 1, waiting!, keys, this.cachedCopy);
            return waiting;
          } else if (failure !== null) {
            out[i] = this.failed(located(failure, ctx), envelope, ctx);
          } else {
            out[i] = this.failed(new DecryptionError(messages.dekUnwrapFailed(ctx), ctx), envelope, ctx);
          }
        } catch (error) {
          // A malformed value fails before `failed` counts it (which every other failure passes).
          if (error instanceof EnvelopeFormatError) this.malformed(error, ctx);
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
      const copy = this.cachedCopy(keyId, version);
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

  /** A copy of a cached scope key, with its scope, for one call's own use; `MISS` when not cached. */
  readonly cachedCopy = (keyId: string, version: number): ResolvedKey | typeof MISS =>
    this.#keys.withCachedScopeKey(keyId, version, (scopeKey, scope) => ({ key: Buffer.from(scopeKey), scope }));

  /**
   * Why a value whose DEK this pass holds must not be opened for `ctx.scope`: its key belongs to
   * another scope (a counted `DecryptionError`), its key failed to load (that failure), or
   * `MISS` when the key's scope is not known yet and the value must wait for the key (only the
   * first pass, `indexes` undefined, waits; the second fails closed). `undefined`: open it.
   * Kept out of {@link DecryptPass.run}, whose loop V8 optimizes as a whole.
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
      if (keyError !== undefined) return this.failed(located(keyError, ctx), envelope, ctx);
      if (indexes === undefined) return MISS;
    }
    return this.failed(scopeError(envelope, ctx, keyScope), envelope, ctx);
  }

  /**
   * The scope of the envelope's key as this call knows it (its own copy of the key, else the key
   * cache), remembered in `passKey`; `undefined` while the key is neither held nor cached.
   */
  #passScope(envelope: ParsedEnvelope, passKey: PassKey, keys: Map<string, ResolvedKey>): string | undefined {
    passKey.scope ??= keys.get(passKey.id)?.scope ?? this.#keys.cachedScopeOf(envelope.keyId, envelope.version);
    return passKey.scope;
  }

  /** How long the envelope's scope key stays cached: its DEKs are cached no longer. */
  keyTtl(envelope: ParsedEnvelope): number {
    return this.#keys.scopeKeyRemainingTtl(envelope.keyId, envelope.version);
  }

  /**
   * Like {@link DecryptPass.keyTtl}, reading each scope key's expiry once per pass (into `passKey`)
   * and the clock per row, so a DEK is still cached no longer than its scope key.
   */
  #keyTtlMemo(envelope: ParsedEnvelope, passKey: PassKey): number {
    const now = performance.now();
    passKey.expiresAt ??= now + this.keyTtl(envelope);
    return passKey.expiresAt - now;
  }

  /**
   * Opens a value under its row's DEK: its text, or for a `bytes` context its bytes (a new buffer).
   * @param aadScratch - where to build the associated data (see `valueAad`), when the caller has one
   * @throws DecryptionError (counted) when the value does not authenticate
   */
  open(envelope: ParsedEnvelope, ctx: FieldContext, dek: Buffer, aadScratch?: Buffer): string | Buffer {
    const plaintext = openValue(
      dek,
      envelope,
      valueAad(envelope.keyId, envelope.version, ctx.model, ctx.field, ctx.rowId, ctx, aadScratch),
    );
    if (plaintext === null) throw this.failed(new DecryptionError(messages.decryptionFailed(ctx), ctx), envelope, ctx);
    let value: string | Buffer = plaintext;
    if (ctx.kind !== 'bytes') {
      value = decodeUtf8(plaintext);
      plaintext.fill(0);
    }
    countDecrypted(ctx.model, ctx.field);
    if (this.#auditDecrypts > 0 && sampled(this.#auditDecrypts)) this.#auditValue(envelope, ctx, 'success');
    return value;
  }

  /** `error` as the failure of a value: counted, and audited when decrypts are. */
  failed(error: HushfieldError, envelope: ParsedEnvelope, ctx: FieldContext): HushfieldError {
    countDecryptFailure(error.code, ctx.model, ctx.field);
    if (this.#auditDecrypts > 0) this.#auditValue(envelope, ctx, 'failure', error.code);
    return error;
  }

  /**
   * A value that is not an envelope (truncated, tampered header): counted, and audited when
   * decrypts are, as a failure naming no key (none could be read from it).
   */
  malformed(error: EnvelopeFormatError, ctx: FieldContext): void {
    countDecryptFailure(error.code, ctx.model, ctx.field);
    if (this.#auditDecrypts > 0) this.#auditValue(undefined, ctx, 'failure', error.code);
  }

  #auditValue(
    envelope: ParsedEnvelope | undefined,
    ctx: FieldContext,
    outcome: 'success' | 'failure',
    errorCode?: string,
  ): void {
    const detail: Record<string, string | number> = { model: ctx.model, field: ctx.field };
    if (this.#auditDecrypts < 1 && outcome === 'success') detail.sampleRate = this.#auditDecrypts;
    if (ctx.rowId !== undefined) detail.rowId = ctx.rowId;
    this.#audit.emit({
      operation: 'value.decrypt',
      outcome,
      ...(envelope === undefined ? {} : { keyId: envelope.keyId, kind: 'scope' as const, version: envelope.version }),
      detail,
      ...(errorCode === undefined ? {} : { errorCode }),
    });
  }
}
