/**
 * The last line of defence for "no plaintext of an encrypted field in an error message". Prisma's
 * validation errors print the invocation's arguments with their values, and a database error
 * may quote a value it refused. The extension rewrites every argument shape it knows and refuses
 * the invalid ones it has met (see `query-guard.ts`); a shape it does not know (an array where
 * Prisma expects an object: `where: [{ email }]`, `data: [{ ... }]`) reaches Prisma as written.
 * When the query then fails, the values of its arguments that Prisma may echo
 * (`echoed-values.ts` says which) are taken out of the error's message and stack (and of its
 * causes') before it is rethrown.
 */
import type { ModelMeta } from '../../metadata';
import type { SchemaView } from '../schema-view';
import { echoedValues, type Secret } from './echoed-values';

/** What stands in for a value taken out of a message. */
export const REDACTED = '[hushfield: value withheld]';

/** How deep an error's `cause` chain (and an `AggregateError`'s errors) is redacted. */
const MAX_DEPTH = 4;

/**
 * `error`, with every value that `args` gives an encrypted, blind-index or match-index field (of
 * any model: nested writes and relation filters reach other models), or gives where Prisma
 * takes none (see `echoed-values.ts`), taken out of its message and stack, and its
 * causes'. The error itself (same class, same code), changed in place, so callers' checks still
 * hold; a copy with the redacted message (same name and code) when it cannot be changed (frozen,
 * or a read-only message). Never throws.
 * @param model - the model the operation runs on, whose fields (and its relations' targets'
 *   fields, down nested writes and filters) are the names `args` may use; without it, any
 *   model's field names pass
 */
export function redactPlaintexts(error: unknown, view: SchemaView, args: unknown, model?: ModelMeta): unknown {
  if (!(error instanceof Error)) return error;
  const secrets = echoedValues(view, args, model);
  if (secrets.length === 0) return error;
  return redactDeep(error, secrets, 0);
}

/** `error` redacted, or a redacted copy of it, with its causes and aggregated errors redacted too. */
function redactDeep(error: Error, secrets: readonly Secret[], depth: number): Error {
  let out = redactOwn(error, secrets);
  if (depth + 1 >= MAX_DEPTH) return out;
  const cause = out.cause;
  if (cause instanceof Error) {
    const redacted = redactDeep(cause, secrets, depth + 1);
    if (redacted !== cause && !assign(out, 'cause', redacted)) out = copyOf(out, out.message);
  }
  if (out instanceof AggregateError && Array.isArray(out.errors)) {
    const before: unknown[] = out.errors;
    const errors = before.map((item) => (item instanceof Error ? redactDeep(item, secrets, depth + 1) : item));
    if (errors.some((item, i) => item !== before[i]) && !assign(out, 'errors', errors)) out = copyOf(out, out.message);
  }
  return out;
}

/** `error` with its own message and stack redacted: in place when it can be changed, else a copy. */
function redactOwn(error: Error, secrets: readonly Secret[]): Error {
  const message = redactText(String(error.message), secrets);
  const stack = typeof error.stack === 'string' ? redactText(error.stack, secrets) : undefined;
  const changed = message !== error.message || (stack !== undefined && stack !== error.stack);
  if (!changed) return error;
  if (assign(error, 'message', message) && (stack === undefined || assign(error, 'stack', stack))) return error;
  return copyOf(error, message);
}

/** Sets `error[key]`, reporting whether it now holds `value` (a frozen error, a getter: no). */
function assign(error: Error, key: 'message' | 'stack' | 'cause' | 'errors', value: unknown): boolean {
  try {
    (error as unknown as Record<string, unknown>)[key] = value;
    return (error as unknown as Record<string, unknown>)[key] === value;
  } catch {
    return false;
  }
}

/** A plain `Error` standing in for `error`: its name and code, the redacted `message`, no cause. */
function copyOf(error: Error, message: string): Error {
  const copy = new Error(message);
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  return copy;
}

/**
 * `text` with each secret taken out: a string where it is quoted (raw or JSON-escaped, in double
 * or single quotes, as Prisma and databases print values), a bare one (a number, a line of a
 * multi-line value, a JSON key) where no letter, digit, dot or hyphen adjoins it, nor, around a
 * number, a colon (a stack frame's `file:line:column`); a number with the `n` a bigint is printed with.
 */
export function redactText(text: string, secrets: readonly Secret[] | readonly string[]): string {
  let out = text;
  for (const entry of secrets) {
    const secret: Secret = typeof entry === 'string' ? { text: entry, form: 'quoted' } : entry;
    if (secret.form !== 'quoted') {
      // A bigint is printed with its suffix (`4242n`), taken out with it.
      const [before, suffix, after] = secret.form === 'number' ? ['\\w.:-', 'n?', '\\w.:'] : ['\\w.-', '', '\\w-'];
      const bare = new RegExp(`(?<![${before}])${escapeRegExp(secret.text)}${suffix}(?![${after}])`, 'g');
      out = out.replace(bare, REDACTED);
      continue;
    }
    const escaped = JSON.stringify(secret.text).slice(1, -1);
    for (const form of new Set([escaped, secret.text])) {
      out = out.split(`"${form}"`).join(`"${REDACTED}"`);
      out = out.split(`'${form}'`).join(`'${REDACTED}'`);
    }
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
