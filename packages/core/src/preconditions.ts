/**
 * Misuse checks, written once. Every public function states its preconditions with
 * {@link needs}; a failed one throws an {@link InvalidArgumentError} naming the argument.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from './errors';
import { messages } from './messages';

/**
 * Asserts a precondition on an argument.
 * @param condition - what must hold
 * @param argument - the argument's name, e.g. `'nonce'`
 * @param requirement - what it must be, e.g. `'must be 12 bytes'`
 * @throws InvalidArgumentError `"<argument> <requirement>"` when `condition` is false
 * @example needs(nonce.length === 12, 'nonce', 'must be 12 bytes');
 */
export function needs(condition: boolean, argument: string, requirement: string): asserts condition {
  if (!condition) throw new InvalidArgumentError(messages.invalidArgument(argument, requirement), argument);
}

/** Asserts `value` is a Buffer of exactly `length` bytes. */
export function needsBytes(value: unknown, length: number, argument: string): asserts value is Buffer {
  // Runs on every AEAD call: the message is built only when it is thrown.
  if (!Buffer.isBuffer(value) || value.length !== length) needs(false, argument, `must be a Buffer of ${length} bytes`);
}

/** Asserts `value` is a string of 1..`maxBytes` UTF-8 bytes. */
export function needsName(value: unknown, maxBytes: number, argument: string): asserts value is string {
  needs(typeof value === 'string' && value.length > 0, argument, 'must be a non-empty string');
  needs(isName(value, maxBytes), argument, `must be at most ${maxBytes} bytes of UTF-8`);
}

/** Whether `value` is a name {@link needsName} accepts: a non-empty string of at most `maxBytes` bytes of UTF-8. */
export function isName(value: unknown, maxBytes: number): value is string {
  if (typeof value !== 'string' || value.length === 0) return false;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short names need no byte count.
  return value.length * 3 <= maxBytes || Buffer.byteLength(value, 'utf8') <= maxBytes;
}

/** Asserts `value` is an integer in `[min, max]`. */
export function needsInteger(value: unknown, min: number, max: number, argument: string): asserts value is number {
  needs(
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
    argument,
    `must be an integer from ${min} to ${max}`,
  );
}

/**
 * Asserts that an options argument is an object or absent, so that `null` or a stray value
 * (a key, a string) fails as a typed error naming its owner, not as a `TypeError` on a property
 * read, and is never silently taken for "no options".
 * @param options - the options argument as given
 * @param owner - what takes it, e.g. `'LocalKeyring'`
 * @param required - whether `options` may be left out (`undefined`); default: it may
 * @throws InvalidArgumentError `"<owner>: options must be an object (or left out), got <type>"`
 *   (the type, never the value) when `options` is not a non-array object (nor `undefined`, unless
 *   `required`)
 * @example checkOptionsObject(options, 'MultiKeyring');
 */
export function checkOptionsObject(options: unknown, owner: string, required = false): void {
  if (options === undefined && !required) return;
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) return;
  const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options;
  throw new InvalidArgumentError(messages.optionsNotObject(owner, got, !required), 'options');
}
