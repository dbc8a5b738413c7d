/**
 * Which values of a query's arguments Prisma may echo in an error, and so must be taken out of
 * it ({@link echoedValues}, for `redact-error.ts`): the values the caller gave for encrypted
 * fields and their indexes (of any model: nested writes and relation filters reach other
 * models); those given under a name that is neither a field of the model it is given for (of
 * the schema, where that model is not known) nor one of Prisma's keys (`emial`, `Email`, another
 * model's field: a mistaken field, which Prisma echoes as an unknown argument with its value);
 * those under one of Prisma's operators where a model's fields go (`where: { equals }`,
 * `data: { set }`); and a string, number (a bigint, a `Prisma.Decimal`) or date anywhere Prisma
 * takes none: outside a scalar field's value and its operators, only a count (`take`), a
 * direction (`orderBy`) and a field name (`distinct`, `by`) are kept, so one given to a relation
 * (`posts: email`), a nested write (`set: email`, `connect: email`), a relation's filter or
 * arguments (`some: email`, `orderBy: email`) or a selection (`select: { title: email }`) is
 * withheld.
 */
import { isDecimal } from '../../json-input';
import {
  FIELD_OBJECT_KEYS,
  FILTER_KEYS,
  OBJECT_KEYS,
  ORDER_KEYS,
  PRISMA_KEYS,
  SCALAR_OPERATORS,
  SELECTION_KEYS,
  WORDS,
} from './prisma-keys';
import type { ModelMeta } from '../../metadata';
import type { SchemaView } from '../schema-view';

/** Below this length a fragment of a multi-line value is not taken out bare: it would match ordinary words. */
const MIN_FRAGMENT_LENGTH = 4;

/**
 * A value to take out of a message: a string, printed quoted (as Prisma and databases print
 * text); a number and a JSON value's key, printed bare; and, for a value spanning lines (Prisma
 * re-indents the text after U+2028 and U+2029, so no quoted form matches), each of its lines.
 */
export interface Secret {
  readonly text: string;
  /** `quoted`: a string; `number`: printed bare; `word`: a JSON key or a line, printed bare. */
  readonly form: 'quoted' | 'number' | 'word';
}

/**
 * The values `args` gives that Prisma may echo in an error (see the module's comment), longest
 * first, so that a value containing another is taken out whole.
 * @param view - the schema, whose encrypted, blind-index and match-index fields are withheld
 * @param args - the operation's arguments, as the caller gave them
 * @param model - the model the operation runs on, whose fields (and its relations' targets'
 *   fields, down nested writes and filters) are the names `args` may use; without it, any
 *   model's field names pass
 */
export function echoedValues(view: SchemaView, args: unknown, model?: ModelMeta): Secret[] {
  const found = new Map<string, Secret>();
  collect(
    args,
    { view, names: namesOf(view), model, level: 'any', keeps: model === undefined ? 'values' : undefined },
    false,
    found,
    0,
  );
  return [...found.values()].sort((a, b) => b.text.length - a.text.length);
}

/** The schema's names, as {@link collect} tells a sensitive key by them. */
interface Names {
  /** Names whose values are plaintext (or index input) in some model of the schema. */
  readonly sensitive: ReadonlySet<string>;
  /** Every field name of the schema, and its compound id and unique inputs' names. */
  readonly known: ReadonlySet<string>;
}

const namesCache = new WeakMap<SchemaView, Names>();

/** The schema's {@link Names}, worked out once per view. */
function namesOf(view: SchemaView): Names {
  let names = namesCache.get(view);
  if (names === undefined) {
    const sensitive = new Set<string>();
    const known = new Set<string>();
    for (const model of Object.values(view.schema.models)) {
      for (const name of Object.keys(model.encrypted)) sensitive.add(name);
      for (const name of Object.keys(model.blindIndexes)) sensitive.add(name);
      for (const name of Object.keys(model.matchIndexes ?? {})) sensitive.add(name);
      for (const name of Object.keys(model.fields)) known.add(name);
      for (const { name } of model.uniqueIndexes) known.add(name);
      known.add(model.idFields.join('_'));
    }
    names = { sensitive, known };
    namesCache.set(view, names);
  }
  return names;
}

