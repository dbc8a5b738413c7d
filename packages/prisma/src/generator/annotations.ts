/**
 * What the annotations mean: turns the tokenizer's raw annotations into typed ones, with the
 * `prisma-field-encryption` forms mapped onto ours, and reports every unknown name, argument
 * or value instead of ignoring it. Which names are ours is `annotation-names.ts`'s to say; each
 * argument's value is checked in `annotation-arguments.ts`.
 */
import type { EncryptionMode, MatchIndexMeta, Normalizer } from '../metadata';
import {
  DEFAULT_BITS,
  NORMALIZERS,
  bits,
  expected,
  fieldName,
  integer,
  mode,
  namedArgs,
  noQuery,
  normalizers,
  perScope,
  type Checked,
} from './annotation-arguments';
import { classifyName, closestName } from './annotation-names';
import { messages } from './messages';
import { tokenize, type RawAnnotation, type RawArgument } from './tokenizer';

/** `/// @encrypted`, `/// @encrypted(mode: ...)` or `/// @encrypted?mode=...`. */
export interface EncryptedAnnotation {
  readonly kind: 'encrypted';
  readonly mode: EncryptionMode;
}

/** `/// @blindIndex(source: f, ...)` or `/// @encryption:hash(f)?normalize=...`. */
export interface BlindIndexAnnotation {
  readonly kind: 'blindIndex';
  readonly source: string;
  /** Versioned names (`lowercase@1`): a bare name in the annotation means version 1. */
  readonly normalize: readonly Normalizer[];
  readonly bits: number;
  /** `expected`: how many distinct values the source will hold, to check the bucket size. */
  readonly expected?: number;
  /**
   * `perScope: true`: keyed by each row's scope key (a shred destroys the index key too);
   * `perScope: migrating`: the same, while lookups also match the shared values not yet moved.
   */
  readonly perScope?: true | 'migrating';
}

/** `/// @matchIndex(source: f, tokens: 3, bits: 1024, hashes: 3, normalize: "lowercase", maxLength: 256)`. */
export type MatchIndexAnnotation = { readonly kind: 'matchIndex' } & Omit<MatchIndexMeta, 'name' | 'dbName'>;

/** `/// @encryption:cursor` (prisma-field-encryption): accepted, no effect. */
export interface CursorAnnotation {
  readonly kind: 'cursor';
}

/**
 * Model level: `/// @encryption(scope: field)`, `/// @encryption(bind: field)`, or both in one.
 * `scope` names the field whose value names the scope key; `bind` the unique field, known
 * before the write, that values are bound to on a model whose id the database assigns.
 */
export interface ModelAnnotation {
  readonly kind: 'model';
  readonly scope?: string;
  readonly bind?: string;
}

/** Any annotation, typed. */
export type Annotation =
  EncryptedAnnotation | BlindIndexAnnotation | MatchIndexAnnotation | CursorAnnotation | ModelAnnotation;

/** Annotations found on one model or field, and the problems with the rest. */
export interface ParsedAnnotations {
  readonly annotations: Annotation[];
  readonly problems: string[];
}

/** Match-index defaults: trigrams, a 1,024-bit filter, 3 positions per trigram, values up to 256 code points. */
export const MATCH_DEFAULTS = { tokens: 3, bits: 1024, hashes: 3, maxLength: 256 } as const;

/** prisma-field-encryption hash options that configure its unkeyed hash; the keyed index replaces it. */
const IGNORED_PFE_HASH_OPTIONS = ['algorithm', 'inputEncoding', 'outputEncoding', 'salt', 'saltEnv'];

