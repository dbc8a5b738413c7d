/**
 * Decrypts results on the way out. Walks a result (one row, a list, nested relation loads at
 * any depth), collects every stored envelope with its location (model, field, row id for
 * bound models, the row's scope for scoped ones) and decrypts them all with ONE
 * `FieldCrypto.decryptMany` call: each distinct key is resolved once per result, never once
 * per row. Values that are not envelopes are
 * refused in `strict` mode and passed through as legacy plaintext in `migrating` and
 * `readonly` mode, except values in prisma-field-encryption's ciphertext format, which are
 * refused in every mode (the CLI imports them).
 *
 * A write's own result carries back the envelopes the write just sealed: those are answered
 * from {@link WrittenEnvelopes} (the plaintext the caller gave, for exactly that envelope, model,
 * field and row id, in a row of the scope it was sealed for when the read checks the row's
 * scope) instead of being decrypted again; a row whose values would be refused (no scope, no
 * bound id) is refused first.
 */
import { Buffer } from 'node:buffer';
import {
  DecryptionError,
  type DecryptItem,
  type FieldCrypto,
  type HushfieldError,
  isBinaryEnvelope,
  KeyDestroyedError,
  KeyringError,
  KeyStoreError,
} from '@hushfield/core';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { isSealedValue, itemCount, typedItems, typedPlain } from '../../typed-values';
import { bindingMayBeMissing, boundField, rowScope, unboundItems, valueContext } from '../../value-context';
import {
  decryptFailed,
  foreignCiphertext,
  noRowBinding,
  noRowScope,
  notEnvelope,
  otherScope,
  sealedUnbound,
} from '../messages';
import type { Args, SchemaView } from '../schema-view';
import type { WrittenEnvelopes } from '../write/written-envelopes';

/** What to do with a value that fails to decrypt (keyring and key-store outages always throw). */
export type OnDecryptError = 'throw' | 'null';

/** One encrypted field of one model: where a value sits. Built once per model plan. */
interface ReadPlace {
  readonly model: ModelMeta;
  readonly field: EncryptedFieldMeta;
}

interface ModelPlan {
  readonly model: ModelMeta;
  readonly places: readonly ReadPlace[];
  readonly boundId?: string;
  /** The scope field a row's values are checked against (see `SchemaView.checkedScopeField`). */
  readonly scopeField?: string;
  readonly relations: readonly [string, ModelPlan][];
}

/** A `Json`, `Bytes` or `String[]` value of a result: its items are `items[first, first + count)`. */
interface TypedValue {
  readonly row: Args;
  readonly place: ReadPlace;
  readonly rowId: string | undefined;
  readonly scope: string | undefined;
  readonly first: number;
  readonly count: number;
}

/**
 * The values of one result to decrypt, as parallel arrays (no object per value beyond the
 * item core needs): value `i` sits in `rows[i]` at `places[i]`; its row id is in its item.
 * Items of typed values (`Json`, `Bytes`, `String[]`) have no row (`undefined`): they are put
 * together from {@link Batch.typed} once decrypted.
 */
class Batch {
  readonly rows: (Args | undefined)[] = [];
  readonly typed: TypedValue[] = [];
  readonly places: ReadPlace[] = [];
  readonly items: DecryptItem[] = [];
  readonly failures: [Args, ReadPlace, string | undefined, HushfieldError][] = [];

  constructor(readonly written: WrittenEnvelopes | undefined) {}
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
   * @param written - envelopes the current write produced, answered without decrypting
   * @param removed - `result` is what a delete removed: a value that fails to decrypt, for
   *   whatever reason (a shredded scope, damage, a keyring outage), reads as `null` whatever
   *   `onDecryptError` says, since the write has happened and must not be reported as failed
   * @param destroyed - when given, a row holding a value whose scope key was destroyed is added
   *   to it (the value is left as stored) instead of throwing: lookup candidates of a shredded
   *   scope cannot be matches, and must not fail another scope's lookup
   * @throws DecryptionError / KeyDestroyedError (typed, naming model, field and row) unless `onDecryptError: 'null'`
   */
  async decrypt(
    model: ModelMeta,
    result: unknown,
    written?: WrittenEnvelopes,
    removed = false,
    destroyed?: Set<Args>,
  ): Promise<void> {
    return this.run(model, result, written, removed, destroyed, this.onError);
  }

  /**
   * Like {@link ResultDecryptor.decrypt}, but a value that fails to decrypt always throws,
   * whatever `onDecryptError` says: for values the extension itself writes back (a row moved
   * to another scope is re-encrypted whole), where reading `null` would overwrite the stored
   * value with it.
   */
  decryptOrThrow(model: ModelMeta, result: unknown): Promise<void> {
    return this.run(model, result, undefined, false, undefined, 'throw');
  }

