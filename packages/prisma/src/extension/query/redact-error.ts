/**
 * The last line of defence for "no plaintext of an encrypted field in an error message". Prisma's
 * validation errors print the invocation's arguments with their values, and a database error
 * may quote a value it refused. The extension rewrites every argument shape it knows and refuses
 * the invalid ones it has met (see `query-guard.ts`); a shape it does not know (an array where
 * Prisma expects an object: `where: [{ email }]`, `data: [{ ... }]`) reaches Prisma as written.
 * When the query then fails, the values the caller gave for encrypted fields and their indexes
 * are taken out of the error's message and stack (and of its causes') before it is rethrown.
 */
import type { SchemaView } from '../schema-view';

/** What stands in for a value taken out of a message. */
export const REDACTED = '[hushfield: value withheld]';

/** How deep an error's `cause` chain is redacted. */
const MAX_CAUSES = 4;

/** Below this length a value is only taken out where it is quoted: bare, it would match ordinary words. */
const MIN_BARE_LENGTH = 4;

/**
 * `error`, with every value that `args` gives an encrypted, blind-index or match-index field (of
 * any model: nested writes and relation filters reach other models) taken out of its message and
 * stack; `error` itself (same class, same code), changed in place, so callers' checks still hold.
 */
export function redactPlaintexts(error: unknown, view: SchemaView, args: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const secrets = new Set<string>();
  collect(args, sensitiveNames(view), false, secrets, 0);
  if (secrets.size === 0) return error;
  // Longest first: a value containing another is taken out whole.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < MAX_CAUSES; depth++) {
    redactError(current, ordered);
    current = current.cause;
  }
  return error;
}

const namesCache = new WeakMap<SchemaView, ReadonlySet<string>>();

/** The field names whose values are plaintext (or index input) in some model of the schema. */
function sensitiveNames(view: SchemaView): ReadonlySet<string> {
  let names = namesCache.get(view);
  if (names === undefined) {
    const all = new Set<string>();
    for (const model of Object.values(view.schema.models)) {
      for (const name of Object.keys(model.encrypted)) all.add(name);
      for (const name of Object.keys(model.blindIndexes)) all.add(name);
      for (const name of Object.keys(model.matchIndexes ?? {})) all.add(name);
    }
    names = all;
    namesCache.set(view, names);
  }
  return names;
}

/** Adds to `out` every string under a sensitive key of `value` (at any depth below it, filters included). */
function collect(value: unknown, names: ReadonlySet<string>, inside: boolean, out: Set<string>, depth: number): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    if (inside && value.length > 0) out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, names, inside, out, depth + 1);
    return;
  }
  // Any object, not only plain ones: a class instance given as data is echoed by Prisma too.
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date) return;
  for (const [key, item] of Object.entries(value)) collect(item, names, inside || names.has(key), out, depth + 1);
}

function redactError(error: Error, secrets: readonly string[]): void {
  const message = redactText(error.message, secrets);
  if (message !== error.message) error.message = message;
  if (typeof error.stack === 'string') {
    const stack = redactText(error.stack, secrets);
    if (stack !== error.stack) error.stack = stack;
  }
}

/**
 * `text` with each secret taken out where it is quoted (as Prisma and databases print values),
 * and bare when long enough.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    const escaped = JSON.stringify(secret).slice(1, -1);
    for (const form of new Set([escaped, secret])) {
      out = out.split(`"${form}"`).join(`"${REDACTED}"`);
      out = out.split(`'${form}'`).join(`'${REDACTED}'`);
      if (form.length >= MIN_BARE_LENGTH) out = out.split(form).join(REDACTED);
    }
  }
  return out;
}
