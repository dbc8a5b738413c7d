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
import {
  type FieldCrypto,
  type IndexVersionsMark,
  type MatchIndexSpec,
  type MatchKind,
  settleAll,
} from '@hushfield/core';
import type { BlindIndexMeta, ModelMeta } from '../../metadata';
import {
  asList,
  isLogicalKey,
  isRootPosition,
  logicalPosition,
  MATCH_OPERATORS,
  RELATION_FILTERS,
  type WherePosition,
} from './arg-shapes';
import {
  type Args,
  blindIndexSpec,
  isPerScopeIndex,
  isPlainObject,
  pickMatchIndex,
  type SchemaView,
} from '../schema-view';
import { scopeOfWhere } from './where-scope';

/**
 * What a unique input names when no index value can match (a per-scope index whose scope has
 * no live key: never written, or shredded). Not an index value (no key version 0), so no row
 * the extension wrote holds it.
 */
const MATCHES_NOTHING = 's0.n0.';

/** A root-level equality on a truncated index: candidates must be checked after decryption. */
export interface TruncatedCondition {
  /** Prisma name of the encrypted source field. */
  readonly field: string;
  readonly index: BlindIndexMeta;
  /** Plaintext values that match (one for equality, several for `in`). */
  readonly values: readonly string[];
}

/** A root-level contains / startsWith / endsWith through a match index: candidates are re-checked after decryption. */
export interface MatchCondition {
  /** Prisma name of the encrypted source field. */
  readonly field: string;
  readonly kind: MatchKind;
  readonly query: string;
  readonly insensitive: boolean;
  readonly spec: MatchIndexSpec;
}

/** Where a where clause sits (arg-shapes.ts): `unique` inputs must stay single-valued. */
export type Position = WherePosition;

/**
 * Picks the one index value a unique input can name while several index versions are live:
 * the value stored in the row that matches any of them (a side query, only during rotation).
 */
export type UniqueResolver = (
  model: ModelMeta,
  column: string,
  candidates: readonly string[],
  /** The other parts of a compound unique input, which the row must also hold. */
  also?: Args,
) => Promise<string>;

/** Rewrites where clauses for one operation; collects truncated conditions met at the root. */
export class WhereRewriter {
  /** Root-level truncated-index conditions found while rewriting. */
  readonly truncated: TruncatedCondition[] = [];
  /**
   * Root-level full-length-index conditions: a hit is re-checked on the decrypted value too,
   * since a row's index value can be swapped in SQL for another row's.
   */
  readonly fullLength: TruncatedCondition[] = [];
  /** Root-level match-index conditions found while rewriting (the guard allows no others). */
  readonly matches: MatchCondition[] = [];
  /**
   * Whether a filter went through a shared (not per-scope) blind index: a lookup that found
   * nothing may then have missed a version added by another process since this one read them.
   */
  sharedIndex = false;
  /**
   * The scopes a filter went through a per-scope blind index in, each with the versions of its
   * key known before the index values were computed: a lookup that found nothing may have
   * missed a version another process added (`keys rotate --scope`). Unset while none.
   */
  scopedIndexes: Map<string, IndexVersionsMark> | undefined;

  constructor(
    private readonly view: SchemaView,
    private readonly crypto: FieldCrypto,
    private readonly resolveUnique: UniqueResolver,
  ) {}

  /**
   * A rewritten copy of `where` (the input is not modified).
   * @param scope - the scope an enclosing where names (per-scope indexes are computed for it)
   */
  async where(model: ModelMeta, where: unknown, position: Position, scope?: string): Promise<unknown> {
    if (!isPlainObject(where)) return where;
    const inScope = scope ?? scopeOfWhere(model, where);
    const out: Args = {};
    const extra: Args[] = [];
    for (const [key, value] of Object.entries(where)) {
      if (value === undefined) continue;
      if (isLogicalKey(key)) {
        const inner = logicalPosition(key, position);
        out[key] = Array.isArray(value)
          ? await settleAll(value.map((item) => this.where(model, item, inner, inScope)))
          : await this.where(model, value, inner, inScope);
      } else if (this.view.encrypted(model, key) !== undefined || this.view.blindIndex(model, key) !== undefined) {
        const { match, rest } = this.splitMatch(model, key, value);
        if (match !== undefined) extra.push(...(await this.match(model, key, match)));
        if (rest === undefined) continue;
        for (const condition of await this.field(model, key, rest, position, inScope)) {
          const [[column, filter]] = Object.entries(condition);
          if (column in out) extra.push(condition);
          else out[column] = filter;
        }
      } else if (this.view.relationTarget(model, key) !== undefined) {
        out[key] = await this.relation(this.view.relationTarget(model, key) as ModelMeta, value);
      } else {
        const compound = model.uniqueIndexes.find((unique) => unique.name === key);
        out[key] = compound !== undefined && isPlainObject(value) ? await this.compound(model, value, inScope) : value;
      }
    }
    if (extra.length > 0) out.AND = [...asList(out.AND), ...extra];
    return out;
  }

  /** A filter on an encrypted field, split into its match operators (with mode) and the rest. */
  private splitMatch(model: ModelMeta, key: string, filter: unknown): { match?: Args; rest?: unknown } {
    if (!isPlainObject(filter) || this.view.encrypted(model, key) === undefined) return { rest: filter };
    if (!Object.keys(filter).some((operation) => MATCH_OPERATORS.has(operation))) return { rest: filter };
    const match: Args = {};
    const rest: Args = {};
    for (const [operation, value] of Object.entries(filter)) {
      if (MATCH_OPERATORS.has(operation) || operation === 'mode') match[operation] = value;
      else rest[operation] = value;
    }
    return { match, rest: Object.keys(rest).length > 0 ? rest : undefined };
  }

