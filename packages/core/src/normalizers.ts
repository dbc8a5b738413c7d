/**
 * Blind-index normalizers, pinned: each has a versioned name (`lowercase@1`) whose meaning never
 * changes. A bare name (`lowercase`) means version 1, forever. A later version is a new name,
 * adopted by writing it in the schema and rebuilding the index with `hushfield reencrypt`.
 *
 * - `trim@1`, `collapse-whitespace@1` and `digits@1` use fixed code point sets written out
 *   here, so they give the same result on every runtime.
 * - `lowercase@1`, `uppercase@1`, `nfc@1` and `nfkc@1` use the runtime's Unicode tables
 *   (`String.prototype.toLowerCase`, `toUpperCase`, `normalize`), which change between Node
 *   releases — even between minor releases of one Node major. They are pinned to
 *   {@link PINNED_UNICODE_VERSION}: on a runtime with other Unicode data their output can
 *   differ (test/vectors/hushfield-normalizers.json lists real cases), and {@link unicodeMismatches}
 *   names them so that `FieldCrypto` can refuse (the default) or warn.
 */
import { needs } from './preconditions';

/** The name of a normalization step, without its version. */
export type NormalizerName = 'lowercase' | 'uppercase' | 'trim' | 'nfkc' | 'nfc' | 'digits' | 'collapse-whitespace';

/** A normalizer: a versioned name (`lowercase@1`), or a bare name meaning version 1. */
export type Normalizer = NormalizerName | `${NormalizerName}@${number}`;

/** The Unicode version whose data the version-1 Unicode-dependent normalizers are defined by. */
export const PINNED_UNICODE_VERSION = '17.0';

/** One pinned normalizer. */
interface Definition {
  /** Versioned name, e.g. `lowercase@1`. */
  readonly id: string;
  readonly version: number;
  /** The Unicode version whose data it is defined by, or `null` when it uses none. */
  readonly unicode: string | null;
  readonly apply: (value: string) => string;
}

/**
 * ECMAScript's WhiteSpace and LineTerminator code points as of Unicode 17.0 (what `trim()` and
 * `\s` match there): U+0009–000D, U+0020, U+00A0, U+1680, U+2000–200A, U+2028, U+2029, U+202F,
 * U+205F, U+3000, U+FEFF. Written out, so a runtime with other Unicode data gives the same result.
 */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function trim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isSpace(value.charCodeAt(start))) start++;
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function collapseWhitespace(value: string): string {
  let out = '';
  let runStart = -1;
  let copied = 0;
  for (let i = 0; i <= value.length; i++) {
    const space = i < value.length && isSpace(value.charCodeAt(i));
    if (space && runStart < 0) runStart = i;
    else if (!space && runStart >= 0) {
      // A run of one plain space is kept as it is; anything else becomes one space.
      if (!(i - runStart === 1 && value.charCodeAt(runStart) === 0x20)) {
        out += value.slice(copied, runStart) + ' ';
        copied = i;
      }
      runStart = -1;
    }
  }
  return copied === 0 ? value : out + value.slice(copied);
}

function digits(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) out += value[i];
  }
  return out;
}

const DEFINITIONS: readonly Definition[] = [
  { id: 'lowercase@1', version: 1, unicode: PINNED_UNICODE_VERSION, apply: (value) => value.toLowerCase() },
  { id: 'uppercase@1', version: 1, unicode: PINNED_UNICODE_VERSION, apply: (value) => value.toUpperCase() },
  { id: 'trim@1', version: 1, unicode: null, apply: trim },
  { id: 'nfkc@1', version: 1, unicode: PINNED_UNICODE_VERSION, apply: (value) => value.normalize('NFKC') },
  { id: 'nfc@1', version: 1, unicode: PINNED_UNICODE_VERSION, apply: (value) => value.normalize('NFC') },
  { id: 'digits@1', version: 1, unicode: null, apply: digits },
  { id: 'collapse-whitespace@1', version: 1, unicode: null, apply: collapseWhitespace },
];

/** Versioned names and bare names (version 1), to their definitions. */
const BY_NAME = new Map<string, Definition>();
for (const definition of DEFINITIONS) {
  BY_NAME.set(definition.id, definition);
  if (definition.version === 1) BY_NAME.set(definition.id.slice(0, -2), definition);
}

/** Every normalizer, by versioned name. */
export const NORMALIZERS: readonly Normalizer[] = DEFINITIONS.map((definition) => definition.id as Normalizer);

/** Whether `name` is a normalizer (versioned, or bare for version 1). */
export function isNormalizer(name: unknown): name is Normalizer {
  return typeof name === 'string' && BY_NAME.has(name);
}

/** The versioned name of a normalizer (`lowercase` → `lowercase@1`), or `undefined` if unknown. */
export function versionedName(name: string): Normalizer | undefined {
  return BY_NAME.get(name)?.id as Normalizer | undefined;
}

/** Checks a list of normalizers. @throws InvalidArgumentError naming the unknown one */
export function checkNormalizers(normalizers: readonly Normalizer[], what: string): void {
  needs(Array.isArray(normalizers), what, 'must be an array');
  for (const name of normalizers) needs(BY_NAME.has(name), what, `has unknown normalizer "${String(name)}"`);
  normalizerVersion(normalizers, what);
}

/**
 * The normalizer version of a chain, which the blind index value records: the version its
 * normalizers share (1 for an empty chain). Chains mix no versions.
 * @throws InvalidArgumentError when they do
 */
export function normalizerVersion(normalizers: readonly Normalizer[], what = 'normalizers'): number {
  let version = 0;
  for (const name of normalizers) {
    const definition = BY_NAME.get(name);
    if (definition === undefined) continue;
    needs(
      version === 0 || definition.version === version,
      what,
      'mixes normalizer versions; use one version for every step',
    );
    version = definition.version;
  }
  return version === 0 ? 1 : version;
}

/**
 * Applies `normalizers` in order.
 * @throws InvalidArgumentError on an unknown normalizer
 * @example normalize(' Ada@Example.COM ', ['trim@1', 'lowercase@1']) // 'ada@example.com'
 */
export function normalize(value: string, normalizers: readonly Normalizer[]): string {
  needs(typeof value === 'string', 'value', 'must be a string');
  checkNormalizers(normalizers, 'normalizers');
  return applyNormalizers(value, normalizers);
}

/** Applies normalizers already checked; the hot path of every index. */
export function applyNormalizers(value: string, normalizers: readonly Normalizer[]): string {
  let out = value;
  for (let i = 0; i < normalizers.length; i++) out = (BY_NAME.get(normalizers[i]) as Definition).apply(out);
  return out;
}

/** The Unicode version of this runtime's tables (`process.versions.unicode`), `unknown` if absent. */
export function runtimeUnicodeVersion(): string {
  return process.versions.unicode ?? 'unknown';
}

/** A normalizer whose pinned Unicode version is not the runtime's. */
export interface UnicodeMismatch {
  readonly normalizer: Normalizer;
  readonly pinned: string;
  readonly runtime: string;
}

/** The normalizers of a (checked) chain that this runtime cannot compute as pinned. */
export function unicodeMismatches(
  normalizers: readonly Normalizer[],
  runtime = runtimeUnicodeVersion(),
): UnicodeMismatch[] {
  const out: UnicodeMismatch[] = [];
  for (const name of normalizers) {
    const definition = BY_NAME.get(name);
    if (definition?.unicode != null && definition.unicode !== runtime) {
      out.push({ normalizer: definition.id as Normalizer, pinned: definition.unicode, runtime });
    }
  }
  return out;
}
