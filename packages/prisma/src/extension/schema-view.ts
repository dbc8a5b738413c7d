/**
 * Read-only lookups over the generator's {@link HushfieldSchema}, shared by every step of
 * the extension: which model a relation leads to, whether a model needs the extension at
 * all, and the blind-index spec handed to `FieldCrypto` (database names, so that a Prisma
 * rename does not orphan stored index values).
 */
import type { BlindIndexSpec, MatchIndexSpec } from '@hushfield/core';
import type {
  BlindIndexMeta,
  EncryptedFieldMeta,
  FieldMeta,
  HushfieldSchema,
  MatchIndexMeta,
  ModelMeta,
} from '../metadata';
import { bindingMayBeMissing, boundField, delegateName } from '../value-context';

/** Plain JSON-like object as Prisma passes arguments. */
export type Args = Record<string, unknown>;

/** Whether `value` is a plain object (not null, not an array, not a Date/Decimal/Buffer). */
export function isPlainObject(value: unknown): value is Args {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A match-index column and the spec `FieldCrypto.matchIndex` takes for it. */
export interface MatchSpec {
  readonly index: MatchIndexMeta;
  readonly spec: MatchIndexSpec;
}

/** A blind-index column and the spec `FieldCrypto.blindIndex` takes for it. */
export interface IndexSpec {
  readonly index: BlindIndexMeta;
  readonly spec: BlindIndexSpec;
}

/** What a write walks per row of a model, computed once per model. */
export interface WritePlan {
  readonly encrypted: readonly EncryptedFieldMeta[];
  /** Relation fields whose target can hold encrypted values (nested writes to rewrite). */
  readonly relations: readonly { readonly name: string; readonly target: ModelMeta; readonly list: boolean }[];
}

/** A client-level `omit`: per model (lowercase first letter, as Prisma keys it), the fields left out. */
export type ClientOmit = Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;

/** Lookups over one schema; built once per extension. */
export class SchemaView {
  private readonly sensitive = new Map<string, boolean>();
  private readonly specs = new Map<string, readonly IndexSpec[]>();
  private readonly matchSpecCache = new Map<string, readonly MatchSpec[]>();
  private readonly writePlans = new Map<string, WritePlan>();
  private readonly keySources = new Map<string, readonly { relation: string; target: ModelMeta; toField: string }[]>();
  private scopeCarriers: Map<string, { child: ModelMeta; relation: string }> | undefined;
  private bindingCarriers: Map<string, { child: ModelMeta; field: string }> | undefined;
  private readonly scopeRelationCache = new Map<string, readonly string[]>();
  private readonly bindingRelationCache = new Map<string, readonly string[]>();

  private readonly migratingScopes: ReadonlySet<string>;
  private readonly migratingBindings: ReadonlySet<string>;
  private readonly clientOmit: ClientOmit;
  /**
   * Whether a model of the schema is bound to a field whose values may have been sealed without
   * it (see `bindingMayBeMissing`): a read that fails to open one of them bound asks why.
   */
  readonly bindingsMayBeMissing: boolean;

  /**
   * @param options.migratingScopes - scoped models whose values may still be sealed under
   *   another scope's key (see `FieldEncryptionOptions.migratingScopes`)
   * @param options.migratingBindings - bound models whose values may still be sealed without
   *   the binding (see `FieldEncryptionOptions.migratingBindings`)
   * @param options.clientOmit - the client's own `omit` (`new PrismaClient({ omit })`)
   */
  constructor(
    readonly schema: HushfieldSchema,
    options: {
      readonly migratingScopes?: readonly string[];
      readonly migratingBindings?: readonly string[];
      readonly clientOmit?: ClientOmit;
    } = {},
  ) {
    this.migratingScopes = new Set(options.migratingScopes);
    this.migratingBindings = new Set(options.migratingBindings);
    this.clientOmit = options.clientOmit ?? {};
    this.bindingsMayBeMissing = Object.values(schema.models).some(bindingMayBeMissing);
  }

  /**
   * Whether the client leaves `field` of `model` out of every result unless a query asks for
   * it (a client-level `omit`, keyed like Prisma's by the model's name with a lowercase first letter).
   */
  omittedByClient(model: ModelMeta, field: string): boolean {
    const key = model.name.charAt(0).toLowerCase() + model.name.slice(1);
    const fields = Object.hasOwn(this.clientOmit, key) ? this.clientOmit[key] : undefined;
    return isPlainObject(fields) && Object.hasOwn(fields, field) && fields[field] === true;
  }

  /**
   * The scope field whose value a read of `model` checks its values' scope key against, or
   * `undefined` (an unscoped model, whose values all belong to `default`, or one listed in
   * `migratingScopes`).
   */
  checkedScopeField(model: ModelMeta): string | undefined {
    return this.migratingScopes.has(model.name) ? undefined : model.scopeField;
  }

  /** Whether a value of `model` that fails to open bound may be opened without the binding (`migratingBindings`). */
  migratingBinding(model: ModelMeta): boolean {
    return this.migratingBindings.has(model.name);
  }

  /** Whether any model is listed in `migratingBindings`. */
  get migratesBindings(): boolean {
    return this.migratingBindings.size > 0;
  }

  /** The model, or `undefined` for a model the schema does not describe. */
  model(name: string | undefined): ModelMeta | undefined {
    return name === undefined ? undefined : this.schema.models[name];
  }

  /**
   * The model whose scope column is a foreign key to `model`.`field` (through `relation`) whose
   * update rewrites it (see {@link rewritesOnUpdate}), if any: updating that field makes the
   * database change the scope of rows whose values are sealed under the old one. With `Restrict`
   * or `NoAction` the database refuses the update while such a row exists.
   */
  scopeCarriedBy(model: ModelMeta, field: string): { child: ModelMeta; relation: string } | undefined {
    if (this.scopeCarriers === undefined) {
      const carriers = new Map<string, { child: ModelMeta; relation: string }>();
      for (const child of Object.values(this.schema.models)) {
        const scope = child.scopeField;
        if (scope === undefined || Object.keys(child.encrypted).length === 0) continue;
        for (const meta of Object.values(child.fields)) {
          if (meta.kind !== 'object' || !rewritesOnUpdate(meta)) continue;
          const at = meta.relationFromFields?.indexOf(scope) ?? -1;
          const referenced = at < 0 ? undefined : meta.relationToFields?.[at];
          if (referenced === undefined) continue;
          carriers.set(`${meta.relationModel ?? meta.type}\u0000${referenced}`, { child, relation: meta.name });
        }
      }
      this.scopeCarriers = carriers;
    }
    return this.scopeCarriers.get(`${model.name}\u0000${field}`);
  }

  /**
   * The model whose bound field (its id: a profile whose id is its user's) is a foreign key to
   * `model`.`field` through a relation whose update rewrites it (see {@link rewritesOnUpdate}),
   * if any: updating that field makes the database change the bound value of rows whose values
   * are sealed bound to the old one. With `Restrict` or `NoAction` the database refuses the
   * update while such a row exists.
   */
  bindingCarriedBy(model: ModelMeta, field: string): { child: ModelMeta; field: string } | undefined {
    if (this.bindingCarriers === undefined) {
      const carriers = new Map<string, { child: ModelMeta; field: string }>();
      for (const child of Object.values(this.schema.models)) {
        const bound = boundField(child);
        if (bound === undefined || Object.keys(child.encrypted).length === 0) continue;
        for (const meta of Object.values(child.fields)) {
          if (meta.kind !== 'object' || !rewritesOnUpdate(meta)) continue;
          const at = meta.relationFromFields?.indexOf(bound) ?? -1;
          const referenced = at < 0 ? undefined : meta.relationToFields?.[at];
          if (referenced === undefined) continue;
          carriers.set(`${meta.relationModel ?? meta.type}\u0000${referenced}`, { child, field: bound });
        }
      }
      this.bindingCarriers = carriers;
    }
    return this.bindingCarriers.get(`${model.name}\u0000${field}`);
  }

  /**
   * The relation fields of `model` whose foreign key holds its bound field (a profile's `user`,
   * when its id is its user's): writing one in an update, other than a nested update of the
   * related row, sets the bound value without the extension seeing it. Empty for a model with
   * nothing encrypted.
   */
  bindingRelations(model: ModelMeta): readonly string[] {
    // Asked on every update, and for every relation a write names: worked out once per model.
    const known = this.bindingRelationCache.get(model.name);
    if (known !== undefined) return known;
    const bound = boundField(model);
    const list =
      bound === undefined || Object.keys(model.encrypted).length === 0
        ? []
        : Object.values(model.fields)
            .filter((meta) => meta.kind === 'object' && meta.relationFromFields?.includes(bound))
            .map((meta) => meta.name);
    this.bindingRelationCache.set(model.name, list);
    return list;
  }

  /**
   * The relation fields of `model` through which its scope changes: the one its scope is taken
   * from, and every other whose foreign key holds the scope field.
   */
  scopeRelations(model: ModelMeta): readonly string[] {
    const known = this.scopeRelationCache.get(model.name);
    if (known !== undefined) return known;
    const scope = model.scopeField;
    const relations = new Set<string>(model.scopeRelation === undefined ? [] : [model.scopeRelation]);
    for (const meta of Object.values(model.fields)) {
      if (scope !== undefined && meta.kind === 'object' && meta.relationFromFields?.includes(scope))
        relations.add(meta.name);
    }
    const list = scope === undefined ? [] : [...relations];
    this.scopeRelationCache.set(model.name, list);
    return list;
  }

  /** The model a relation field leads to, or `undefined` when `field` is not a relation. */
  relationTarget(model: ModelMeta, field: string): ModelMeta | undefined {
    const meta = model.fields[field];
    if (meta === undefined || meta.kind !== 'object') return undefined;
    return this.schema.models[meta.relationModel ?? meta.type];
  }

  /** Whether the relation field is a list (to-many). */
  isListRelation(model: ModelMeta, field: string): boolean {
    return model.fields[field]?.isList === true;
  }

  /** The encrypted field `name` of `model`, if any. */
  encrypted(model: ModelMeta, name: string): EncryptedFieldMeta | undefined {
    return Object.prototype.hasOwnProperty.call(model.encrypted, name) ? model.encrypted[name] : undefined;
  }

  /** The blind-index column `name` of `model`, if any. */
  blindIndex(model: ModelMeta, name: string): BlindIndexMeta | undefined {
    return Object.prototype.hasOwnProperty.call(model.blindIndexes, name) ? model.blindIndexes[name] : undefined;
  }

  /** The blind indexes whose source is the encrypted field `source`. */
  indexesOf(model: ModelMeta, source: string): BlindIndexMeta[] {
    return Object.values(model.blindIndexes).filter((index) => index.source === source);
  }

  /** The match-index column `name` of `model`, if any. */
  matchIndex(model: ModelMeta, name: string): MatchIndexMeta | undefined {
    const indexes = model.matchIndexes;
    return indexes !== undefined && Object.prototype.hasOwnProperty.call(indexes, name) ? indexes[name] : undefined;
  }

  /** The match indexes whose source is the encrypted field `source`, each with its spec. Cached. */
  matchSpecs(model: ModelMeta, source: string): readonly MatchSpec[] {
    if (model.matchIndexes === undefined) return [];
    const key = `${model.name}\u0000${source}`;
    let specs = this.matchSpecCache.get(key);
    if (specs === undefined) {
      specs = Object.values(model.matchIndexes)
        .filter((index) => index.source === source)
        .map((index) => ({ index, spec: matchIndexSpec(model, index) }));
      this.matchSpecCache.set(key, specs);
    }
    return specs;
  }

  /**
   * The blind index a filter on `key` (a source field or an index column) goes through: the
   * column itself, else the source's full-length index if it has one, else its first.
   */
  lookupIndex(model: ModelMeta, key: string): BlindIndexMeta | undefined {
    const direct = this.blindIndex(model, key);
    if (direct !== undefined) return direct;
    const indexes = this.indexesOf(model, key);
    return indexes.find((index) => index.bits === 256) ?? indexes[0];
  }

  /** {@link indexesOf} with each index's spec, built once per (model, source): writes compute them per row. */
  indexSpecs(model: ModelMeta, source: string): readonly IndexSpec[] {
    const key = `${model.name}\u0000${source}`;
    let specs = this.specs.get(key);
    if (specs === undefined) {
      specs = this.indexesOf(model, source).map((index) => ({ index, spec: blindIndexSpec(model, index) }));
      this.specs.set(key, specs);
    }
    return specs;
  }

  /**
   * Whether an operation on `model` can involve an encrypted value: the model itself has
   * encrypted fields, or a relation reaches (transitively) one that does. Cached.
   */
  isSensitive(model: ModelMeta): boolean {
    const known = this.sensitive.get(model.name);
    if (known !== undefined) return known;
    // A walk over everything reachable; only the asked model's answer is cached, since a
    // partial answer for a model met inside a cycle would miss paths through the cycle.
    const seen = new Set<string>([model.name]);
    const pending: ModelMeta[] = [model];
    let result = false;
    while (!result && pending.length > 0) {
      const current = pending.pop() as ModelMeta;
      if (this.sensitive.get(current.name) === true || Object.keys(current.encrypted).length > 0) {
        result = true;
        break;
      }
      for (const field of Object.values(current.fields)) {
        if (field.kind !== 'object') continue;
        const target = this.schema.models[field.relationModel ?? field.type];
        if (target !== undefined && !seen.has(target.name)) {
          seen.add(target.name);
          pending.push(target);
        }
      }
    }
    this.sensitive.set(model.name, result);
    return result;
  }

  /** The model's encrypted fields and sensitive relations, as lists (writes walk them per row). */
  writePlan(model: ModelMeta): WritePlan {
    let plan = this.writePlans.get(model.name);
    if (plan === undefined) {
      const relations: WritePlan['relations'][number][] = [];
      for (const name of Object.keys(model.fields)) {
        const target = this.relationTarget(model, name);
        if (target !== undefined && this.isSensitive(target))
          relations.push({ name, target, list: this.isListRelation(model, name) });
      }
      plan = { encrypted: Object.values(model.encrypted), relations };
      this.writePlans.set(model.name, plan);
    }
    return plan;
  }

  /**
   * The other side of the relation field `field` of `model` (the field of the related model
   * carrying the same relation name), or `undefined` when the metadata does not name relations.
   */
  backRelation(model: ModelMeta, field: string): { model: ModelMeta; field: FieldMeta } | undefined {
    const meta = model.fields[field];
    const target = this.relationTarget(model, field);
    if (meta?.relationName === undefined || target === undefined) return undefined;
    for (const other of Object.values(target.fields)) {
      if (other.kind !== 'object' || other.relationName !== meta.relationName) continue;
      // a self-relation has both sides in the same model
      if (target.name === model.name && other.name === field) continue;
      return { model: target, field: other };
    }
    return undefined;
  }

  /**
   * The relations of `model` whose foreign key contains the scalar `field`, each with the
   * related model's field that `field` references: where a create can take `field` from.
   */
  foreignKeySources(
    model: ModelMeta,
    field: string,
  ): readonly { readonly relation: string; readonly target: ModelMeta; readonly toField: string }[] {
    const key = `${model.name}\u0000${field}`;
    let sources = this.keySources.get(key);
    if (sources === undefined) {
      const found: { relation: string; target: ModelMeta; toField: string }[] = [];
      for (const relation of Object.values(model.fields)) {
        const index = relation.relationFromFields?.indexOf(field) ?? -1;
        const target = this.relationTarget(model, relation.name);
        if (index >= 0 && target !== undefined && relation.relationToFields?.[index] !== undefined) {
          found.push({ relation: relation.name, target, toField: relation.relationToFields[index] });
        }
      }
      sources = found;
      this.keySources.set(key, sources);
    }
    return sources;
  }

  /** The single id field of `model`, or `undefined` for a compound id. */
  idField(model: ModelMeta): string | undefined {
    return model.idFields.length === 1 ? model.idFields[0] : undefined;
  }

  /** The Prisma client property for a model (`HushfieldKey` → `hushfieldKey`). */
  delegateName(model: ModelMeta): string {
    return delegateName(model.name);
  }
}

/**
 * The spec `FieldCrypto.blindIndex` takes for one index column. Database names throughout;
 * the CLI must build the same spec when it rebuilds indexes.
 */
export function blindIndexSpec(model: ModelMeta, index: BlindIndexMeta): BlindIndexSpec {
  const source = model.encrypted[index.source];
  return {
    model: model.dbName,
    field: source?.dbName ?? index.source,
    name: index.dbName,
    normalize: index.normalize,
    bits: index.bits,
    ...(isPerScopeIndex(index) ? { perScope: true } : {}),
  };
}

/**
 * The spec `FieldCrypto.matchIndex` takes for one match-index column. Database names
 * throughout; the CLI must build the same spec when it rebuilds indexes.
 */
export function matchIndexSpec(model: ModelMeta, index: MatchIndexMeta): MatchIndexSpec {
  const source = model.encrypted[index.source];
  return {
    model: model.dbName,
    field: source?.dbName ?? index.source,
    name: index.dbName,
    tokens: index.tokens,
    bits: index.bits,
    hashes: index.hashes,
    fold: index.fold,
    maxLength: index.maxLength,
  };
}

/**
 * The match index a filter goes through: one that folds case for `mode: 'insensitive'`;
 * otherwise one that keeps case (fewer candidates), else any.
 */
export function pickMatchIndex(indexes: readonly MatchSpec[], insensitive: boolean): MatchSpec | undefined {
  if (insensitive) return indexes.find((m) => m.index.fold === 'case');
  return indexes.find((m) => m.index.fold === 'none') ?? indexes[0];
}

/** Whether an index's values are keyed per scope (`perScope: true` or `'migrating'`). */
export function isPerScopeIndex(index: BlindIndexMeta): boolean {
  return index.perScope === true || index.perScope === 'migrating';
}

/**
 * Whether updating the field a relation's foreign key references makes the database rewrite the
 * foreign key of the rows holding it: `Cascade` (Prisma's default, when `onUpdate` is not written)
 * copies the new value, `SetNull` and `SetDefault` replace it. `Restrict` and `NoAction` make the
 * database refuse the update while such a row exists, so nothing of the row changes.
 */
export function rewritesOnUpdate(relation: FieldMeta): boolean {
  const action = relation.relationOnUpdate ?? 'Cascade';
  return action !== 'Restrict' && action !== 'NoAction';
}