function encrypted(raw: RawAnnotation): Checked<EncryptedAnnotation> {
  if (raw.args !== null && raw.query !== null) return { problem: messages.mixedForms(raw.name) };
  if (raw.query !== null) {
    // prisma-field-encryption: `?mode=strict|readonly`, and its older bare flags `?strict`, `?readonly`.
    // Among the bare flags readonly takes precedence there (`?strict&readonly` is readonly), so it does here.
    const flags = raw.query.filter(({ key, value }) => value === null && (key === 'strict' || key === 'readonly'));
    const readonlyFlag = flags.some(({ key }) => key === 'readonly');
    let chosen: EncryptionMode | null = null;
    for (const { key, value } of raw.query) {
      let next: Checked<EncryptionMode>;
      if (key === 'mode' && value !== null) next = mode(raw, value);
      else if ((key === 'strict' || key === 'readonly') && value === null)
        next = { ok: readonlyFlag ? 'readonly' : key };
      else return { problem: messages.unknownOption(raw.name, key, ['mode']) };
      if ('problem' in next) return next;
      if (chosen !== null && chosen !== next.ok) return { problem: messages.conflictingModes(raw.name) };
      chosen = next.ok;
    }
    return { ok: { kind: 'encrypted', mode: chosen ?? 'strict' } };
  }
  const args = namedArgs(raw, ['mode']);
  if ('problem' in args) return args;
  const value = args.ok.get('mode');
  if (value === undefined) return { ok: { kind: 'encrypted', mode: 'strict' } };
  const checked = mode(raw, value.text);
  return 'problem' in checked ? checked : { ok: { kind: 'encrypted', mode: checked.ok } };
}

function blindIndex(raw: RawAnnotation): Checked<BlindIndexAnnotation> {
  const query = noQuery(raw);
  if (query) return { problem: query };
  if (raw.args === null) return { problem: messages.missingArgument(raw.name, 'source') };
  const args = namedArgs(raw, ['source', 'normalize', 'bits', 'expected', 'perScope']);
  if ('problem' in args) return args;
  const source = fieldName(raw, 'source', args.ok.get('source'));
  if ('problem' in source) return source;
  const normalizeText = args.ok.get('normalize');
  if (normalizeText?.kind === 'number')
    return { problem: messages.badValue(raw.name, 'normalize', normalizeText.text, NORMALIZERS) };
  const list =
    normalizeText === undefined
      ? []
      : normalizeText.text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  const normalize = normalizers(raw, list);
  if ('problem' in normalize) return normalize;
  const length = bits(raw, args.ok.get('bits'));
  if ('problem' in length) return length;
  const count = expected(raw, args.ok.get('expected'));
  if ('problem' in count) return count;
  const scoped = perScope(raw, args.ok.get('perScope'));
  if ('problem' in scoped) return scoped;
  const index: BlindIndexAnnotation = {
    kind: 'blindIndex',
    source: source.ok,
    normalize: normalize.ok,
    bits: length.ok,
    ...(count.ok === undefined ? {} : { expected: count.ok }),
    ...(scoped.ok === undefined ? {} : { perScope: scoped.ok }),
  };
  return { ok: index };
}

function matchIndex(raw: RawAnnotation): Checked<MatchIndexAnnotation> {
  const query = noQuery(raw);
  if (query) return { problem: query };
  if (raw.args === null) return { problem: messages.missingArgument(raw.name, 'source') };
  const args = namedArgs(raw, ['source', 'tokens', 'bits', 'hashes', 'normalize', 'maxLength']);
  if ('problem' in args) return args;
  const source = fieldName(raw, 'source', args.ok.get('source'));
  if ('problem' in source) return source;
  const get = (name: string) => args.ok.get(name);
  const tokens = integer(raw, 'tokens', get('tokens'), MATCH_DEFAULTS.tokens, (n) => n >= 2 && n <= 5, 'from 2 to 5');
  if ('problem' in tokens) return tokens;
  const size = integer(
    raw,
    'bits',
    get('bits'),
    MATCH_DEFAULTS.bits,
    (n) => n >= 64 && n <= 65_536 && (n & (n - 1)) === 0,
    'a power of two from 64 to 65536',
  );
  if ('problem' in size) return size;
  const hashes = integer(raw, 'hashes', get('hashes'), MATCH_DEFAULTS.hashes, (n) => n >= 1 && n <= 8, 'from 1 to 8');
  if ('problem' in hashes) return hashes;
  const maxLength = integer(
    raw,
    'maxLength',
    get('maxLength'),
    MATCH_DEFAULTS.maxLength,
    (n) => n >= 1 && n <= 1_000_000,
    'from 1 to 1000000',
  );
  if ('problem' in maxLength) return maxLength;
  const normalize = get('normalize');
  // Only a per-code-point mapping keeps "x contains y" true after normalizing both, which the
  // candidate filter relies on; trim, NFKC and the rest do not.
  if (
    normalize !== undefined &&
    !(normalize.kind !== 'number' && ['lowercase', 'lowercase@1'].includes(normalize.text))
  )
    return { problem: messages.badMatchNormalizer(raw.name, normalize.text) };
  return {
    ok: {
      kind: 'matchIndex',
      source: source.ok,
      tokens: tokens.ok,
      bits: size.ok,
      hashes: hashes.ok,
      fold: normalize === undefined ? 'none' : 'case',
      maxLength: maxLength.ok,
    },
  };
}

