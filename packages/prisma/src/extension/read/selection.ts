/**
 * Makes sure a read returns what decryption needs: the row id of every bound model whose
 * encrypted fields are selected (the id is part of the associated data), and the scope of every
 * scoped model's (its values' key must be that scope's). What was added is stripped from
 * the result again, so callers get exactly the shape Prisma declares for their selection.
 */
import type { ModelMeta } from '../../metadata';
import { boundField } from '../../value-context';
import { SELECTION_KEYS } from '../query/arg-shapes';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';

/** Fields added at one level, and the same for relations below it. */
export interface StripPlan {
  readonly fields: string[];
  readonly relations: Record<string, StripPlan>;
}

/**
 * Whether `field` will be in the result of a read with these arguments.
 * @param omittedByClient - whether the client's own `omit` leaves it out (a query's `omit` of
 *   the field, true or false, overrides that, as in Prisma)
 */
function isReturned(args: Args, field: string, omittedByClient: boolean): boolean {
  if (isPlainObject(args.select)) return Boolean(args.select[field]);
  // Prisma spreads the query's omit over the client's: a key given, even `undefined`, wins.
  if (isPlainObject(args.omit) && Object.hasOwn(args.omit, field)) return args.omit[field] !== true;
  return !omittedByClient;
}

/**
 * Whether `args` select a computed field of a result extension (a key that is no field of the
 * model): its `needs` may name encrypted fields, which Prisma adds to the query only after the
 * query extensions have run.
 */
function selectsComputed(model: ModelMeta, args: Args): boolean {
  const select = args.select;
  if (!isPlainObject(select)) return false;
  return Object.entries(select).some(
    ([key, value]) => value === true && key !== '_count' && !Object.hasOwn(model.fields, key),
  );
}

/** Whether `args` select or include anything nested (relations or an explicit scalar list). */
function hasShape(args: Args): boolean {
  return isPlainObject(args.select) || isPlainObject(args.include) || isPlainObject(args.omit);
}

/**
 * Returns read arguments that also fetch the fields decryption needs, plus what to strip.
 * @param extra - top-level fields the extension itself needs in the result (stripped too)
 */
export function ensureSelected(
  view: SchemaView,
  model: ModelMeta,
  args: Args,
  extra: readonly string[] = [],
): { args: Args; strip: StripPlan } {
  const out: Args = { ...args };
  const strip: StripPlan = { fields: [], relations: {} };
  const needs: string[] = [...extra];
  const bound = boundField(model);
  // The extension's own extra fields (a re-check's source values) are decrypted too.
  const returned = (field: string, from: Args) => isReturned(from, field, view.omittedByClient(model, field));
  const encryptedReturned =
    Object.keys(model.encrypted).some((name) => returned(name, args) || extra.includes(name)) ||
    selectsComputed(model, args);
  if (bound !== undefined && encryptedReturned && !needs.includes(bound)) needs.push(bound);
  const scope = view.checkedScopeField(model);
  if (scope !== undefined && encryptedReturned && !needs.includes(scope)) needs.push(scope);
  for (const field of needs) {
    if (returned(field, out)) continue;
    if (isPlainObject(out.select)) out.select = { ...out.select, [field]: true };
    else out.omit = { ...(isPlainObject(out.omit) ? out.omit : {}), [field]: false };
    strip.fields.push(field);
  }
  for (const key of SELECTION_KEYS) {
    const selection = out[key];
    if (!isPlainObject(selection)) continue;
    const copy: Args = { ...selection };
    for (const [field, value] of Object.entries(selection)) {
      // `false`, `undefined` or `Prisma.skip` leave the relation out: nothing to add to it.
      if (value !== true && !isPlainObject(value)) continue;
      const target = view.relationTarget(model, field);
      if (target === undefined || !view.isSensitive(target)) continue;
      const nested = isPlainObject(value) ? value : {};
      if (!hasShape(nested) && !target.bindRowId && view.checkedScopeField(target) === undefined) continue;
      const inner = ensureSelected(view, target, nested);
      if (inner.strip.fields.length > 0 || Object.keys(inner.strip.relations).length > 0) {
        copy[field] = inner.args;
        strip.relations[field] = inner.strip;
      } else if (isPlainObject(value)) copy[field] = inner.args;
    }
    out[key] = copy;
  }
  return { args: out, strip };
}

/** Removes what {@link ensureSelected} added, in place. */
export function stripAdded(result: unknown, plan: StripPlan): void {
  if (result === null || typeof result !== 'object') return;
  if (Array.isArray(result)) {
    for (const item of result) stripAdded(item, plan);
    return;
  }
  const row = result as Args;
  for (const field of plan.fields) delete row[field];
  for (const [relation, inner] of Object.entries(plan.relations)) stripAdded(row[relation], inner);
}

/** The plan below a fluent-API data path (`['select', 'posts']`), or `undefined`. */
export function planAt(plan: StripPlan, dataPath: readonly string[]): StripPlan | undefined {
  let current: StripPlan | undefined = plan;
  for (let i = 1; i < dataPath.length && current !== undefined; i += 2) current = current.relations[dataPath[i]];
  return current;
}
