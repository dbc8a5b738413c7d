/**
 * `Prisma.skip`: a value that makes Prisma leave its property out, as if it were not written
 * (`data: { ssn: input.ssn ?? Prisma.skip }`). The extension takes it out of the arguments
 * before it reads them, so that an encrypted field, a where or a selection set to it means
 * what it means to Prisma: nothing.
 */
import { type Args, isPlainObject } from '../schema-view';

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
 * `value` without the properties set to `Prisma.skip`, at any depth: `value` itself when it
 * holds none (nothing is copied), else copies of the objects and arrays on the way to each.
 */
export function withoutSkips<T>(value: T): T {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const inner = withoutSkips(value[i]);
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
    const inner = withoutSkips(item);
    if (inner === item) continue;
    out ??= { ...value };
    out[key] = inner;
  }
  return (out ?? value) as T;
}
