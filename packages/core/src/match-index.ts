/**
 * Keyed match indexes: candidate filters for `contains`, `startsWith` and `endsWith` on an
 * encrypted text field. A match index is a Bloom filter of the value's n-grams, stored as the
 * list of its set bit positions (an integer array the database can test for containment):
 *
 * - Per-index key: HKDF-SHA256 of the index root key (the blind indexes' root key), salt
 *   `"hushfield/match-index"`, info `lp("hushfield/match-index/v1") ‖ lp(model) ‖ lp(field) ‖
 *   lp(name) ‖ u32be(root version) ‖ u32be(tokens) ‖ u32be(bits) ‖ u32be(hashes) ‖ lp(fold)`.
 *   Changing any parameter changes the key, so a value indexed under other parameters never
 *   matches (`reencrypt` rebuilds it).
 * - Tokens: the value's code points, each folded on its own (`fold: 'case'` lower-cases one
 *   code point at a time, so that "x contains y" implies "fold(x) contains fold(y)"), then the
 *   code points of that folded text (`İ` folds to two), framed by U+0002 (start) and U+0003
 *   (end); every run of `tokens` consecutive code points is an n-gram.
 * - Bits: for each distinct n-gram, HMAC-SHA256(per-index key, UTF-8 of the n-gram); its first
 *   `hashes` big-endian 32-bit words, each modulo `bits` (a power of two), are set positions.
 * - Stored: each position as `rootVersion × 65536 + position`, sorted, no repeats, so the root
 *   version travels with the value and a query during a rotation asks for each live version;
 *   first, one negative element, the parameters' fingerprint (`-(tokens × 1,000,000 + log2(bits)
 *   × 10,000 + hashes × 100 + fold)`, fold 0 = none, 1 = case), so `reencrypt` can tell a value
 *   indexed under other parameters without decrypting it. Queries never ask for it.
 *
 * A query asks for rows whose list holds every position of the query's own n-grams (a
 * superset of the matches: no false negatives, some false positives); the caller decrypts the
 * candidates and keeps only the real matches.
 */
import { Buffer } from 'node:buffer';
import { createHmac, hkdfSync } from 'node:crypto';
import { encodeFields } from './length-prefixed';
import { needs, needsInteger, needsName } from './preconditions';

/** How a match index folds code points before cutting n-grams. */
export type MatchFold = 'none' | 'case';

/** Which filter a match query answers. */
export type MatchKind = 'contains' | 'startsWith' | 'endsWith';

/** Where a match index lives and how it is computed (database names). */
export interface MatchIndexSpec {
  model: string;
  field: string;
  name: string;
  /** n-gram length in code points, 2 to 5. */
  tokens: number;
  /** Filter size in bits: a power of two from 64 to 65536. */
  bits: number;
  /** Positions set per n-gram, 1 to 8. */
  hashes: number;
  /** `case`: each code point lower-cased on its own; `mode: 'insensitive'` needs it. */
  fold: MatchFold;
  /** Longest value indexed, in code points; a longer value is refused (its cost grows with length). */
  maxLength: number;
}

/** Largest index root version a match position can carry (`version × 65536 + position` fits an int4). */
export const MAX_MATCH_ROOT_VERSION = 32_767;

const POSITION_SPACE = 65_536;
const START = '\u0002';
const END = '\u0003';
const SALT = Buffer.from('hushfield/match-index', 'utf8');
const INFO_LABEL = 'hushfield/match-index/v1';

/** Checks a spec. @throws InvalidArgumentError naming the bad property */
export function checkMatchSpec(spec: MatchIndexSpec): void {
  needs(spec !== null && typeof spec === 'object', 'spec', 'must be an object');
  needsName(spec.model, 255, 'spec.model');
  needsName(spec.field, 255, 'spec.field');
  needsName(spec.name, 255, 'spec.name');
  needsInteger(spec.tokens, 2, 5, 'spec.tokens');
  needsInteger(spec.bits, 64, POSITION_SPACE, 'spec.bits');
  needs((spec.bits & (spec.bits - 1)) === 0, 'spec.bits', 'must be a power of two');
  needsInteger(spec.hashes, 1, 8, 'spec.hashes');
  needs(spec.fold === 'none' || spec.fold === 'case', 'spec.fold', "must be 'none' or 'case'");
  needsInteger(spec.maxLength, 1, 1_000_000, 'spec.maxLength');
}

/**
 * Derives one match index's 32-byte key from an index root key version.
 * @returns a new buffer the caller owns and zeroes
 */
