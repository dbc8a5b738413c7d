/**
 * `Prisma.skip`: a value that makes Prisma leave its property out, as if it were not written
 * (`data: { ssn: input.ssn ?? Prisma.skip }`). The extension takes it out of the arguments
 * before it reads them, so that an encrypted field, a where or a selection set to it means
 * what it means to Prisma: nothing. Where Prisma 7 refuses it, so does the extension, before
 * it could be sealed as something else: as an element of a list (a `Json` value's included,
 * which `JSON.stringify` would turn into `{}`), and as a `select` (an empty selection, where
 * leaving it out would read every field).
 */
import { skipInList, skipSelect } from '../messages';
import { type Args, isPlainObject } from '../schema-view';
import { SELECTION_KEYS } from './arg-shapes';

/**
 * Whether `value` is `Prisma.skip`. Told by its shape (an instance with `ifUndefined`), not by
 * identity: the extension cannot import the very copy of Prisma's runtime (CommonJS or ESM)
 * the application's client was generated against, and each copy has its own instance.
 */
export function isSkip(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !isPlainObject(value) &&
    typeof (value as { ifUndefined?: unknown }).ifUndefined === 'function'
  );
}

/**
 * An operation's arguments without the properties set to `Prisma.skip`, at any depth (a `Json`
 * value's too, as Prisma drops them): `args` itself when they hold none (nothing is copied),
 * else copies of the objects and arrays on the way to each.
 * @throws InvalidArgumentError when `Prisma.skip` is an element of a list, or a read's (or a
 *   nested read's) `select`, which Prisma refuses (a list element cannot be left out; `select:
 *   {}` selects nothing), naming where without echoing any value
 */
export function withoutSkips<T>(args: T): T {
  if (isPlainObject(args)) refuseSkippedSelect(args, '');
  return stripped(args, undefined);
}

/** @param argument - the operation's argument `value` is in (`data`, `where`...), for errors */
function stripped<T>(value: T, argument: string | undefined): T {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      if (isSkip(value[i])) {
        // Named by the argument's path of Prisma's own keys, never by anything inside a value.
        throw skipInList(argument ?? 'args');
      }
      const inner = stripped(value[i], argument);
      if (inner === value[i]) continue;
      out ??= value.slice();
      out[i] = inner;
    }
    return (out ?? value) as T;
  }
  if (!isPlainObject(value)) return value;
  let out: Args | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (isSkip(item)) {
      out ??= { ...value };
      delete out[key];
      continue;
    }
    const inner = stripped(item, argument ?? key);
    if (inner === item) continue;
    out ??= { ...value };
    out[key] = inner;
  }
  return (out ?? value) as T;
}

/**
 * Refuses `select: Prisma.skip` in the arguments of a read, or of a nested read under their
 * `select` or `include` (a relation, `_count`), where Prisma reads it as an empty selection.
 * (`include: Prisma.skip` and `omit: Prisma.skip` mean "not given" to Prisma: taken out.)
 */
function refuseSkippedSelect(args: Args, path: string): void {
  if (isSkip(args.select)) throw skipSelect(`${path}select`);
  for (const key of SELECTION_KEYS) {
    const selection = args[key];
    if (!isPlainObject(selection)) continue;
    for (const [field, nested] of Object.entries(selection)) {
      if (isPlainObject(nested)) refuseSkippedSelect(nested, `${path}${key}.${field}.`);
    }
  }
}
