/**
 * Where a row being created takes the values it does not give itself, its scope above all.
 * Prisma's nested-write inputs have no foreign-key fields (`MemberCreateWithoutOrgInput` has
 * no `orgId`): the database fills them from the related row, so the extension must find the
 * same value before it seals anything:
 *
 * - a create nested under a parent takes the parent's value of the referenced field: a parent
 *   being created gives it from its data, from its own relations or parent in turn, or
 *   generates its id on the client; a parent being updated gives it from its where, or is
 *   read once;
 * - a create that writes the relation itself takes the value from a nested `create`, or from
 *   the row a `connect` / `connectOrCreate` names: given in the where, or read with one query.
 *   The where is then narrowed to that value, so the write fails rather than link a row whose
 *   value changed in between, and a `connectOrCreate` creates its row with the same value;
 * - `scope: id` takes the id, generated on the client when the create gives none, unless the
 *   create stands in for a row that is there (see {@link ExistingRow}): it then takes that row's.
 *
 * A row whose scope cannot be known this way is refused (`scopeMissing`) before anything is
 * sealed or written.
 */
import { boundField, boundGeneration } from '../../value-context';
import type { ModelMeta } from '../../metadata';
import type { RowGuard } from './encrypt-data';
import { filteredForm, storedForm } from './canonical-values';
import { scopeValue } from './seen-rows';
import { connectOrCreateConflict, relatedRowMissing, scopeMissing } from '../messages';
import type { Position } from '../query/rewrite-where';
import { generateRowId } from './row-ids';
import { asWhereInput } from './indexed-uniques';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';
import { asList } from '../query/arg-shapes';
import { noteGeneratedScope } from '../transaction-context';

/** What the rows need from the extension: the schema, where rewriting and reads of its own. */
export interface RowServices {
  readonly view: SchemaView;
  /** A create's data as it will be sent (a copy, without blind-index placeholders). */
  prepare(model: ModelMeta, data: Args): Args;
  /** Rewrites a where clause (blind indexes) for a read. */
  rewrite(model: ModelMeta, where: unknown, position: Position): Promise<unknown>;
  /** Reads `fields` of the row a rewritten unique where names, or `null`. */
  read(model: ModelMeta, where: Args, fields: readonly string[]): Promise<Args | null>;
  /** Records that a write was narrowed to values read from a row (see {@link RowGuard}). */
  guard(model: ModelMeta, guard: RowGuard): void;
}

/**
 * The row a create stands in for: the one a `connectOrCreate`'s where names, or the one an
 * upsert found to update. The create runs only if that row is not there when the write runs.
 * Gives the row's value of a field, or `undefined` when there is no such row.
 */
export type ExistingRow = (field: string) => Promise<unknown>;

/** Calls on the way to a value, so that a relation cycle ends instead of waiting on itself. */
type Path = ReadonlySet<string>;

let rows = 0;

/**
 * A row being written whose field values a create under one of its relations may need.
 * Built for every row a create writes: its maps are made on first use.
 */
export abstract class RelatedRow {
  private children?: Map<string, Map<object, CreateDraft>>;
  private values?: Map<string, Promise<unknown>>;
  /** Distinguishes rows on a {@link Path}. */
  private id = 0;

  constructor(
    readonly model: ModelMeta,
    protected readonly services: RowServices,
  ) {}

  /**
   * The value the row has (or will have) in `field`, or `undefined` when it cannot be known.
   * Asked once per field: every create under the row gets the same answer (and the same
   * generated id).
   */
  value(field: string, path: Path = new Set()): Promise<unknown> {
    this.id ||= ++rows;
    const step = `${this.id}.${field}`;
    if (path.has(step)) return Promise.resolve(undefined);
    this.values ??= new Map();
    let known = this.values.get(field);
    if (known === undefined) {
      known = this.find(field, new Set([...path, step]));
      this.values.set(field, known);
    }
    return known;
  }

  /** Records `value` as the row's value of `field` (also in the data sent, for a create). */
  protected settle(field: string, value: unknown): void {
    (this.values ??= new Map()).set(field, Promise.resolve(value));
  }

  protected abstract find(field: string, path: Path): Promise<unknown>;

