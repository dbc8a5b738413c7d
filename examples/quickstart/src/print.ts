/**
 * Console output for the demo: numbered steps, aligned tables, shortened ciphertext.
 * Colour only on a terminal (and never when NO_COLOR is set), so logs and tests read plain text.
 */
const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: string) => (text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Dim, bold, green and red text. */
export const dim = paint('2');
export const bold = paint('1');
export const green = paint('32');
export const red = paint('31');

let stepNumber = 0;

/** Prints a numbered step heading. */
export function step(title: string): void {
  stepNumber += 1;
  console.log(`\n${bold(`── Step ${stepNumber}. ${title}`)}`);
}

/** Prints an indented line. */
export function say(text = ''): void {
  console.log(text === '' ? '' : `   ${text}`);
}

/** Shortens a long stored value to its head and tail, so tables stay readable. */
export function short(value: string | null | undefined, width = 44): string {
  if (value === null || value === undefined) return 'NULL';
  if (value.length <= width) return value;
  const head = Math.ceil((width - 1) * 0.7);
  return `${value.slice(0, head)}…${value.slice(value.length - (width - 1 - head))}`;
}

/** Prints rows as an aligned table with a header line. */
export function table(rows: readonly Record<string, string | number>[]): void {
  if (rows.length === 0) {
    say(dim('(no rows)'));
    return;
  }
  const columns = Object.keys(rows[0]);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) =>
    say(
      cells
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  line(columns);
  line(widths.map((w) => '─'.repeat(w)));
  for (const row of rows) line(columns.map((c) => String(row[c])));
}

/** Prints a dimmed explanatory note, wrapped to fit a terminal. */
export function note(text: string, width = 96): void {
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      say(dim(line));
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') say(dim(line));
}
