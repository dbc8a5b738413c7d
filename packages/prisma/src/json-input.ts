/**
 * The JSON a value written to a `Json` field becomes, as Prisma 7's client builds it for a plain
 * `Json` column (its argument serializer, then the JSON protocol's `JSON.stringify`), so that an
 * encrypted `Json` field seals what a plain one would hold. Checked case by case against plain
 * Prisma on PostgreSQL, MariaDB, SQLite and libSQL by test/extension/json-serialization.test.ts:
 *
 * - `null` (at the top or inside) is JSON null; `Prisma.JsonNull` at the top is JSON null, and
 *   any Prisma null marker inside a value is its name as a string (`"JsonNull"`, `"DbNull"`...).
 * - A `BigInt` is its decimal digits as a string; a `Date` its ISO text; a byte array (any
 *   `ArrayBuffer` view) its base64 text; a `Prisma.Decimal` its `toJSON` string (a number at
 *   the top); NaN and ±Infinity are JSON null, as `JSON.stringify` writes them.
 * - An object with a `toJSON` method is what that returns; an object with a `$type` property is
 *   taken as it is (Prisma's raw value): both are then written by `JSON.stringify` with Prisma's
 *   replacer, a `BigInt` its digits and an `ArrayBuffer` view (not a `Buffer`, whose own `toJSON`
 *   comes first) its base64 text.
 * - Any other object is its enumerable string keys (inherited ones too, as `for...in` lists
 *   them) whose values are not `undefined`; symbol keys are left out.
 * - Refused, as Prisma refuses them: `undefined` as a list element (a hole in a sparse list
 *   too), a function or a symbol as a value, an invalid `Date`; and a cycle, on which Prisma's
 *   serializer overflows the stack (or `JSON.stringify` throws).
 */
import { Buffer } from 'node:buffer';

/**
 * A value that has no JSON form Prisma accepts. `reason` names what is wrong with it, never the
 * value: a `Json` value of an encrypted field is plaintext, keys included.
 */
export class JsonInputError extends TypeError {
  /** What the value holds that Prisma refuses (`"a function"`, `"a cycle"`...). */
  readonly reason: string;

  constructor(reason: string) {
    super(`not a JSON value Prisma accepts: it holds ${reason}`);
    this.name = 'JsonInputError';
    this.reason = reason;
  }
}

/**
 * The JSON text Prisma stores for `value` written to a plain `Json` column (see the module's
 * comment for the rules). Not for `Prisma.DbNull` or `Prisma.AnyNull` at the top, which are no
 * JSON value (the callers handle them first).
 * @param value - the value written, as the caller gave it
 * @throws JsonInputError when Prisma would refuse the value (or overflow on it)
 * @example prismaJsonText({ n: 1n, at: new Date(0) }) // '{"n":"1","at":"1970-01-01T00:00:00.000Z"}'
 */
export function prismaJsonText(value: unknown): string {
  if (isNullMarker(value, 'JsonNull')) return 'null';
  // A Decimal given as the whole value is a JSON number to Prisma: its digits in plain notation.
  if (isDecimal(value) && value.isFinite()) return value.toFixed();
  const json = toJson(value, []);
  try {
    return JSON.stringify(json, prismaReplacer);
  } catch {
    // Only a cycle under a `toJSON` result or a `$type` object, which JSON.stringify writes as
    // Prisma does (its error is not passed on: it names the keys on the cycle).
    throw new JsonInputError('a cycle under a toJSON result or a $type object');
  }
}

/** The replacer Prisma's client writes its query with (a `toJSON` result and a `$type` object meet it). */
function prismaReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  return value;
}

/**
 * `value` as JSON-ready data: plain objects, lists and primitives, except a `toJSON` result or a
 * `$type` object, left to `JSON.stringify`. `ancestors` are the lists and objects above it.
 */
function toJson(value: unknown, ancestors: object[]): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    case 'undefined':
      throw new JsonInputError('undefined');
    default:
      throw new JsonInputError(`a ${typeof value}`);
  }
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new JsonInputError('an invalid Date');
    return value.toISOString();
  }
  if (ancestors.includes(value)) throw new JsonInputError('a cycle');
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    ancestors.push(value);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new JsonInputError('undefined as a list element (use null, or leave it out)');
      out[i] = toJson(item, ancestors);
    }
    ancestors.pop();
    return out;
  }
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (isDecimal(value)) return String(value);
  const name = nullMarkerName(value);
  if (name !== undefined) return name;
  const record = value as Record<string, unknown>;
  if (typeof record.toJSON === 'function') return (record.toJSON as () => unknown)();
  if (record.$type) return value;
  // A prototype-less object, so that a key `__proto__` is a key like any other.
  const out = Object.create(null) as Record<string, unknown>;
  ancestors.push(value);
  for (const key in record) {
    const item = record[key];
    if (item !== undefined) out[key] = toJson(item, ancestors);
  }
  ancestors.pop();
  return out;
}

/** The name of a Prisma null marker (`JsonNull`, `DbNull`, `AnyNull`), or `undefined` for anything else. */
function nullMarkerName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const marker = value as { _getNamespace?: unknown; _getName?: unknown };
  if (typeof marker._getNamespace !== 'function' || typeof marker._getName !== 'function') return undefined;
  if ((marker._getNamespace as () => string)() !== 'NullTypes') return undefined;
  return (marker._getName as () => string)();
}

/** Whether `value` is the Prisma null marker named `name`. */
export function isNullMarker(value: unknown, name?: 'JsonNull' | 'DbNull' | 'AnyNull'): boolean {
  const actual = nullMarkerName(value);
  return actual !== undefined && (name === undefined || actual === name);
}

/** Whether `value` is a decimal.js `Decimal` (`Prisma.Decimal`), recognized as Prisma recognizes one. */
export function isDecimal(value: unknown): value is { toFixed(): string; isFinite(): boolean } {
  if (value === null || typeof value !== 'object') return false;
  const d = value as { s?: unknown; e?: unknown; d?: unknown; toFixed?: unknown; isFinite?: unknown };
  return (
    typeof d.s === 'number' &&
    typeof d.e === 'number' &&
    Array.isArray(d.d) &&
    typeof d.toFixed === 'function' &&
    typeof d.isFinite === 'function'
  );
}
