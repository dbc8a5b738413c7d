/**
 * Seals one row's written values in place: each encrypted field's plaintext becomes its
 * envelope under one fresh DEK of the row's scope (a `readonly` field stays plaintext), and the
 * blind and match indexes of the written fields are computed from the plaintext. Synchronous
 * when every key it needs is cached (see {@link RowSealer.seal}).
 */
import { JsonNull } from '@prisma/client/runtime/client';
import type { FieldCrypto, InvalidArgumentError, RowEncryptor } from '@hushfield/core';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { isNullWrite, sealTyped } from '../../typed-values';
import { valueContext } from '../../value-context';
import type { RowContext } from './encrypt-data';
import { type Args, isPerScopeIndex, isPlainObject, type SchemaView } from '../schema-view';
import type { WrittenEnvelopes } from './written-envelopes';
import { type ColumnCapacity, columnCapacity, overCapacity } from '../../column-capacity';
import { listElementTooLong, sealedTooLong } from '../messages';

/** Seals rows' encrypted fields and fills their indexes; stateless apart from its collaborators. */
export class RowSealer {
  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    /** Receives every envelope sealed, so the write's own result need not decrypt it again. */
    private readonly written?: WrittenEnvelopes,
  ) {}

  /**
   * Whether `data` writes a non-null value that needs the row's scope: to an encrypted (not
   * `readonly`) field (a DEK is needed), or to any source of a per-scope blind index.
   */
  writesEncrypted(model: ModelMeta, data: Args): boolean {
    for (const meta of this.view.writePlan(model).encrypted) {
      const value = data[meta.name];
      if (value === undefined || isNullWrite(meta, fieldPlainOf(meta, value))) continue;
      if (meta.mode !== 'readonly' || this.view.indexesOf(model, meta.name).some(isPerScopeIndex)) return true;
    }
    return false;
  }

  /** Whether `data` writes an encrypted field at all (null included: its blind index follows). */
  touchesEncrypted(model: ModelMeta, data: Args): boolean {
    for (const meta of this.view.writePlan(model).encrypted) if (data[meta.name] !== undefined) return true;
    return false;
  }

  /**
   * Encrypts the encrypted fields of `data` in place with one DEK and fills their blind indexes.
   * Synchronous when the scope key and index keys are cached (`undefined`): an await per row
   * write is a microtask hop and a cold resume between database round trips. Otherwise the
   * promise of the same work through the asynchronous (key-loading) calls.
   */
  seal(model: ModelMeta, data: Args, context: RowContext): Promise<void> | undefined {
    const { encrypted } = this.view.writePlan(model);
    // The plaintexts, read before any field is replaced; `undefined` = not written, `null` = SQL NULL.
    const plains: unknown[] = new Array(encrypted.length);
    let sealsAny = false;
    for (let i = 0; i < encrypted.length; i++) {
      const value = data[encrypted[i].name];
      if (value === undefined) continue;
      const plain = fieldPlainOf(encrypted[i], value);
      plains[i] = isNullWrite(encrypted[i], plain) ? null : plain;
      if (plains[i] !== null && encrypted[i].mode !== 'readonly') sealsAny = true;
    }
    const encryptor = sealsAny ? this.crypto.cachedRowEncryptor(context.scope) : undefined;
    if (sealsAny && encryptor === undefined) return this.sealCold(model, data, context, plains);
    this.encryptFields(model, data, context, plains, encryptor);
    return this.fillIndexes(model, data, plains, context.scope);
  }

  /** {@link RowSealer.seal} when the scope key must be loaded (or created) first. */
  private async sealCold(model: ModelMeta, data: Args, context: RowContext, plains: unknown[]): Promise<void> {
    this.encryptFields(model, data, context, plains, await this.crypto.rowEncryptor(context.scope));
    await this.fillIndexes(model, data, plains, context.scope);
  }

  /** Replaces each written encrypted field with its envelope (plaintext for `readonly`); disposes `encryptor`. */
  private encryptFields(
    model: ModelMeta,
    data: Args,
    context: RowContext,
    plains: unknown[],
    encryptor: RowEncryptor | undefined,
  ): void {
    const { encrypted } = this.view.writePlan(model);
    const rowId = model.bindRowId ? context.rowId : undefined;
    try {
      for (let i = 0; i < encrypted.length; i++) {
        const plain = plains[i];
        if (plain === undefined) continue;
        const meta = encrypted[i];
        if (plain === null || meta.mode === 'readonly' || encryptor === undefined) continue;
        const ctx = valueContext(model, meta, rowId);
        if (meta.type !== undefined) {
          const stored = sealTyped(encryptor, meta, plain, ctx);
          // A Bytes column's bound is the envelope's, a String[] one's each element's (`varchar(n)[]`).
          const bounded = meta.type === 'Bytes' || meta.type === 'String[]';
          const capacity = bounded ? columnCapacity(model.fields[meta.name]) : undefined;
          if (capacity !== undefined && overCapacity(stored, capacity))
            throw tooLong(model, meta.name, stored, capacity);
          const value = data[meta.name];
          data[meta.name] = meta.type !== 'Json' && isPlainObject(value) ? { set: stored } : stored;
          continue;
        }
        const stored = encryptor.encrypt(plain as string, ctx);
        const capacity = columnCapacity(model.fields[meta.name]);
        // A database cuts an over-long value (MySQL without a strict sql_mode), and a cut envelope never decrypts.
        if (capacity !== undefined && stored.length > capacity.limit) throw sealedTooLong(model, meta.name, capacity);
        this.written?.add(stored, plain as string, model.dbName, meta.dbName, rowId, encryptor.scope);
        const value = data[meta.name];
        data[meta.name] = isPlainObject(value) && 'set' in value ? { set: stored } : stored;
      }
    } finally {
      encryptor?.dispose();
    }
  }

  /**
   * Fills the blind and match indexes of the written fields (per-scope ones under the row's `scope`):
   * synchronously when every index key is cached.
   */
  private fillIndexes(model: ModelMeta, data: Args, plains: unknown[], scope: string): Promise<void> | undefined {
    const { encrypted } = this.view.writePlan(model);
    for (let i = 0; i < encrypted.length; i++) {
      const plain = plains[i];
      if (plain === undefined) continue;
      for (const { index, spec } of this.view.indexSpecs(model, encrypted[i].name)) {
        const value = plain === null ? null : this.crypto.cachedBlindIndex(spec, plain as string, scope);
        // A key to load: all indexes are (re)computed the asynchronous way (same values).
        if (value === undefined) return this.fillIndexesCold(model, data, plains, scope);
        data[index.name] = value;
      }
      for (const { index, spec } of this.view.matchSpecs(model, encrypted[i].name)) {
        const positions = plain === null ? [] : this.crypto.cachedMatchIndex(spec, plain as string);
        if (positions === undefined) return this.fillIndexesCold(model, data, plains, scope);
        data[index.name] = positions;
      }
    }
    return undefined;
  }

  private async fillIndexesCold(model: ModelMeta, data: Args, plains: unknown[], scope: string): Promise<void> {
    const { encrypted } = this.view.writePlan(model);
    for (let i = 0; i < encrypted.length; i++) {
      const plain = plains[i];
      if (plain === undefined) continue;
      for (const { index, spec } of this.view.indexSpecs(model, encrypted[i].name)) {
        data[index.name] = plain === null ? null : await this.crypto.blindIndex(spec, plain as string, scope);
      }
      for (const { index, spec } of this.view.matchSpecs(model, encrypted[i].name)) {
        data[index.name] = plain === null ? [] : await this.crypto.matchIndex(spec, plain as string);
      }
    }
  }
}

/** The plaintext of a write value: `v` or `{ set: v }`. */
export function plainOf(value: unknown): unknown {
  return isPlainObject(value) && 'set' in value ? value.set : value;
}

/**
 * The plaintext of a write to an encrypted field: as {@link plainOf}, but a `Json` value is the
 * value itself, and its `null` (JSON null to Prisma, not SQL NULL) is `Prisma.JsonNull`.
 */
export function fieldPlainOf(meta: EncryptedFieldMeta, value: unknown): unknown {
  if (meta.type !== 'Json') return plainOf(value);
  return value === null ? JsonNull : value;
}

/**
 * The refusal of a sealed value longer than its column holds: of the list element that is, for a
 * `String[]` (the caller gave a list, each element sealed and bounded alone).
 */
function tooLong(model: ModelMeta, field: string, stored: unknown, capacity: ColumnCapacity): InvalidArgumentError {
  if (!Array.isArray(stored)) return sealedTooLong(model, field, capacity);
  const index = stored.findIndex((element: { length: number }) => element.length > capacity.limit);
  return listElementTooLong(model, field, index, stored.length, capacity);
}