  private async run(
    model: ModelMeta,
    result: unknown,
    written: WrittenEnvelopes | undefined,
    removed: boolean,
    destroyed: Set<Args> | undefined,
    onError: OnDecryptError,
  ): Promise<void> {
    const batch = new Batch(written !== undefined && written.size > 0 ? written : undefined);
    this.collect(this.planFor(model), result, batch);
    const { rows, places, items, failures } = batch;
    if (items.length > 0) {
      const plain = await this.crypto.decryptMany(items);
      if (this.view.bindingsMayBeMissing) await this.openUnbound(items, places, plain);
      for (let i = 0; i < items.length; i++) {
        const row = rows[i];
        if (row === undefined) continue;
        const value = plain[i];
        if (typeof value === 'string') row[places[i].field.name] = value;
        else failures.push([row, places[i], items[i].ctx.rowId, value as HushfieldError]);
      }
      for (const typed of batch.typed) this.assemble(typed, plain, failures);
    }
    for (const [row, place, rowId, error] of failures) {
      if (destroyed !== undefined && error instanceof KeyDestroyedError) destroyed.add(row);
      else if (removed || (onError === 'null' && !isTransient(error))) row[place.field.name] = null;
      else throw located(place, rowId, error);
    }
  }

  /**
   * Opens again, without the binding, the items of a model whose values may have been sealed
   * without it (`bindingMayBeMissing`: sealed before its `@encryption(bind: ...)` was added, or
   * before hushfield bound its foreign-key id) that failed to open bound. For a model listed in
   * `migratingBindings` what opens goes into `plain`; for any other, what opens is discarded and
   * its failure says how to move it (`sealedUnbound`), where a value copied from another row fails
   * both ways and keeps its own. A value refused for its scope stays refused.
   */
  private async openUnbound(
    items: readonly DecryptItem[],
    places: readonly ReadPlace[],
    plain: (string | Buffer | HushfieldError)[],
  ): Promise<void> {
    const at: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const failed = plain[i];
      if (!(failed instanceof DecryptionError) || failed.otherScope !== undefined) continue;
      if (items[i].ctx.rowId === undefined || !bindingMayBeMissing(places[i].model)) continue;
      at.push(i);
    }
    if (at.length === 0) return;
    const opened = await this.crypto.decryptMany(unboundItems(at.map((i) => items[i])));
    for (let j = 0; j < at.length; j++) {
      const value = opened[j];
      if (typeof value !== 'string' && !Buffer.isBuffer(value)) continue;
      const { model, field } = places[at[j]];
      if (this.view.migratingBinding(model)) {
        plain[at[j]] = value;
      } else {
        if (Buffer.isBuffer(value)) value.fill(0);
        plain[at[j]] = sealedUnbound(model.name, field.name, items[at[j]].ctx.rowId);
      }
    }
  }

  /** Puts a typed value back together from its decrypted items, or records why it cannot be. */
  private assemble(
    { row, place, rowId, first, count }: TypedValue,
    plain: readonly (string | Buffer | HushfieldError)[],
    failures: Batch['failures'],
  ): void {
    const opened = plain.slice(first, first + count);
    const error = opened.find((value) => typeof value !== 'string' && !Buffer.isBuffer(value));
    if (error !== undefined) return void failures.push([row, place, rowId, error as HushfieldError]);
    try {
      row[place.field.name] = typedPlain(place.field, opened as (string | Buffer)[]);
    } catch (cause) {
      failures.push([row, place, rowId, decryptFailed(place.model.name, place.field.name, rowId, cause)]);
    }
  }

  /**
   * Collects a `Json`, `Bytes` or `String[]` value: its items, or a failure when strict and not sealed.
   * @param refused - why the row's sealed values cannot be opened (see {@link Refusal}), if they cannot
   */
  private collectTyped(
    row: Args,
    place: ReadPlace,
    rowId: string | undefined,
    scope: string | undefined,
    refused: Refusal | undefined,
    value: unknown,
    batch: Batch,
  ): void {
    const { model, field } = place;
    if (!isSealedValue(field, value, (text) => this.crypto.isEnvelope(text), isBinaryEnvelope)) {
      // Legacy plaintext passes in migrating and readonly mode; a list half sealed never does.
      const mixed =
        Array.isArray(value) && value.some((item) => typeof item === 'string' && this.crypto.isEnvelope(item));
      if (field.mode === 'strict' || mixed)
        batch.failures.push([row, place, rowId, notEnvelope(model.name, field.name, rowId)]);
      else if (typeof value === 'string' && isCloakCiphertext(value))
        batch.failures.push([row, place, rowId, foreignCiphertext(model.name, field.name, rowId)]);
      return;
    }
    const count = itemCount(field, value);
    if (count === 0) return;
    if (refused !== undefined) {
      batch.failures.push([row, place, rowId, refusal(refused, model.name, field.name, rowId)]);
      return;
    }
    batch.typed.push({ row, place, rowId, scope, first: batch.items.length, count });
    for (const item of typedItems(field, value, valueContext(model, field, rowId, scope))) {
      batch.rows.push(undefined);
      batch.places.push(place);
      batch.items.push(item);
    }
  }

  private collect(plan: ModelPlan, node: unknown, batch: Batch): void {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const row: unknown = node[i];
        if (row !== null && typeof row === 'object') this.collectRow(plan, row as Args, batch);
      }
    } else if (node !== null && typeof node === 'object') {
      this.collectRow(plan, node as Args, batch);
    }
  }

  private collectRow(plan: ModelPlan, row: Args, batch: Batch): void {
    const { places, boundId, scopeField } = plan;
    const rowId = boundId !== undefined && row[boundId] != null ? String(row[boundId]) : undefined;
    const scope = scopeField === undefined ? undefined : rowScope(plan.model, row);
    // A row whose sealed values cannot be opened as its model's policy says: they fail closed.
    const refused =
      boundId !== undefined && rowId === undefined
        ? { binding: boundId }
        : scopeField !== undefined && scope === undefined
          ? { scope: scopeField }
          : undefined;
    for (let f = 0; f < places.length; f++) {
      const place = places[f];
      const { model, field } = place;
      const value = row[field.name];
      if (field.type !== undefined) {
        if (value !== null && value !== undefined) {
          this.collectTyped(row, place, rowId, scope, refused, value, batch);
        }
        continue;
      }
      if (typeof value !== 'string') continue;
      if (!this.crypto.isEnvelope(value)) {
        if (field.mode === 'strict')
          batch.failures.push([row, place, rowId, notEnvelope(model.name, field.name, rowId)]);
        else if (isCloakCiphertext(value))
          batch.failures.push([row, place, rowId, foreignCiphertext(model.name, field.name, rowId)]);
        continue;
      }
      if (refused !== undefined) {
        batch.failures.push([row, place, rowId, refusal(refused, model.name, field.name, rowId)]);
        continue;
      }
      const known = batch.written?.plaintextOf(value, model.dbName, field.dbName, rowId, scope);
      if (known !== undefined) {
        row[field.name] = known;
        continue;
      }
      batch.rows.push(row);
      batch.places.push(place);
      batch.items.push({ value, ctx: valueContext(model, field, rowId, scope) });
    }
    const { relations } = plan;
    for (let r = 0; r < relations.length; r++) {
      const value = row[relations[r][0]];
      if (value != null) this.collect(relations[r][1], value, batch);
    }
  }

  /** Per model, once: its encrypted fields, bound id and scope fields, and relations that can hold ciphertext. */
  private planFor(model: ModelMeta): ModelPlan {
    const known = this.plans.get(model.name);
    if (known !== undefined) return known;
    const relations: [string, ModelPlan][] = [];
    const plan: ModelPlan = {
      model,
      places: Object.values(model.encrypted).map((field) => ({ model, field })),
      boundId: boundField(model),
      scopeField: this.view.checkedScopeField(model),
      relations,
    };
    // Registered before its relations are planned, so a relation cycle ends here.
    this.plans.set(model.name, plan);
    for (const name of Object.keys(model.fields)) {
      const target = this.view.relationTarget(model, name);
      if (target !== undefined && this.view.isSensitive(target)) relations.push([name, this.planFor(target)]);
    }
    return plan;
  }
}