/**
 * Which string, number or date may stand where a walk is, outside a scalar field (below one, its
 * values are kept): `values` any (where the model is not known), `counts` a number (`take`,
 * `skip`), `words` a direction, a relation load strategy or the model's field name (`orderBy`,
 * `distinct`, `by`). Anywhere else (a nested write, a relation's filter or arguments, a
 * selection) such a value is misplaced, and Prisma echoes it: it is withheld.
 */
type Keeps = 'values' | 'counts' | 'words';

/**
 * Where {@link collect} is in the arguments: the schema's names, the model whose fields the keys
 * at this level are (`undefined` below a scalar field, or when the caller did not say), and what
 * the object at this level holds: `fields` a model's fields (a where, written data: one of
 * Prisma's operators there, `equals` or `set`, is a misplaced one), `update` an `update`'s
 * (an upsert's, or a nested one's): the model's fields or `{ where, data }`, `scalar` a scalar field's
 * filter or update, `selection` the fields a `select`, `include` or `omit` names, `order` an
 * `orderBy`'s, `any` operation arguments, a relation's filter, nested writes or arguments.
 */
interface Walk {
  readonly view: SchemaView;
  readonly names: Names;
  readonly model: ModelMeta | undefined;
  readonly level: 'fields' | 'update' | 'scalar' | 'selection' | 'order' | 'any';
  /** Which scalar value is kept here (see {@link Keeps}); none when unset, all at level `scalar`. */
  readonly keeps?: Keeps;
  /** Whether Prisma prints a value here as a key too: groupBy's `by` also becomes `select: { <by>: true }`. */
  readonly printedAsKey?: boolean;
}

/**
 * Where a value under `key` is walked on: `undefined` when it is withheld (a sensitive field's,
 * or a name that neither the model, or the schema where the model is not known, nor Prisma
 * has at this level), else with the model its keys belong to (a relation's target; the same
 * model under one of Prisma's keys or a compound unique input; none under a scalar field).
 */
function step(key: string, walk: Walk): Walk | undefined {
  const { view, names, model, level } = walk;
  if (model === undefined) {
    if (names.sensitive.has(key)) return undefined;
    if (!names.known.has(key) && !PRISMA_KEYS.has(key)) return undefined;
    if (level === 'scalar') return walk;
    return { ...walk, keeps: OBJECT_KEYS.has(key) ? undefined : 'values' };
  }
  const field = Object.hasOwn(model.fields, key) ? model.fields[key] : undefined;
  if (field !== undefined) {
    if (isSensitive(model, key)) return undefined;
    const target = field.kind === 'object' ? view.relationTarget(model, key) : undefined;
    // A field's value in a selection is `true`, a relation's its arguments.
    if (level === 'selection') return target === undefined ? undefined : { view, names, model: target, level: 'any' };
    if (level === 'order')
      return target === undefined ? { ...walk, keeps: 'words' } : { view, names, model: target, level: 'order' };
    if (field.kind !== 'object') return { view, names, model: undefined, level: 'scalar' };
    return { view, names, model: target, level: 'any' };
  }
  // A relation count's `true`, or its `{ select }` of relations with their arguments.
  if (level === 'selection') return key === '_count' ? { view, names, model, level: 'any' } : undefined;
  if (level === 'order') return ORDER_KEYS.has(key) ? { ...walk, keeps: 'words' } : undefined;
  if (model.idFields.join('_') === key || model.uniqueIndexes.some((u) => u.name === key))
    return { view, names, model, level: 'fields' };
  if (level === 'fields') return key === 'AND' || key === 'OR' || key === 'NOT' ? walk : undefined;
  // An update's fields, or (nested) its `{ where, data }`.
  if (level === 'update')
    return key === 'where' || key === 'data' ? { view, names, model, level: 'fields' } : undefined;
  // A scalar field's filter or update operator among operation arguments, nested writes or a
  // relation's filter is misplaced (`findMany({ equals })`): its value is withheld.
  if (!PRISMA_KEYS.has(key) || SCALAR_OPERATORS.has(key)) return undefined;
  if (FIELD_OBJECT_KEYS.has(key)) return { view, names, model, level: 'fields' };
  if (SELECTION_KEYS.has(key)) return { view, names, model, level: 'selection' };
  if (key === 'orderBy') return { view, names, model, level: 'order' };
  if (key === 'take' || key === 'skip' || key === 'limit') return { view, names, model, level: 'any', keeps: 'counts' };
  if (key === 'distinct' || key === 'by' || key === 'relationLoadStrategy')
    return { view, names, model, level: 'any', keeps: 'words', printedAsKey: key === 'by' };
  return { view, names, model, level: key === 'update' ? 'update' : 'any' };
}