  /**
   * The row created by `item` under this row's relation `relation` (one per item).
   * @param existing - a `connectOrCreate`'s where (as given), when `item` is its create
   */
  child(relation: string, item: Args, existing?: Args): CreateDraft {
    this.children ??= new Map();
    let byItem = this.children.get(relation);
    if (byItem === undefined) {
      byItem = new Map();
      this.children.set(relation, byItem);
    }
    let draft = byItem.get(item);
    if (draft === undefined) {
      const target = this.services.view.relationTarget(this.model, relation) as ModelMeta;
      const services = this.services;
      const standsIn = existing && ((field: string) => readValue(services, target, existing, field));
      draft = new CreateDraft(target, item, services, { row: this, relation }, standsIn);
      byItem.set(item, draft);
    }
    return draft;
  }

  /** The value of `field` this row takes from its parent through the relation it sits under. */
  protected fromParent(parent: ParentLink | undefined, field: string, path: Path): Promise<unknown> | undefined {
    if (parent === undefined) return undefined;
    const back = this.services.view.backRelation(parent.row.model, parent.relation)?.field;
    const index = back?.relationFromFields?.indexOf(field) ?? -1;
    const referenced = index >= 0 ? back?.relationToFields?.[index] : undefined;
    return referenced === undefined ? undefined : parent.row.value(referenced, path);
  }
}

/** Where a nested write sits: the parent row and the parent's relation field that leads to it. */
export interface ParentLink {
  readonly row: RelatedRow;
  readonly relation: string;
}

/** A row being created. `data` is what will be sent; generated ids and pinned wheres go into it. */
export class CreateDraft extends RelatedRow {
  readonly data: Args;
  private scopePromise?: Promise<string>;
  private existingValues?: Map<string, Promise<unknown>>;
  private took = false;

  /** @param existing - the row the create stands in for, when there is one (see {@link ExistingRow}) */
  constructor(
    model: ModelMeta,
    data: Args,
    services: RowServices,
    readonly parent?: ParentLink,
    private readonly existing?: ExistingRow,
  ) {
    super(model, services);
    this.data = services.prepare(model, data);
  }

  /** Whether the create took the id of the row it stands in for (see {@link CreateDraft.existingValue}). */
  get tookExisting(): boolean {
    return this.took;
  }

  /**
   * The value of `field` in the row this create stands in for (read once per field), `undefined`
   * when that row is not there, or no promise when the create stands in for no row.
   */
  existingValue(field: string): Promise<unknown> | undefined {
    if (this.existing === undefined) return undefined;
    this.existingValues ??= new Map();
    let known = this.existingValues.get(field);
    if (known === undefined) {
      known = this.existing(field).then((value) => (value === null ? undefined : value));
      this.existingValues.set(field, known);
    }
    return known;
  }

  /**
   * The scope the row is created under, in the form keys are named by.
   * @throws InvalidArgumentError when it can be known neither from the data, nor from a
   *   related row, nor from an id generated on the client
   */
  scope(): Promise<string> {
    this.scopePromise ??= (async () => {
      const field = this.model.scopeField;
      if (field === undefined) return 'default';
      const scope = scopeString(this.model, field, await this.value(field));
      if (scope === undefined) throw scopeMissing(this.model.name, field);
      return scope;
    })();
    return this.scopePromise;
  }

