/**
 * Checks one argument or option of an annotation: the argument names allowed, a field name, a
 * mode, a list of normalizers, a number in its range, a `perScope` value. Each returns the value
 * or the message saying why it is refused, naming the annotation and the argument.
 */
import { isNormalizer, versionedName } from '@hushfield/core';
import type { EncryptionMode, Normalizer } from '../metadata';
import { messages } from './messages';
import type { RawAnnotation, RawValue } from './tokenizer';

/** Default blind-index length: the full HMAC-SHA256 output. */
export const DEFAULT_BITS = 256;

const MODES: readonly EncryptionMode[] = ['strict', 'migrating', 'readonly'];
/** Bare names, listed in messages; each may carry a version (`lowercase@1`). */
export const NORMALIZERS: readonly string[] = [
  'lowercase',
  'uppercase',
  'trim',
  'nfkc',
  'nfc',
  'digits',
  'collapse-whitespace',
];
/** prisma-field-encryption's normalizers we cannot reproduce exactly, with the nearest of ours. */
const UNSUPPORTED_PFE_NORMALIZERS: Readonly<Record<string, string>> = {
  spaces: 'collapse-whitespace (which keeps one space instead of removing all)',
  diacritics: 'nfkc (which keeps diacritics)',
};

/** A checked value, or the message saying why it was refused. */
export type Checked<T> = { ok: T } | { problem: string };

/** The named arguments of `raw`, refusing positional, unknown and repeated ones. */
export function namedArgs(raw: RawAnnotation, allowed: readonly string[]): Checked<Map<string, RawValue>> {
  const args = new Map<string, RawValue>();
  for (const arg of raw.args ?? []) {
    if (arg.key === null) return { problem: messages.positionalArgument(raw.name, arg.value.text, allowed) };
    if (!allowed.includes(arg.key)) return { problem: messages.unknownArgument(raw.name, arg.key, allowed) };
    if (args.has(arg.key)) return { problem: messages.duplicateArgument(raw.name, arg.key) };
    args.set(arg.key, arg.value);
  }
  return { ok: args };
}

/** The field named by argument `arg` of `raw`: present, and an identifier. */
export function fieldName(raw: RawAnnotation, arg: string, value: RawValue | undefined): Checked<string> {
  if (value === undefined) return { problem: messages.missingArgument(raw.name, arg) };
  if (value.kind === 'number' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value.text)) {
    return { problem: messages.badFieldName(raw.name, arg, value.text) };
  }
  return { ok: value.text };
}

/** An encryption mode: `strict`, `migrating` or `readonly`. */
export function mode(raw: RawAnnotation, text: string): Checked<EncryptionMode> {
  return (MODES as readonly string[]).includes(text)
    ? { ok: text as EncryptionMode }
    : { problem: messages.badValue(raw.name, 'mode', text, MODES) };
}

/**
 * Normalizer names as versioned names (`lowercase` → `lowercase@1`), refusing unknown names,
 * prisma-field-encryption's that we cannot reproduce, and a mix of versions.
 */
export function normalizers(raw: RawAnnotation, list: readonly string[]): Checked<Normalizer[]> {
  const out: Normalizer[] = [];
  for (const item of list) {
    if (item in UNSUPPORTED_PFE_NORMALIZERS) {
      return { problem: messages.unsupportedNormalizer(raw.name, item, UNSUPPORTED_PFE_NORMALIZERS[item]) };
    }
    if (!isNormalizer(item)) return { problem: messages.badValue(raw.name, 'normalize', item, NORMALIZERS) };
    out.push(versionedName(item) as Normalizer);
  }
  const versions = new Set(out.map((name) => name.slice(name.indexOf('@') + 1)));
  if (versions.size > 1) return { problem: messages.mixedNormalizerVersions(raw.name, out) };
  return { ok: out };
}

/** The problem with a `?key=value` query on an annotation that takes none, or null. */
export function noQuery(raw: RawAnnotation): string | null {
  return raw.query === null ? null : messages.unexpectedQuery(raw.name);
}

/** A blind index's `bits`: an integer from 1 to 256, {@link DEFAULT_BITS} when absent. */
export function bits(raw: RawAnnotation, value: RawValue | undefined): Checked<number> {
  if (value === undefined) return { ok: DEFAULT_BITS };
  const n = value.kind === 'number' ? Number(value.text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 256) return { problem: messages.badBits(raw.name, value.text) };
  return { ok: n };
}

/** A blind index's `expected` number of distinct values: a positive integer, or absent. */
export function expected(raw: RawAnnotation, value: RawValue | undefined): Checked<number | undefined> {
  if (value === undefined) return { ok: undefined };
  const n = value.kind === 'number' ? Number(value.text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) return { problem: messages.badExpected(raw.name, value.text) };
  return { ok: n };
}

const PER_SCOPE_VALUES = ['true', 'false', 'migrating'];

/** A blind index's `perScope`: `true`, `migrating`, or `false` (the same as absent). */
export function perScope(raw: RawAnnotation, value: RawValue | undefined): Checked<true | 'migrating' | undefined> {
  if (value === undefined || (value.kind === 'identifier' && value.text === 'false')) return { ok: undefined };
  if (value.kind === 'identifier' && value.text === 'true') return { ok: true };
  if (value.kind === 'identifier' && value.text === 'migrating') return { ok: 'migrating' };
  return { problem: messages.badValue(raw.name, 'perScope', value.text, PER_SCOPE_VALUES) };
}

/** An integer argument `name` of `raw` that passes `valid` (described by `rule`), `fallback` when absent. */
export function integer(
  raw: RawAnnotation,
  name: string,
  value: RawValue | undefined,
  fallback: number,
  valid: (n: number) => boolean,
  rule: string,
): Checked<number> {
  if (value === undefined) return { ok: fallback };
  const n = value.kind === 'number' ? Number(value.text) : NaN;
  return Number.isSafeInteger(n) && valid(n)
    ? { ok: n }
    : { problem: messages.badMatchOption(raw.name, name, value.text, rule) };
}
