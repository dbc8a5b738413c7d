/**
 * The guard's checks on the data a write sends (`data`, an upsert's `create` and `update`) and
 * on its nested writes under relations, called from its walk (`query-guard.ts`), whose where
 * check the wheres of nested writes go back to. Refused: writes to a blind- or match-index
 * column, values that cannot be encrypted (not a string, lone surrogates, over the size cap,
 * a list `push`), changing a bound row's id, and scope moves the extension cannot re-encrypt
 * for: the scope field set by a nested update, or through a relation that holds it, or by a
 * `connect` or `set` that links a row through it, or by a database cascade from the field it
 * refers to; and likewise a change of the field a bound id (a profile's id that is its user's)
 * refers to, which the database cascades to the id its values are bound to, and linking such a
 * row to another related row, from either side, which sets its id. A nested `update`
 * of the row such a relation points to links nothing: allowed.
 */
import { checkBytes, checkPlaintext } from '@hushfield/core';
import type { EncryptedFieldMeta, ModelMeta } from '../../metadata';
import { JsonInputError } from '../../json-input';
import { isPrismaNull, jsonText } from '../../typed-values';
import { boundField } from '../../value-context';
import { isComputedPlaceholder } from '../computed-index';
import { blindIndexWrite, matchIndexWrite, notJson, notString, notTyped, unsupported } from '../messages';
import { asList, NESTED_WRITE_OPERATIONS, nestedWriteParts, type WherePosition } from './arg-shapes';
import { type Args, isPlainObject, type SchemaView } from '../schema-view';

/** The guard's where check, which the wheres of nested writes (connect, update...) go through. */
export interface WhereGuard {
  where(model: ModelMeta, where: unknown, position: WherePosition): void;
}

/**
 * Write data, including nested writes under relations. An update may not change the id of
 * a bound model: its stored ciphertexts name the old id (create a new row instead).
 */
export function guardData(
  view: SchemaView,
  guard: WhereGuard,
  model: ModelMeta,
  data: unknown,
  updating: boolean,
  nested = false,
): void {
  if (!isPlainObject(data)) return;
  // Only a top-level update reads the row and re-encrypts it under the new scope.
  const scope = model.scopeField;
  if (
    nested &&
    updating &&
    scope !== undefined &&
    data[scope] !== undefined &&
    Object.keys(model.encrypted).length > 0
  ) {
    throw unsupported('scopeMove', model.name, scope, 'update');
  }
  // Through the relation, the scope changes where the extension cannot see the new value.
  if (updating && scope !== undefined && Object.keys(model.encrypted).length > 0) {
    // Every relation whose foreign key holds the scope, not only the one the scope is taken from.
    for (const relation of view.scopeRelations(model)) {
      if (data[relation] !== undefined && !updatesOnly(data[relation]))
        throw unsupported('scopeRelation', model.name, relation, 'update');
    }
  }
  // Linking another row through a relation whose foreign key is the bound id changes the id.
  if (updating) {
    for (const relation of view.bindingRelations(model)) {
      if (data[relation] !== undefined && !updatesOnly(data[relation]))
        throw unsupported('bindingRelation', model.name, relation, 'update');
    }
  }
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    const carried = updating ? view.scopeCarriedBy(model, key) : undefined;
    if (carried !== undefined) {
      const scope = carried.child.scopeField as string;
      throw unsupported('scopeCascade', carried.child.name, scope, `updating ${model.name}.${key}`);
    }
    const binding = updating ? view.bindingCarriedBy(model, key) : undefined;
    if (binding !== undefined) {
      throw unsupported('bindingCascade', binding.child.name, binding.field, `updating ${model.name}.${key}`);
    }
    if (view.blindIndex(model, key)) {
      if (isComputedPlaceholder(value)) continue;
      throw blindIndexWrite(model.name, key);
    }
    if (view.matchIndex(model, key)) throw matchIndexWrite(model.name, key);
    if (updating && key === boundField(model) && Object.keys(model.encrypted).length > 0) {
      throw unsupported('rekeyMany', model.name, key, 'update');
    }
    const encrypted = view.encrypted(model, key);
    if (encrypted?.type !== undefined) {
      typedWrite(model, encrypted, value);
      continue;
    }
    if (encrypted) {
      const plain = setValue(value);
      if (plain !== null && typeof plain !== 'string') throw notString(model.name, key);
      // Refused here, before the scope's key is read or created for it.
      if (plain !== null) checkPlaintext(plain, `${model.name}.${key}`);
      continue;
    }
    const target = view.relationTarget(model, key);
    if (target !== undefined && isPlainObject(value)) {
      nestedWrite(
        view,
        guard,
        target,
        value,
        movesScope(view, model, key, target),
        movesBinding(view, model, key, target),
        view.isListRelation(model, key),
      );
    }
  }
}

/**
 * Whether the nested writes under a to-one relation only update the row it points to: they
 * link no other row, so the foreign key (and the scope it holds) stays as it is. What the
 * update writes there is checked as any nested update (a change of the referenced field is
 * refused as a cascade to this row's scope).
 */
function updatesOnly(ops: unknown): boolean {
  return isPlainObject(ops) && Object.entries(ops).every(([op, value]) => op === 'update' || value === undefined);
}

/**
 * Whether linking an existing row through `model.relation` sets that row's scope field (the
 * foreign key on the other side carries it): a `connect` or `set` there would move rows to
 * another scope without re-encrypting them.
 */