/**
 * Why a row's sealed values cannot be opened: a bound model's row without its bound value
 * (never opened unbound), or a checked model's row without a valid scope (never unchecked).
 */
type Refusal = { readonly binding: string } | { readonly scope: string };

/** The failure of a sealed value of a row its {@link Refusal} names. */
function refusal(refused: Refusal, model: string, field: string, rowId: string | undefined): DecryptionError {
  return 'binding' in refused
    ? noRowBinding(model, field, refused.binding)
    : noRowScope(model, field, rowId, refused.scope);
}

/** core's per-item error, re-thrown with the Prisma model and field names and the row id. */
function located({ model, field }: ReadPlace, rowId: string | undefined, error: HushfieldError): HushfieldError {
  if (error instanceof KeyDestroyedError) {
    return new KeyDestroyedError(
      error.message,
      { keyId: error.keyId, scope: error.scope, version: error.version },
      { model: model.name, field: field.name, rowId },
    );
  }
  if (error instanceof KeyStoreError) {
    const key = { keyId: error.keyId, version: error.version };
    return new KeyStoreError(
      error.message,
      key,
      { model: model.name, field: field.name, rowId },
      { cause: error.cause },
    );
  }
  if (error instanceof DecryptionError && error.otherScope !== undefined) {
    return otherScope(model.name, field.name, rowId, error.otherScope, error);
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
 * damaged cloak value is refused too rather than returned as plaintext; `hushfield reencrypt`
 * uses the same test.
 */
export function isCloakCiphertext(value: string): boolean {
  return value.startsWith(CLOAK_PREFIX);
}

/** A keyring or key-store outage: says nothing about the value, so it is never read as `null`. */
function isTransient(error: unknown): boolean {
  return error instanceof KeyringError || error instanceof KeyStoreError;
}