  protected async find(field: string, path: Path): Promise<unknown> {
    const given = this.data[field];
    if (given !== undefined && given !== null && !isPlainObject(given)) return given;
    const view = this.services.view;
    const generation =
      field === boundField(this.model)
        ? boundGeneration(this.model)
        : field === view.idField(this.model)
          ? this.model.idGeneration
          : undefined;
    if (generation !== undefined) {
      // `scope: id`: a create standing in for a row that is there runs only once that row is
      // gone, and takes its id. A fresh id would make a scope key that no row will ever have,
      // one per write (and a connectOrCreate's create an id other than the one linked).
      const existing = field === this.model.scopeField ? await this.existingValue(field) : undefined;
      if (existing !== undefined) {
        this.data[field] = existing;
        this.took = true;
        return existing;
      }
      const generated = generateRowId(generation);
      if (generated !== undefined) {
        this.data[field] = generated;
        // The row's scope, which no other writer knows: its key may be made in a transaction.
        const scope = field === this.model.scopeField ? scopeString(this.model, field, generated) : undefined;
        if (scope !== undefined) noteGeneratedScope(scope);
        return generated;
      }
    }
    const inherited = this.fromParent(this.parent, field, path);
    if (inherited !== undefined) {
      const value = await inherited;
      if (value !== undefined) return value;
    }
    for (const source of view.foreignKeySources(this.model, field)) {
      if (!isPlainObject(this.data[source.relation])) continue;
      const value = await this.through(source.relation, source.target, source.toField, path);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /** The value of `toField` of the row this create links through its own relation `relation`. */
  private async through(relation: string, target: ModelMeta, toField: string, path: Path): Promise<unknown> {
    const ops = this.data[relation] as Args;
    if (isPlainObject(ops.create)) return this.child(relation, ops.create).value(toField, path);
    if (isPlainObject(ops.connect)) {
      const value = await readValue(this.services, target, ops.connect, toField);
      if (value === undefined) throw relatedRowMissing(this.model.name, relation, target.name);
      this.pin(relation, 'connect', toField, value);
      return value;
    }
    if (isPlainObject(ops.connectOrCreate) && isPlainObject(ops.connectOrCreate.where)) {
      const { where, create } = ops.connectOrCreate;
      const draft = isPlainObject(create) ? this.child(relation, create, where) : undefined;
      const found = await (draft?.existingValue(toField) ?? readValue(this.services, target, where, toField));
      let value = found;
      if (draft !== undefined) {
        // The create must make a row with the same value, should it run after all.
        const derived =
          target.fields[toField] !== undefined && this.services.view.foreignKeySources(target, toField).length > 0;
        if (found !== undefined && !derived && draft.data[toField] === undefined) draft.assign(toField, found);
        const created = await draft.value(toField, path);
        value ??= created;
        if (created !== undefined && value !== undefined && String(created) !== String(value)) {
          throw connectOrCreateConflict(this.model.name, relation, `${target.name}.${toField}`);
        }
      }
      if (value === undefined) return undefined;
      this.pin(relation, 'connectOrCreate', toField, value);
      return value;
    }
    return undefined;
  }

  /** Sets `field` in the data sent (a connectOrCreate's create made to match its where). */
  assign(field: string, value: unknown): void {
    this.data[field] = value;
    this.settle(field, value);
  }

  /** Narrows a connect's (or connectOrCreate's) where to the value the row was sealed for. */
  private pin(relation: string, op: 'connect' | 'connectOrCreate', toField: string, value: unknown): void {
    const ops = this.data[relation] as Args;
    const item = ops[op] as Args;
    if (
      exactIn(
        this.services.view.relationTarget(this.model, relation) as ModelMeta,
        op === 'connect' ? item : (item.where as Args),
        toField,
      ) !== undefined
    )
      return;
    this.data[relation] =
      op === 'connect'
        ? { ...ops, connect: { ...item, [toField]: value } }
        : { ...ops, connectOrCreate: { ...item, where: { ...(item.where as Args), [toField]: value } } };
  }
}

/** Options of {@link UpdatedRow}. */
export interface UpdatedRowOptions {
  /** The (rewritten) unique where naming the row, when there is one. */
  readonly where?: Args;
  /**
   * A filter naming the row when it has no where: a to-one related row's link to its parent
   * (`{ user: { is: <the parent's filter> } }`), worked out when asked.
   */
  readonly filter?: () => Args | undefined;
  /** Id and scope of a to-one related row, found through its parent (no where of its own). */
  readonly locate?: () => Promise<{ scope: string; rowId?: string; id?: string; guard?: RowGuard } | undefined>;
  /**
   * An upsert's create: when no row matches the where, the update's nested writes do not run
   * unless a row is created meanwhile, so the values are the created row's, and the where is
   * narrowed to them (a row created meanwhile with other values makes the write fail).
   */
  readonly fallback?: CreateDraft;
}

/** A row being updated, whose values a create under it takes: from its where, else read once. */
export class UpdatedRow extends RelatedRow {
  /**
   * The guard of the row found through its parent (`locate`), once a create under it took a
   * value from it: the update of that row must be narrowed to it (see nested-writes.ts).
   */
  locatedGuard?: RowGuard;

  constructor(
    model: ModelMeta,
    services: RowServices,
    private readonly options: UpdatedRowOptions = {},
  ) {
    super(model, services);
  }

  /** A filter naming the row (its where as a filter, else {@link UpdatedRowOptions.filter}), or `undefined`. */
  get filter(): Args | undefined {
    const { where, filter } = this.options;
    return where === undefined ? filter?.() : (asWhereInput(this.model, where) as Args);
  }

  protected async find(field: string, path: Path): Promise<unknown> {
    const { where, locate, fallback } = this.options;
    if (where !== undefined) {
      const named = exactIn(this.model, where, field);
      if (named !== undefined) return named;
      const row = await this.services.read(this.model, where, [field]);
      if (row === null || row[field] === null) return row === null ? this.fromFallback(field, path) : undefined;
      // An update (not an upsert, whose narrowed where would create a row instead) is narrowed to
      // the value read: should another client change it before the write, rows created under
      // this one with values sealed for it fail with the write instead of taking the new value.
      if (fallback === undefined) {
        // The where as given names the row wherever it moved (its id would not tell a move of the id).
        const asGiven = { ...where };
        where.AND = [...asList(where.AND), { [field]: row[field] }];
        this.services.guard(this.model, { values: { [field]: row[field] }, row: asGiven });
      }
      return row[field];
    }
    const located = await locate?.();
    if (located === undefined) return undefined;
    this.locatedGuard ??= located.guard;
    if (field === this.model.scopeField) return located.scope;
    if (field === this.services.view.idField(this.model)) return located.id;
    return field === boundField(this.model) ? located.rowId : undefined;
  }

  /** An upsert's value of `field` when no row matches its where: the created row's, pinned in the where. */
  private async fromFallback(field: string, path: Path): Promise<unknown> {
    const { where, fallback } = this.options;
    if (where === undefined || fallback === undefined) return undefined;
    const value = await fallback.value(field, path);
    if (value !== undefined) where[field] = value;
    return value;
  }
}

/** The scope key name for a value of `model.field`, or `undefined` when the value names none. */
export function scopeString(model: ModelMeta, field: string, value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return storedForm(model, field, value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * The value a unique where gives `field` exactly (directly or in a compound unique), else
 * `undefined`: also when the database may match the where to a row holding another form of the
 * value (see {@link comparedLoosely}), whose own form must then be read.
 */
function exactIn(model: ModelMeta, where: Args, field: string): unknown {
  const direct = scopeValue(where[field]);
  if (direct !== undefined) return comparedLoosely(model, field, direct) ? undefined : direct;
  for (const unique of model.uniqueIndexes) {
    const compound = where[unique.name];
    if (unique.fields.includes(field) && isPlainObject(compound)) {
      const part = scopeValue(compound[field]);
      if (part !== undefined) return comparedLoosely(model, field, part) ? undefined : part;
    }
  }
  return undefined;
}

/**
 * Whether a where's `value` for `field` may match a row that holds another form of it: one with
 * trailing spaces (MySQL's and MariaDB's PAD SPACE collations, `utf8mb4_bin` among them, ignore
 * them), or one shorter than a PostgreSQL `Char(n)` (compared padded). A uuid column's forms are
 * canonicalized instead (`storedForm`).
 */
function comparedLoosely(model: ModelMeta, field: string, value: unknown): boolean {
  if (typeof value !== 'string' || model.fields[field]?.uuid === true) return false;
  return value.endsWith(' ') || filteredForm(model, field, value) !== value;
}

/** `field` of the row `where` names: from the where itself, else one read; `undefined` when no row. */
async function readValue(services: RowServices, model: ModelMeta, where: Args, field: string): Promise<unknown> {
  const named = exactIn(model, where, field);
  if (named !== undefined) return named;
  const rewritten = (await services.rewrite(model, where, 'unique')) as Args;
  const row = await services.read(model, rewritten, [field]);
  const value = row?.[field];
  return value === null ? undefined : value;
}
