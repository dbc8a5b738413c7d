/**
 * `Decryptor`: the decrypt side of `FieldCrypto`, which constructs one and delegates to it:
 * single values, and whole result sets (`decryptMany`: its passes, the scope keys they wait for,
 * and when to share the call with the decrypt thread). The per-value path, the row-scope check
 * within a pass and the decrypt counters and audit events are `DecryptPass`'s
 * (`decrypt-pass.ts`); the share itself is `DecryptSplit`'s (`decrypt-split.ts`).
 */
import { Buffer } from 'node:buffer';
import type { AuditEmitter } from './audit-emitter';
import type { DekCache } from './dek-cache';
import { parseBinaryEnvelope } from './binary-envelope';
import { parseEnvelope, scopeKeyOf, type ParsedEnvelope } from './envelope';
import { settleAll } from './settle-all';
import { DecryptionError, EnvelopeFormatError, type HushfieldError } from './errors';
import { MISS } from './key-cache';
import type { KeyHierarchy } from './key-hierarchy';
import { messages } from './messages';
import { needs } from './preconditions';
import { checkRowScope, type FieldContext } from './row-encryptor';
import { noteKeys, type ResolvedKey, type Waiting } from './decrypt-keys';
import { keyLoadFailure, scopeError } from './decrypt-errors';
import { DecryptPass } from './decrypt-pass';
import { DecryptSplit } from './decrypt-split';
import { decryptThread } from './thread-host';
import { unwrapDek } from './value-cipher';

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
  /** Fraction of successful decrypts audited (0: off). */
  readonly #auditDecrypts: number;
  /** The smallest `decryptMany` call shared with the decrypt thread; `undefined`: none is. */
  readonly #minParallel: number | undefined;
  /** Opens each value, counts and audits it. */
  readonly #pass: DecryptPass;
  /** Shares large calls with the decrypt thread. */
  readonly #split: DecryptSplit;

  constructor(
    keys: KeyHierarchy,
    deks: DekCache | undefined,
    audit: AuditEmitter,
    auditDecrypts: number,
    minParallel: number | undefined,
  ) {
    this.#keys = keys;
    this.#deks = deks;
    this.#auditDecrypts = auditDecrypts;
    this.#minParallel = minParallel;
    this.#pass = new DecryptPass(keys, deks, audit, auditDecrypts);
    this.#split = new DecryptSplit(keys, deks, this.#pass);
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
        return this.#pass.open(parsed, ctx, cachedDek);
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
      throw this.#pass.failed(keyLoadFailure(error, parsed, ctx), parsed, ctx);
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
      if (min !== undefined && items.length >= min && decryptThread.available() && this.#split.allKeysCached(items)) {
        const all: Waiting = { indexes: [], keys: new Set() };
        noteKeys(items, 0, all, keys, this.#pass.cachedCopy);
        if (all.keys.size === 0 && (await this.#split.run(items, all.indexes, out, keys, generation))) return out;
        // A key evicted since, or nothing to share: the passes below, the keys copied so far kept.
        for (const id of all.keys) keys.delete(id);
      }
      // Nothing per value is kept between the passes but its index: per-value state held
      // across the await would outlive the young generation and make the garbage collector copy it.
      const waiting = this.#pass.run(items, undefined, out, keys, generation);
      if (waiting === undefined) return out;
      await this.#resolveKeys(waiting.keys, keys);
      const { indexes } = waiting;
      const shared =
        min !== undefined &&
        indexes.length >= min &&
        decryptThread.available() &&
        (await this.#split.run(items, indexes, out, keys, generation));
      if (!shared) this.#pass.run(items, indexes, out, keys, generation);
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
    await settleAll(
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
    if (dek === null) throw this.#pass.failed(new DecryptionError(messages.dekUnwrapFailed(ctx), ctx), envelope, ctx);
    try {
      const copy = this.#deks === undefined ? undefined : Buffer.from(dek);
      if (copy !== undefined && !this.#deks?.set(envelope.dekId, copy, generation, this.#pass.keyTtl(envelope)))
        copy.fill(0);
      return this.#pass.open(envelope, ctx, dek);
    } finally {
      dek.fill(0);
    }
  }

  /**
   * Throws (counted as a failed decrypt) when `ctx` names the row's scope and the envelope's key
   * is not that scope's, or its scope (`keyScope`) is not known.
   */
  #checkScope(envelope: ParsedEnvelope, ctx: FieldContext, keyScope: string | undefined): void {
    if (ctx.scope !== undefined && keyScope !== ctx.scope) {
      throw this.#pass.failed(scopeError(envelope, ctx, keyScope), envelope, ctx);
    }
  }

  /** Parses an envelope to decrypt for `ctx`; a malformed one is counted (and audited) as a decrypt failure. */
  #parse(envelope: string | Uint8Array, ctx: FieldContext): ParsedEnvelope {
    try {
      return ctx.kind === 'bytes' ? parseBinaryEnvelope(envelope) : parseEnvelope(envelope);
    } catch (error) {
      if (error instanceof EnvelopeFormatError) this.#pass.malformed(error, ctx);
      throw error;
    }
  }
}
