/**
 * Rewrites filters on encrypted fields into filters on their blind-index columns, at any
 * depth (AND/OR/NOT, relation filters, compound unique inputs, cursors, connects). Runs
 * after {@link guardQuery}, so every filter it meets is an equality, `in`, `notIn`, `not` or a
 * null check. The value given for a blind-index column in a where is the source field's
 * plaintext (the form Prisma's unique-input types require), never a raw index value.
 *
 * During an index-key rotation every live index version is matched (`in` over all of them);
 * a unique input can name only one value, so it names the one stored in the matching row.
 */
import type { FieldCrypto } from '@hushfield/core';
import type { BlindIndexMeta, ModelMeta } from '../../metadata';
import {
  asList,
  isLogicalKey,
  isRootPosition,
  logicalPosition,
  RELATION_FILTERS,
  type WherePosition,
} from './arg-shapes';
import { type Args, blindIndexSpec, isPlainObject, type SchemaView } from '../schema-view';

/** A root-level equality on a truncated index: candidates must be checked after decryption. */
export interface TruncatedCondition {
  /** Prisma name of the encrypted source field. */
  readonly field: string;
  readonly index: BlindIndexMeta;
  /** Plaintext values that match (one for equality, several for `in`). */
  readonly values: readonly string[];
}

/** Where a where clause sits (arg-shapes.ts): `unique` inputs must stay single-valued. */
export type Position = WherePosition;

/**
 * Picks the one index value a unique input can name while several index versions are live:
 * the value stored in the row that matches any of them (a side query, only during rotation).
 */
export type UniqueResolver = (model: ModelMeta, column: string, candidates: readonly string[]) => Promise<string>;

