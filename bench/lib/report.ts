/**
 * What a benchmark returns and how it becomes Markdown: a section per benchmark, holding
 * tables and notes. Number formatting lives here so every table reads alike.
 */

/** One Markdown table. */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Lines printed under the table (how to read it, what was extrapolated). */
  readonly notes?: readonly string[];
}

/** A verdict against one of DESIGN.md's performance targets. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** `null` when the benchmark could not measure it. */
  readonly met: boolean | null;
}

/** Everything one benchmark reports. */
export interface Section {
  /** `crypto`, `prisma`, `kms`, `migrator`: also the name on the command line. */
  readonly id: string;
  readonly title: string;
  /** The command that reproduces this section alone. */
  readonly command: string;
  readonly intro?: string;
  readonly tables: readonly Table[];
  readonly targets: readonly TargetCheck[];
  readonly notes?: readonly string[];
  /** Wall time of the whole benchmark, seconds. */
  readonly seconds?: number;
  /** When it finished (ISO 8601, UTC, whole seconds); set by the runner. */
  readonly finishedAt?: string;
}

/** A section for a benchmark that could not run, saying why. */
export function notRun(id: string, title: string, command: string, why: string): Section {
  return { id, title, command, intro: `**Not run: ${why}**`, tables: [], targets: [] };
}

/** Renders a table as GitHub-flavoured Markdown. */
export function renderTable(table: Table): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const lines = [
    `**${table.title}**`,
    '',
    `| ${table.columns.map(escape).join(' | ')} |`,
    `|${table.columns.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  if (table.notes?.length) lines.push('', ...table.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

/** A verdict as a short mark. */
export function verdict(met: boolean | null): string {
  if (met === null) return 'not measured';
  return met ? 'met' : '**missed**';
}

/** Renders a whole section, without the surrounding markers. */
export function renderSection(section: Section): string {
  const parts = [`## ${section.title}`, '', `Command: \`${section.command}\``];
  if (section.seconds !== undefined) parts[2] += ` (took ${section.seconds.toFixed(0)} s)`;
  if (section.intro) parts.push('', section.intro);
  for (const table of section.tables) parts.push('', renderTable(table));
  if (section.targets.length) {
    parts.push(
      '',
      renderTable({
        title: 'Targets (DESIGN.md)',
        columns: ['target', 'measured', 'verdict'],
        rows: section.targets.map((t) => [t.target, t.measured, verdict(t.met)]),
      }),
    );
  }
  if (section.notes?.length) parts.push('', ...section.notes.map((note) => `- ${note}`));
  return parts.join('\n');
}

/** Milliseconds with sensible precision. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

/** Microseconds (input in microseconds). */
export function us(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1000) return `${(value / 1000).toFixed(2)} ms`;
  if (value >= 100) return `${value.toFixed(0)} µs`;
  return `${value.toFixed(1)} µs`;
}

/** A ratio as `1.23×`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
}

/**
 * Ratios of several runs (rounds) as their median with the range, `1.23× (1.10–1.40×)`, so a
 * reader can tell a miss from noise.
 */
export function ratioRange(values: readonly number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  if (sorted.length === 1) return ratio(median);
  return `${ratio(median)} (${sorted[0].toFixed(2)}–${ratio(sorted[sorted.length - 1])})`;
}

/** An integer with thousands separators. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Bytes as KiB/MiB. */
export function bytes(value: number): string {
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${value} B`;
}
