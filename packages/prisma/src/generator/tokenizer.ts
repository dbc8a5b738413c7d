/**
 * A small hand-written tokenizer for the annotations in Prisma `///` documentation comments.
 * It only finds and splits annotations; what they mean is decided in `annotations.ts`.
 *
 * Grammar, one line at a time (an annotation never spans lines):
 * ```
 * annotation := '@' NAME [ '(' [ arg (',' arg)* [','] ] ')' ] [ '?' pair ('&' pair)* ]
 * arg        := [ IDENT ':' ] value
 * value      := IDENT | NUMBER | STRING            STRING is "..." or '...', \" and \\ escapes
 * pair       := KEY [ '=' VALUE ]                   URL-query style (prisma-field-encryption)
 * ```
 * An `@` starts an annotation only at the start of a line or after whitespace, so e-mail
 * addresses in ordinary prose are not annotations; one of ours glued to punctuation
 * (`(@encrypted)`, `` `@encrypted` ``), or a misspelling of one, is reported rather than
 * skipped (a handle such as `"@matchmaker"` is prose). Names the caller does not claim (`@see`,
 * `@deprecated`) are skipped with the rest of their line's prose.
 */
import { isNearName } from './annotation-names';

/** A scalar value written inside an annotation's parentheses. */
export interface RawValue {
  readonly kind: 'identifier' | 'number' | 'string';
  readonly text: string;
}

/** One argument: `key: value`, or a bare `value` (positional). */
export interface RawArgument {
  readonly key: string | null;
  readonly value: RawValue;
}

/** One `key=value` (or bare `key`) pair of a `?query` suffix. */
export interface RawQueryPair {
  readonly key: string;
  readonly value: string | null;
}

/** An annotation as written, before interpretation. */
export interface RawAnnotation {
  readonly name: string;
  /** `null` when written without parentheses. */
  readonly args: readonly RawArgument[] | null;
  /** `null` when written without a `?query` suffix. */
  readonly query: readonly RawQueryPair[] | null;
  /** The annotation's source text, for messages. */
  readonly text: string;
}

/** How the caller classifies an annotation name. */
export type NameClass = 'ours' | 'lookalike' | 'foreign';

/** An annotation that could not be read: a lookalike name, or a syntax error in one of ours. */
export interface TokenizeProblem {
  readonly name: string;
  readonly reason: 'lookalike' | 'syntax';
  /** For `syntax`: what is wrong and where. */
  readonly detail: string;
}

/** What {@link tokenize} found: annotations it could read, and problems with the rest. */
export interface TokenizeResult {
  readonly annotations: RawAnnotation[];
  readonly problems: TokenizeProblem[];
}

const MAX_DOCUMENTATION_LENGTH = 64 * 1024;

const isSpace = (c: string): boolean => /^\s$/u.test(c);
/** Characters of an e-mail address's local part or a URL before its `@`: such an `@` is not an annotation. */
const isAddressPart = (c: string): boolean => /^[\p{L}\p{N}._%+\-/:]$/u.test(c);
const isIdentStart = (c: string): boolean => /^[A-Za-z_]$/.test(c);
const isIdentPart = (c: string): boolean => /^[A-Za-z0-9_-]$/.test(c);
const isNamePart = (c: string): boolean => /^[A-Za-z0-9_:]$/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Thrown inside the scanner only; converted into an error string per annotation. */
class SyntaxProblem {
  constructor(readonly message: string) {}
}

/** A cursor over one line. */
class LineScanner {
  pos = 0;
  constructor(readonly line: string) {}

  peek(): string {
    return this.line[this.pos] ?? '';
  }
  atEnd(): boolean {
    return this.pos >= this.line.length;
  }
  skipSpaces(): void {
    while (!this.atEnd() && isSpace(this.peek())) this.pos++;
  }
  take(predicate: (c: string) => boolean): string {
    const start = this.pos;
    while (!this.atEnd() && predicate(this.peek())) this.pos++;
    return this.line.slice(start, this.pos);
  }
  expect(c: string, what: string): void {
    if (this.peek() !== c) throw new SyntaxProblem(`expected ${what}${this.found()}`);
    this.pos++;
  }
  found(): string {
    return this.atEnd() ? ' but the line ended' : ` but found "${this.peek()}"`;
  }
}

function readValue(s: LineScanner): RawValue {
  const c = s.peek();
  if (c === '"' || c === "'") {
    s.pos++;
    let text = '';
    for (;;) {
      if (s.atEnd()) throw new SyntaxProblem(`unterminated string (missing closing ${c})`);
      const ch = s.peek();
      s.pos++;
      if (ch === c) break;
      if (ch === '\\') {
        const next = s.peek();
        if (next !== c && next !== '\\') throw new SyntaxProblem('only \\" and \\\\ escapes are allowed in strings');
        text += next;
        s.pos++;
      } else {
        text += ch;
      }
    }
    return { kind: 'string', text };
  }
  if (isDigit(c) || (c === '-' && isDigit(s.line[s.pos + 1] ?? ''))) {
    const sign = c === '-' ? (s.pos++, '-') : '';
    const digits = s.take(isDigit);
    if (isIdentPart(s.peek())) throw new SyntaxProblem(`malformed number "${sign}${digits}${s.peek()}"`);
    return { kind: 'number', text: sign + digits };
  }
  if (isIdentStart(c)) return { kind: 'identifier', text: s.take(isIdentPart) };
  throw new SyntaxProblem(`expected a value (a name, a number or a quoted string)${s.found()}`);
}