function pfeHash(raw: RawAnnotation): Checked<BlindIndexAnnotation> {
  const args: readonly RawArgument[] = raw.args ?? [];
  if (args.length !== 1 || args[0].key !== null) return { problem: messages.hashNeedsSource(raw.name) };
  const source = fieldName(raw, 'source', args[0].value);
  if ('problem' in source) return source;
  const list: string[] = [];
  for (const { key, value } of raw.query ?? []) {
    if (key !== 'normalize' && !IGNORED_PFE_HASH_OPTIONS.includes(key)) {
      return { problem: messages.unknownOption(raw.name, key, ['normalize', ...IGNORED_PFE_HASH_OPTIONS]) };
    }
    if (value === null) return { problem: messages.optionNeedsValue(raw.name, key) };
    if (key === 'normalize') list.push(value);
  }
  const normalize = normalizers(raw, list);
  if ('problem' in normalize) return normalize;
  return { ok: { kind: 'blindIndex', source: source.ok, normalize: normalize.ok, bits: DEFAULT_BITS } };
}

function encryptionOf(raw: RawAnnotation): Checked<ModelAnnotation> {
  const query = noQuery(raw);
  if (query) return { problem: query };
  const args = namedArgs(raw, ['scope', 'bind']);
  if ('problem' in args) return args;
  if (args.ok.size === 0) return { problem: messages.encryptionNeedsArgument() };
  const named: { scope?: string; bind?: string } = {};
  for (const arg of ['scope', 'bind'] as const) {
    if (!args.ok.has(arg)) continue;
    const field = fieldName(raw, arg, args.ok.get(arg));
    if ('problem' in field) return field;
    named[arg] = field.ok;
  }
  return { ok: { kind: 'model', ...named } };
}

function cursor(raw: RawAnnotation): Checked<CursorAnnotation> {
  if (raw.args !== null || raw.query !== null) return { problem: messages.takesNoArguments(raw.name) };
  return { ok: { kind: 'cursor' } };
}

function interpret(raw: RawAnnotation, level: 'model' | 'field'): Checked<Annotation> {
  const modelLevel = raw.name === 'encryption';
  if (modelLevel !== (level === 'model')) return { problem: messages.wrongLevel(raw.name, level) };
  switch (raw.name) {
    case 'encrypted':
      return encrypted(raw);
    case 'blindIndex':
      return blindIndex(raw);
    case 'matchIndex':
      return matchIndex(raw);
    case 'encryption:hash':
      return pfeHash(raw);
    case 'encryption:cursor':
      return cursor(raw);
    default:
      return encryptionOf(raw);
  }
}

/**
 * Reads the annotations of one model's or one field's documentation.
 * @returns the typed annotations, and one message per problem (unknown or misspelled names,
 *   unknown arguments, bad values, syntax errors, annotations at the wrong level).
 */
export function parseAnnotations(documentation: string | undefined, level: 'model' | 'field'): ParsedAnnotations {
  const { annotations: raws, problems: tokenProblems } = tokenize(documentation, classifyName);
  const problems = tokenProblems.map((p) =>
    p.reason === 'lookalike'
      ? messages.unknownAnnotation(p.name, closestName(p.name))
      : messages.malformed(p.name, p.detail),
  );
  const annotations: Annotation[] = [];
  for (const raw of raws) {
    const checked = interpret(raw, level);
    if ('problem' in checked) problems.push(checked.problem);
    else annotations.push(checked.ok);
  }
  return { annotations, problems };
}