/** Rewrites where clauses for one operation; collects truncated conditions met at the root. */
export class WhereRewriter {
  /** Root-level truncated-index conditions found while rewriting. */
  readonly truncated: TruncatedCondition[] = [];
  /**
   * Root-level full-length-index conditions: a hit is re-checked on the decrypted value too,
   * since a row's index value can be swapped in SQL for another row's.
   */
  readonly fullLength: TruncatedCondition[] = [];

  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly resolveUnique: UniqueResolver,
  ) {}

  /** A rewritten copy of `where` (the input is not modified). */
  async where(model: ModelMeta, where: unknown, position: Position): Promise<unknown> {
    if (!isPlainObject(where)) return where;
    const out: Args = {};
    const extra: Args[] = [];
    for (const [key, value] of Object.entries(where)) {
      if (value === undefined) continue;
      if (isLogicalKey(key)) {
        const inner = logicalPosition(key, position);
        out[key] = Array.isArray(value)
          ? await Promise.all(value.map((item) => this.where(model, item, inner)))
          : await this.where(model, value, inner);
      } else if (this.view.encrypted(model, key) !== undefined || this.view.blindIndex(model, key) !== undefined) {
        for (const condition of await this.field(model, key, value, position)) {
          const [[column, filter]] = Object.entries(condition);
          if (column in out) extra.push(condition);
          else out[column] = filter;
        }
      } else if (this.view.relationTarget(model, key) !== undefined) {
        out[key] = await this.relation(this.view.relationTarget(model, key) as ModelMeta, value);
      } else {
        const compound = model.uniqueIndexes.find((unique) => unique.name === key);
        out[key] = compound !== undefined && isPlainObject(value) ? await this.compound(model, value) : value;
      }
    }
    if (extra.length > 0) out.AND = [...asList(out.AND), ...extra];
    return out;
  }

  private async relation(target: ModelMeta, value: unknown): Promise<unknown> {
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    if (!keys.some((key) => RELATION_FILTERS.has(key))) return this.where(target, value, 'nested');
    // Wrappers (`is`, `some`...) are rewritten as wheres of the target; any direct filter mixed
    // in (invalid for Prisma) is rewritten too, so Prisma's error cannot echo its plaintext.
    const direct: Args = {};
    const out: Args = {};
    for (const [key, inner] of Object.entries(value)) {
      if (RELATION_FILTERS.has(key)) out[key] = await this.where(target, inner, 'nested');
      else direct[key] = inner;
    }
    return Object.keys(direct).length === 0
      ? out
      : { ...((await this.where(target, direct, 'nested')) as Args), ...out };
  }

  /**
   * `{ provider, externalId }` or `{ provider, externalIdIdx: <plaintext> }` →
   * `{ provider, externalIdIdx: <index> }`.
   */
  private async compound(model: ModelMeta, value: Args): Promise<Args> {
    const out: Args = {};
    for (const [field, part] of Object.entries(value)) {
      const index = this.indexFor(model, field);
      if (index === undefined || typeof part !== 'string') out[field] = part;
      else out[index.name] = await this.equality(model, index, part, 'unique');
    }
    return out;
  }

  /** The conditions (one object per column) replacing a filter on `key`. */
  private async field(model: ModelMeta, key: string, filter: unknown, position: Position): Promise<Args[]> {
    // A Json, Bytes or String[] field has no blind index: the guard let only its null checks through.
    if (this.view.encrypted(model, key)?.type !== undefined) return [{ [key]: filter }];
    const index = this.indexFor(model, key) as BlindIndexMeta;
    const nullColumn = key;
    if (filter === null) return [{ [nullColumn]: null }];
    if (!isPlainObject(filter)) {
      this.noteTruncated(index, [filter as string], position);
      return [{ [index.name]: await this.equality(model, index, filter as string, position) }];
    }
    const nullPart: Args = {};
    const indexPart: Args = {};
    for (const [operation, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      if (value === null) {
        nullPart[operation] = null;
      } else if (operation === 'equals') {
        this.noteTruncated(index, [value as string], position);
        const match = await this.equality(model, index, value as string, position);
        if (isPlainObject(match)) Object.assign(indexPart, match);
        else indexPart.equals = match;
      } else if (operation === 'in' || operation === 'notIn') {
        const plain = asList(value) as string[];
        if (operation === 'in') this.noteTruncated(index, plain, position);
        indexPart[operation] = (await Promise.all(plain.map((v) => this.all(model, index, v)))).flat();
      } else if (operation === 'not' && typeof value === 'string') {
        const hashes = await this.all(model, index, value);
        if (hashes.length === 1) indexPart.not = hashes[0];
        else indexPart.notIn = [...asList(indexPart.notIn), ...hashes];
      } else if (operation === 'not') {
        const inner = await this.field(model, key, value, 'nested');
        for (const condition of inner) {
          const [[column, part]] = Object.entries(condition);
          if (column === index.name) indexPart.not = part;
          else nullPart.not = part;
        }
      }
    }
    const conditions: Args[] = [];
    if (Object.keys(nullPart).length > 0) conditions.push({ [nullColumn]: nullPart });
    if (Object.keys(indexPart).length > 0) conditions.push({ [index.name]: indexPart });
    return conditions;
  }

  /** Equality on one plaintext: the index value, or `{ in: [...] }` over live versions. */
  private async equality(model: ModelMeta, index: BlindIndexMeta, value: string, position: Position): Promise<unknown> {
    const hashes = await this.all(model, index, value);
    if (hashes.length === 1) return hashes[0];
    if (position === 'unique' || position === 'uniqueRoot') return this.resolveUnique(model, index.name, hashes);
    return { in: hashes };
  }

  private all(model: ModelMeta, index: BlindIndexMeta, value: string): Promise<string[]> {
    return this.crypto.blindIndexAll(blindIndexSpec(model, index), value);
  }

  private noteTruncated(index: BlindIndexMeta, values: string[], position: Position): void {
    if (!isRootPosition(position)) return;
    (index.bits < 256 ? this.truncated : this.fullLength).push({ field: index.source, index, values });
  }

  /** The blind index a filter on `key` (source field or index column) goes through; full length preferred. */
  private indexFor(model: ModelMeta, key: string): BlindIndexMeta | undefined {
    const direct = this.view.blindIndex(model, key);
    if (direct !== undefined) return direct;
    const indexes = this.view.indexesOf(model, key);
    return indexes.find((index) => index.bits === 256) ?? indexes[0];
  }
}