function movesScope(view: SchemaView, model: ModelMeta, relation: string, target: ModelMeta): boolean {
  const scope = target.scopeField;
  if (scope === undefined || Object.keys(target.encrypted).length === 0) return false;
  return view.backRelation(model, relation)?.field.relationFromFields?.includes(scope) === true;
}

/**
 * Whether linking an existing row through `model.relation` sets that row's bound id (the foreign
 * key on the other side is its id: a profile linked to a user takes the user's id), which its
 * values are bound to.
 */
function movesBinding(view: SchemaView, model: ModelMeta, relation: string, target: ModelMeta): boolean {
  // Asked for every relation every write names: most targets have no such relation to look for.
  const relations = view.bindingRelations(target);
  if (relations.length === 0) return false;
  const back = view.backRelation(model, relation);
  return back !== undefined && relations.includes(back.field.name);
}

/** Nested operations that link an existing row to the parent (its foreign key then changes). */
const LINKING = new Set(['connect', 'set', 'connectOrCreate']);

function nestedWrite(
  view: SchemaView,
  guard: WhereGuard,
  target: ModelMeta,
  ops: Args,
  linksMoveScope: boolean,
  linksMoveBinding: boolean,
  list: boolean,
): void {
  for (const [op, value] of Object.entries(ops)) {
    if (value === undefined) continue;
    // A misspelt operation would reach Prisma, whose validation error prints the arguments.
    if (!NESTED_WRITE_OPERATIONS.has(op) && view.isSensitive(target)) {
      throw unsupported('nestedOperation', target.name, '', op);
    }
    if (linksMoveScope && (op === 'connect' || op === 'set'))
      throw unsupported('scopeLink', target.name, target.scopeField as string, op);
    if (linksMoveBinding && LINKING.has(op))
      throw unsupported('bindingLink', target.name, boundField(target) ?? '', op);
    for (const item of asList(value)) {
      // To-one `{ data, ...fields }` is the target's own data only if it has a field `data`.
      if (op === 'update' && !list && isPlainObject(item) && 'data' in item && target.fields.data === undefined) {
        if (Object.keys(item).some((key) => key !== 'data' && key !== 'where'))
          throw unsupported('nestedUpdateShape', target.name, '', op);
      }
      const parts = nestedWriteParts(op, item, list);
      if (parts.where !== undefined) guard.where(target, parts.where.value, parts.where.position);
      for (const row of parts.creates) guardData(view, guard, target, row, false);
      if (parts.update !== undefined) guardData(view, guard, target, parts.update, true, true);
    }
  }
}

/**
 * A value written to an encrypted `Json`, `Bytes` or `String[]` field, checked before anything is
 * sent or any key read: a value Prisma serializes to JSON (json-input.ts; or `null`,
 * `Prisma.JsonNull`/`DbNull`) of at most 16 MiB serialized, a `Uint8Array` of at most 16 MiB, a
 * list of strings written whole (`set`; `push` is refused). Plain `null` is left to Prisma,
 * which decides what it means for the field (a `Json` field's `null` is JSON null, sealed).
 */
function typedWrite(model: ModelMeta, field: EncryptedFieldMeta, value: unknown): void {
  const argument = `${model.name}.${field.name}`;
  switch (field.type) {
    case 'Json': {
      // `null` is JSON null to Prisma (sealed); `DbNull` is SQL NULL, or refused by Prisma on a required field.
      if (value === null || isPrismaNull(value, 'JsonNull') || isPrismaNull(value, 'DbNull')) return;
      if (isPrismaNull(value, 'AnyNull'))
        throw notJson(model.name, field.name, 'Prisma.AnyNull, which is only a filter');
      let text: string;
      try {
        text = jsonText(value);
      } catch (e) {
        if (e instanceof JsonInputError) throw notJson(model.name, field.name, e.reason);
        throw e;
      }
      checkPlaintext(text, argument);
      return;
    }
    case 'Bytes': {
      const plain = setValue(value);
      if (plain === null) return;
      if (!(plain instanceof Uint8Array)) throw notTyped(model.name, field.name, 'bytes (a Uint8Array) or null');
      checkBytes(plain, argument);
      return;
    }
    case 'String[]': {
      if (isPlainObject(value)) {
        const other = Object.keys(value).find((key) => key !== 'set' && value[key] !== undefined);
        if (other !== undefined) throw unsupported('listPush', model.name, field.name, other);
      }
      const plain = isPlainObject(value) ? value.set : value;
      if (plain === null || plain === undefined) return;
      if (!Array.isArray(plain)) throw notTyped(model.name, field.name, 'a list of strings');
      for (const item of plain) {
        if (typeof item !== 'string') throw notTyped(model.name, field.name, 'a list of strings');
        checkPlaintext(item, argument);
      }
      return;
    }
  }
}

/**
 * The value an encrypted field is written: `value`, or what `{ set }` holds. An object with any
 * other key beside `set` (which Prisma refuses, and sealing `set` alone would drop) is returned
 * as it is, for the caller to refuse as no value of the field's type.
 */
function setValue(value: unknown): unknown {
  if (!isPlainObject(value) || !('set' in value)) return value;
  return Object.keys(value).every((key) => key === 'set' || value[key] === undefined) ? value.set : value;
}