/** Whether the string, number or date `value` is kept where `walk` is (see {@link Keeps}). */
function kept(value: unknown, walk: Walk): boolean {
  if (walk.level === 'scalar' || walk.keeps === 'values') return true;
  if (walk.keeps === 'counts') return typeof value === 'number' || typeof value === 'bigint';
  if (walk.keeps !== 'words' || typeof value !== 'string') return false;
  return WORDS.has(value) || (walk.model !== undefined && Object.hasOwn(walk.model.fields, value));
}

/** Whether `key` is an encrypted, blind-index or match-index field of `model`. */
function isSensitive(model: ModelMeta, key: string): boolean {
  return (
    Object.hasOwn(model.encrypted, key) ||
    Object.hasOwn(model.blindIndexes, key) ||
    Object.hasOwn(model.matchIndexes ?? {}, key)
  );
}

/** Whether `value` is one Prisma prints as a value (not an object or list): a `Prisma.Decimal` too. */
function isScalar(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    value instanceof Date ||
    isDecimal(value)
  );
}

/** Adds to `out` every value under a sensitive key of `value` (at any depth below it, filters and JSON included). */
function collect(value: unknown, walk: Walk, inside: boolean, out: Map<string, Secret>, depth: number) {
  if (depth > 64) return;
  // A value where Prisma takes none (`AND: email`, `where: [email]`, `take: email`) is withheld like a sensitive one.
  if (!inside && isScalar(value) && !kept(value, walk)) {
    inside = true;
    if (walk.printedAsKey === true && typeof value === 'string' && value.length >= MIN_FRAGMENT_LENGTH)
      addBare(value, 'word', out);
  }
  if (inside) {
    if (typeof value === 'string') return addString(value, out);
    if (typeof value === 'number' || typeof value === 'bigint') return addBare(String(value), 'number', out);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : addString(value.toISOString(), out);
    // Printed `new Prisma.Decimal("<digits>")`; its sign, exponent and digit groups are no values of their own.
    if (isDecimal(value)) return addString(value.toFixed(), out);
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, walk, inside, out, depth + 1);
    return;
  }
  // Any object, not only plain ones: a class instance given as data is echoed by Prisma too.
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || isScalar(value)) return;
  for (const [key, item] of Object.entries(value)) {
    // A JSON value's keys are its plaintext too; Prisma prints them bare (`{ acct-9931: true }`).
    if (inside && key.length >= MIN_FRAGMENT_LENGTH && !FILTER_KEYS.has(key)) addBare(key, 'word', out);
    const next = inside ? walk : step(key, walk);
    collect(item, next ?? walk, inside || next === undefined, out, depth + 1);
  }
}

/** Adds `text` as a quoted value, and each line of it when it spans lines. */
function addString(text: string, out: Map<string, Secret>): void {
  if (text.length === 0) return;
  out.set(`q${text}`, { text, form: 'quoted' });
  // JSON.stringify escapes \n and \r; Prisma breaks the printed line at U+2028 and U+2029 only.
  const lines = text.split(/[\u2028\u2029]/);
  if (lines.length > 1)
    for (const line of lines) if (line.trim().length >= MIN_FRAGMENT_LENGTH) addBare(line, 'word', out);
}

/** Adds `text` as printed bare: a number, or a word (a JSON key, a line). */
function addBare(text: string, form: 'number' | 'word', out: Map<string, Secret>): void {
  out.set(`${form}${text}`, { text, form });
}