  /**
   * `{ contains: 'ada' }` on a source field → conditions that the match-index column holds every
   * position of the query's n-grams (under any live index root version), recorded for re-checking.
   */
  private async match(model: ModelMeta, key: string, filter: Args): Promise<Args[]> {
    const insensitive = filter.mode === 'insensitive';
    const chosen = pickMatchIndex(this.view.matchSpecs(model, key), insensitive);
    const conditions: Args[] = [];
    if (chosen === undefined) return conditions; // the guard has refused this already
    for (const [operation, query] of Object.entries(filter)) {
      if (!MATCH_OPERATORS.has(operation) || typeof query !== 'string') continue;
      const kind = operation as MatchKind;
      const versions = (await this.crypto.matchQueryAll(chosen.spec, kind, query)) ?? [];
      this.matches.push({ field: key, kind, query, insensitive, spec: chosen.spec });
      const column = chosen.index.name;
      conditions.push(
        versions.length === 1
          ? { [column]: { hasEvery: versions[0] } }
          : { OR: versions.map((positions) => ({ [column]: { hasEvery: positions } })) },
      );
    }
    return conditions;
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
  private async compound(model: ModelMeta, value: Args, scope: string | undefined): Promise<Args> {
    const indexed = (field: string, part: unknown) =>
      typeof part === 'string' ? this.view.lookupIndex(model, field) : undefined;
    // The plain parts also narrow which row's index value a rotation resolves to.
    const plain: Args = {};
    for (const [field, part] of Object.entries(value)) if (indexed(field, part) === undefined) plain[field] = part;
    const out: Args = {};
    for (const [field, part] of Object.entries(value)) {
      const index = indexed(field, part);
      if (index === undefined) out[field] = part;
      else out[index.name] = await this.equality(model, index, part as string, 'unique', scope, plain);
    }
    return out;
  }

  /** The conditions (one object per column) replacing a filter on `key`. */
  private async field(
    model: ModelMeta,
    key: string,
    filter: unknown,
    position: Position,
    scope: string | undefined,
  ): Promise<Args[]> {
    // A Json, Bytes or String[] field has no blind index: the guard let only its null checks through.
    if (this.view.encrypted(model, key)?.type !== undefined) return [{ [key]: filter }];
    const index = this.view.lookupIndex(model, key) as BlindIndexMeta;
    const nullColumn = key;
    if (filter === null) return [{ [nullColumn]: null }];
    if (!isPlainObject(filter)) {
      this.noteTruncated(index, [filter as string], position);
      return [{ [index.name]: await this.equality(model, index, filter as string, position, scope) }];
    }
    const nullPart: Args = {};
    const indexPart: Args = {};
    for (const [operation, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      if (value === null) {
        nullPart[operation] = null;
      } else if (operation === 'equals') {
        this.noteTruncated(index, [value as string], position);
        const match = await this.equality(model, index, value as string, position, scope);
        if (isPlainObject(match)) Object.assign(indexPart, match);
        else indexPart.equals = match;
      } else if (operation === 'in' || operation === 'notIn') {
        const plain = asList(value) as string[];
        if (operation === 'in') this.noteTruncated(index, plain, position);
        indexPart[operation] = (await settleAll(plain.map((v) => this.all(model, index, v, scope)))).flat();
      } else if (operation === 'not' && typeof value === 'string') {
        const hashes = await this.all(model, index, value, scope);
        if (hashes.length === 1) indexPart.not = hashes[0];
        else indexPart.notIn = [...asList(indexPart.notIn), ...hashes];
      } else if (operation === 'not') {
        const inner = await this.field(model, key, value, 'nested', scope);
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

  /**
   * Equality on one plaintext: the index value, or `{ in: [...] }` over live versions (`{ in: [] }`,
   * matching nothing, when a per-scope index's scope has no live key).
   */
  private async equality(
    model: ModelMeta,
    index: BlindIndexMeta,
    value: string,
    position: Position,
    scope: string | undefined,
    also?: Args,
  ): Promise<unknown> {
    const hashes = await this.all(model, index, value, scope);
    if (hashes.length === 1) return hashes[0];
    const unique = position === 'unique' || position === 'uniqueRoot';
    if (unique && hashes.length === 0) return MATCHES_NOTHING;
    if (unique) return this.resolveUnique(model, index.name, hashes, also);
    return { in: hashes };
  }

  /**
   * The index values of `value` under every live key: for a per-scope index, the keys of `scope`
   * (which the guard checked is given), and while it is `migrating` the shared ones too.
   */
  private async all(
    model: ModelMeta,
    index: BlindIndexMeta,
    value: string,
    scope: string | undefined,
  ): Promise<string[]> {
    const spec = blindIndexSpec(model, index);
    if (!isPerScopeIndex(index)) {
      this.sharedIndex = true;
      return this.crypto.blindIndexAll(spec, value);
    }
    if (scope !== undefined && this.scopedIndexes?.has(scope) !== true) {
      (this.scopedIndexes ??= new Map()).set(scope, this.crypto.scopeIndexVersionsMark(scope));
    }
    const scoped = await this.crypto.blindIndexAll(spec, value, scope);
    if (index.perScope !== 'migrating') return scoped;
    this.sharedIndex = true;
    return [...scoped, ...(await this.crypto.blindIndexAll({ ...spec, perScope: false }, value))];
  }

  private noteTruncated(index: BlindIndexMeta, values: string[], position: Position): void {
    if (!isRootPosition(position)) return;
    (index.bits < 256 ? this.truncated : this.fullLength).push({ field: index.source, index, values });
  }
}
