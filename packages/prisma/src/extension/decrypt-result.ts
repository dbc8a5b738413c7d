/**
 * Decrypts results on the way out. Walks a result (one row, a list, nested relation loads at
 * any depth), collects every stored envelope with its location (model, field, row id for
 * bound models) and decrypts them all with ONE `FieldCrypto.decryptMany` call: each distinct
 * key is resolved once per result, never once per row. Values that are not envelopes are
 * refused in `strict` mode and passed through as legacy plaintext in `migrating` and
 * `readonly` mode, except values in prisma-field-encryption's ciphertext format, which are
 * refused in every mode (the CLI imports them).
 */
import {
  DecryptionError,
  type FieldContext,
  type FieldCrypto,
  type FieldsealError,
  KeyDestroyedError,
  KeyringError,
} from '@fieldseal/core';
import type { EncryptedFieldMeta, ModelMeta } from '../metadata';
import { decryptFailed, foreignCiphertext, notEnvelope } from './messages';
import type { Args, SchemaView } from './schema-view';

/** What to do with a value that fails to decrypt (keyring outages always throw). */
export type OnDecryptError = 'throw' | 'null';

interface Slot {
  readonly row: Args;
  readonly model: ModelMeta;
  readonly field: EncryptedFieldMeta;
  readonly rowId?: string;
}

interface ModelPlan {
  readonly encrypted: readonly EncryptedFieldMeta[];
  readonly boundId?: string;
  readonly relations: readonly [string, ModelMeta][];
}

/** Decrypts results in place. */
export class ResultDecryptor {
  private readonly plans = new Map<string, ModelPlan>();

  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly onError: OnDecryptError,
  ) {}

  /**
   * Replaces every envelope in `result` (rows of `model`) by its plaintext.
   * @throws DecryptionError / KeyDestroyedError (typed, naming model, field and row) unless `onDecryptError: 'null'`
   */
  async decrypt(model: ModelMeta, result: unknown): Promise<void> {
    const slots: Slot[] = [];
    const items: { value: string; ctx: FieldContext }[] = [];
    const failures: [Slot, FieldsealError][] = [];
    this.collect(model, result, slots, items, failures);
    if (items.length > 0) {
      const plain = await this.crypto.decryptMany(items);
      for (let i = 0; i < slots.length; i++) {
        const value = plain[i];
        if (typeof value === 'string') slots[i].row[slots[i].field.name] = value;
        else failures.push([slots[i], value]);
      }
    }
    for (const [slot, error] of failures) {
      if (this.onError === 'null' && !(error instanceof KeyringError)) slot.row[slot.field.name] = null;
      else throw located(slot, error);
    }
  }

  private collect(
    model: ModelMeta,
    node: unknown,
    slots: Slot[],
    items: { value: string; ctx: FieldContext }[],
    failures: [Slot, FieldsealError][],
  ): void {
    if (Array.isArray(node)) {
      for (const row of node) this.collect(model, row, slots, items, failures);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const row = node as Args;
    const plan = this.planFor(model);
    const rowId = plan.boundId !== undefined && row[plan.boundId] != null ? String(row[plan.boundId]) : undefined;
    for (const field of plan.encrypted) {
      const value = row[field.name];
      if (typeof value !== 'string') continue;
      const slot: Slot = { row, model, field, rowId };
      if (!this.crypto.isEnvelope(value)) {
        if (field.mode === 'strict') failures.push([slot, notEnvelope(model.name, field.name, rowId)]);
        else if (isCloakCiphertext(value)) failures.push([slot, foreignCiphertext(model.name, field.name, rowId)]);
        continue;
      }
      slots.push(slot);
      items.push({ value, ctx: { model: model.dbName, field: field.dbName, rowId } });
    }
    for (const [relation, target] of plan.relations) {
      const value = row[relation];
      if (value != null) this.collect(target, value, slots, items, failures);
    }
  }

  /** Per model, once: its encrypted fields, bound id field and relations that can hold ciphertext. */
  private planFor(model: ModelMeta): ModelPlan {
    let plan = this.plans.get(model.name);
    if (plan === undefined) {
      const relations: [string, ModelMeta][] = [];
      for (const name of Object.keys(model.fields)) {
        const target = this.view.relationTarget(model, name);
        if (target !== undefined && this.view.isSensitive(target)) relations.push([name, target]);
      }
      plan = {
        encrypted: Object.values(model.encrypted),
        boundId: model.bindRowId ? this.view.idField(model) : undefined,
        relations,
      };
      this.plans.set(model.name, plan);
    }
    return plan;
  }
}

/** core's per-item error, re-thrown with the Prisma model and field names and the row id. */
function located(slot: Slot, error: FieldsealError): FieldsealError {
  const { model, field, rowId } = slot;
  if (error instanceof KeyDestroyedError) {
    return new KeyDestroyedError(
      error.message,
      { keyId: error.keyId, scope: error.scope, version: error.version },
      { model: model.name, field: field.name, rowId },
    );
  }
  if (error instanceof KeyringError || (error instanceof DecryptionError && error.model === model.name)) {
    return error;
  }
  return decryptFailed(model.name, field.name, rowId, error);
}

const CLOAK_PREFIX = 'v1.aesgcm256.';

/**
 * Whether a value claims to be an `@47ng/cloak` ciphertext (what prisma-field-encryption
 * stores: `v1.aesgcm256.<fingerprint>.<iv>.<ciphertext>`). The prefix alone decides, so a
 * damaged cloak value is refused too rather than returned as plaintext; `fieldseal reencrypt`
 * uses the same test.
 */
export function isCloakCiphertext(value: string): boolean {
  return value.startsWith(CLOAK_PREFIX);
}