function readArguments(s: LineScanner): RawArgument[] {
  s.expect('(', '"("');
  const args: RawArgument[] = [];
  s.skipSpaces();
  while (s.peek() !== ')') {
    const value = readValue(s);
    s.skipSpaces();
    if (s.peek() === ':') {
      if (value.kind !== 'identifier')
        throw new SyntaxProblem(`an argument name must be a plain name, not ${value.kind} "${value.text}"`);
      s.pos++;
      s.skipSpaces();
      args.push({ key: value.text, value: readValue(s) });
      s.skipSpaces();
    } else {
      args.push({ key: null, value });
    }
    if (s.peek() === ',') {
      s.pos++;
      s.skipSpaces();
    } else if (s.peek() !== ')') {
      throw new SyntaxProblem(`expected "," or ")" after an argument${s.found()}`);
    }
  }
  s.pos++;
  return args;
}

function readQuery(s: LineScanner): RawQueryPair[] {
  s.expect('?', '"?"');
  const pairs: RawQueryPair[] = [];
  for (;;) {
    const key = s.take((c) => isIdentPart(c));
    if (!key) throw new SyntaxProblem(`expected an option name after "${s.line[s.pos - 1]}"${s.found()}`);
    let value: string | null = null;
    if (s.peek() === '=') {
      s.pos++;
      value = s.take((c) => !isSpace(c) && c !== '&');
      if (!value) throw new SyntaxProblem(`option "${key}" has "=" but no value`);
    }
    pairs.push({ key, value });
    if (s.peek() !== '&') return pairs;
    s.pos++;
  }
}

/**
 * Finds the annotations in one field's or model's documentation.
 * @param documentation the DMMF `documentation` string (`///` lines joined by newlines).
 * @param classify decides whether a name is ours (parsed strictly), a lookalike of ours
 *   (reported as an error) or foreign prose (skipped).
 */
export function tokenize(documentation: string | undefined, classify: (name: string) => NameClass): TokenizeResult {
  const annotations: RawAnnotation[] = [];
  const problems: TokenizeProblem[] = [];
  if (!documentation) return { annotations, problems };
  if (documentation.length > MAX_DOCUMENTATION_LENGTH) {
    const detail = `documentation comment longer than ${MAX_DOCUMENTATION_LENGTH} characters`;
    return { annotations, problems: [{ name: '', reason: 'syntax', detail }] };
  }
  for (const line of documentation.split('\n')) {
    const s = new LineScanner(line);
    while (!s.atEnd()) {
      const c = s.peek();
      const startsWord = s.pos === 0 || isSpace(line[s.pos - 1]);
      // After punctuation (`(@encrypted)`, a code span) an `@` is no address: one of ours is reported.
      const glued = !startsWord && !isAddressPart(line[s.pos - 1]);
      if (c !== '@' || !(startsWord || glued)) {
        s.pos++;
        continue;
      }
      const start = s.pos;
      s.pos++;
      const name = s.take(isNamePart);
      const kind = name ? classify(name) : 'foreign';
      if (kind === 'foreign') continue;
      // A handle in prose (`"@matchmaker"`, `(@cryptopunks)`): only ours or a misspelling of one is reported.
      if (glued && kind === 'lookalike' && !isNearName(name)) continue;
      if (glued) {
        const detail = `write it at the start of a line or after a space, not after "${line[start - 1]}"`;
        problems.push({ name, reason: 'syntax', detail: `${detail} in "${line.slice(start).trim()}"` });
        s.take((ch) => !isSpace(ch));
        continue;
      }
      if (kind === 'lookalike') {
        problems.push({ name, reason: 'lookalike', detail: '' });
        s.take((ch) => !isSpace(ch));
        continue;
      }
      try {
        const args = s.peek() === '(' ? readArguments(s) : null;
        const query = s.peek() === '?' ? readQuery(s) : null;
        if (!s.atEnd() && !isSpace(s.peek())) {
          throw new SyntaxProblem(`unexpected "${s.peek()}" after the annotation`);
        }
        annotations.push({ name, args, query, text: line.slice(start, s.pos) });
      } catch (problem) {
        if (!(problem instanceof SyntaxProblem)) throw problem;
        problems.push({ name, reason: 'syntax', detail: `${problem.message} in "${line.slice(start).trim()}"` });
        s.pos = line.length;
      }
    }
  }
  return { annotations, problems };
}