export function deriveMatchKey(indexRoot: Buffer, spec: MatchIndexSpec, rootVersion: number): Buffer {
  needs(Buffer.isBuffer(indexRoot) && indexRoot.length === 32, 'indexRoot', 'must be a Buffer of 32 bytes');
  needsInteger(rootVersion, 1, MAX_MATCH_ROOT_VERSION, 'rootVersion');
  const info = encodeFields([
    INFO_LABEL,
    spec.model,
    spec.field,
    spec.name,
    { u32: rootVersion },
    { u32: spec.tokens },
    { u32: spec.bits },
    { u32: spec.hashes },
    spec.fold,
  ]);
  return Buffer.from(hkdfSync('sha256', indexRoot, SALT, info, 32));
}

/**
 * `value`'s code points, each folded on its own. A code point whose lower case is longer (`İ`
 * U+0130 → `i` U+0069 + U+0307) yields each of its code points, so the n-grams are those of
 * the folded text, which the exact check compares.
 */
function foldedCodePoints(value: string, fold: MatchFold): string[] {
  if (fold === 'none') return Array.from(value);
  let folded = '';
  for (const point of value) folded += point.toLowerCase();
  return Array.from(folded);
}

/** The distinct n-grams of a framed sequence of (folded) code points. */
function grams(points: readonly string[], tokens: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + tokens <= points.length; i++) out.add(points.slice(i, i + tokens).join(''));
  return out;
}

/** Code points in `value` (what `maxLength` counts). */
export function codePointLength(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) i++;
    length++;
  }
  return length;
}

/** The n-grams a stored value is indexed under: the whole value, framed by start and end marks. */
export function valueGrams(spec: MatchIndexSpec, value: string): Set<string> {
  return grams([START, ...foldedCodePoints(value, spec.fold), END], spec.tokens);
}

/**
 * The n-grams a query needs present, or `null` when the query is too short to form one
 * (`startsWith`/`endsWith` count their start or end mark as one code point).
 */
export function queryGrams(spec: MatchIndexSpec, kind: MatchKind, query: string): Set<string> | null {
  const points = foldedCodePoints(query, spec.fold);
  const framed = kind === 'startsWith' ? [START, ...points] : kind === 'endsWith' ? [...points, END] : points;
  const out = grams(framed, spec.tokens);
  return out.size === 0 ? null : out;
}

/** The sorted, distinct stored positions of a set of n-grams under a derived key. */
export function matchPositions(
  matchKey: Buffer,
  spec: MatchIndexSpec,
  rootVersion: number,
  ngrams: Set<string>,
): number[] {
  const positions = new Set<number>();
  const mask = spec.bits - 1;
  const base = rootVersion * POSITION_SPACE;
  for (const gram of ngrams) {
    const digest = createHmac('sha256', matchKey).update(gram, 'utf8').digest();
    for (let h = 0; h < spec.hashes; h++) positions.add(base + (digest.readUInt32BE(h * 4) & mask));
  }
  return [...positions].sort((a, b) => a - b);
}

/** The negative first element of every stored match index: which parameters produced it. */
export function matchFingerprint(spec: Pick<MatchIndexSpec, 'tokens' | 'bits' | 'hashes' | 'fold'>): number {
  return -(
    spec.tokens * 1_000_000 +
    Math.log2(spec.bits) * 10_000 +
    spec.hashes * 100 +
    (spec.fold === 'case' ? 1 : 0)
  );
}

/** The index root version of a stored position, or `null` when it is not one. */
export function matchPositionVersion(position: unknown): number | null {
  if (!Number.isSafeInteger(position) || (position as number) < POSITION_SPACE) return null;
  const version = Math.floor((position as number) / POSITION_SPACE);
  return version <= MAX_MATCH_ROOT_VERSION ? version : null;
}

/**
 * Whether `value` matches `query` the way the database's own filter would on plaintext:
 * substring, prefix or suffix, on the folded code points when `insensitive`.
 */
export function matchesQuery(
  spec: Pick<MatchIndexSpec, 'fold'>,
  kind: MatchKind,
  value: string,
  query: string,
  insensitive: boolean,
): boolean {
  const fold = insensitive ? spec.fold : 'none';
  const v = fold === 'none' ? value : foldedCodePoints(value, fold).join('');
  const q = fold === 'none' ? query : foldedCodePoints(query, fold).join('');
  if (kind === 'contains') return v.includes(q);
  return kind === 'startsWith' ? v.startsWith(q) : v.endsWith(q);
}
