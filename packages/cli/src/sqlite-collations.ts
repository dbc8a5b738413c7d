/**
 * The collation each column of a SQLite table compares by. SQLite reports no column's collation
 * (`PRAGMA table_info` has none), so it is read from the `COLLATE` clause of the column's
 * declaration in the table's `CREATE TABLE` text, as `sqlite_master` keeps it; an index may name
 * another for its own comparisons (`PRAGMA index_xinfo`), which a unique index then enforces.
 */

/** A token of SQL text: a word or quoted identifier (unquoted), or one punctuation character. */
interface Token {
  readonly text: string;
  /** A bare word (a keyword or unquoted name), as opposed to a quoted identifier or string. */
  readonly word: boolean;
}

const CLOSING: Readonly<Record<string, string>> = { '"': '"', '`': '`', '[': ']', "'": "'" };

/** Splits `sql` into tokens, dropping comments and white space. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    if (/\s/.test(char)) i += 1;
    else if (sql.startsWith('--', i)) i = sql.indexOf('\n', i) < 0 ? sql.length : sql.indexOf('\n', i);
    else if (sql.startsWith('/*', i)) i = sql.indexOf('*/', i) < 0 ? sql.length : sql.indexOf('*/', i) + 2;
    else if (CLOSING[char] !== undefined) {
      const close = CLOSING[char];
      let text = '';
      let j = i + 1;
      for (; j < sql.length; j += 1) {
        if (sql[j] !== close) text += sql[j];
        else if (close !== ']' && sql[j + 1] === close) text += sql[(j += 1)];
        else break;
      }
      tokens.push({ text, word: false });
      i = j + 1;
    } else if (/[\w$]/.test(char)) {
      let j = i;
      while (j < sql.length && /[\w$]/.test(sql[j] as string)) j += 1;
      tokens.push({ text: sql.slice(i, j), word: true });
      i = j;
    } else {
      tokens.push({ text: char, word: false });
      i += 1;
    }
  }
  return tokens;
}

/** Words that open a table constraint rather than a column definition. */
const CONSTRAINTS = new Set(['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN']);

/**
 * The collation each column of `createTable` (a `CREATE TABLE` statement) declares, upper case,
 * keyed by column name (the last, where it names several, as SQLite takes it); a column without
 * a `COLLATE` clause is absent (it compares `BINARY`).
 * @example declaredCollations('CREATE TABLE "t" ("a" TEXT COLLATE NOCASE, "b" TEXT)') // Map { 'a' => 'NOCASE' }
 */
export function declaredCollations(createTable: string): Map<string, string> {
  const tokens = tokenize(createTable);
  const open = tokens.findIndex((token) => token.text === '(' && !token.word);
  const collations = new Map<string, string>();
  let depth = 0;
  let definition: Token[] = [];
  const finish = () => {
    const [name] = definition;
    if (name !== undefined && !(name.word && CONSTRAINTS.has(name.text.toUpperCase()))) {
      // SQLite compares by the last of several COLLATE clauses.
      let at = -1;
      definition.forEach((token, index) => {
        if (index > 0 && token.word && token.text.toUpperCase() === 'COLLATE') at = index;
      });
      const collation = at < 0 ? undefined : definition[at + 1];
      if (collation !== undefined) collations.set(name.text, collation.text.toUpperCase());
    }
    definition = [];
  };
  for (const token of open < 0 ? [] : tokens.slice(open + 1)) {
    if (!token.word && token.text === '(') depth += 1;
    if (!token.word && token.text === ')') {
      if (depth === 0) break;
      depth -= 1;
    }
    // Only the definition's own words: a COLLATE inside a CHECK (...) or DEFAULT (...) is not the column's.
    if (depth === 0 && !token.word && token.text === ',') finish();
    else if (depth === 0) definition.push(token);
  }
  finish();
  return collations;
}
