/**
 * The names of our annotations, and how the tokenizer tells another name apart: a lookalike of
 * ours (a typo that must not be silently ignored, reported with the closest name) or someone
 * else's (`@see`, `@deprecated`...), left alone.
 */
import type { NameClass } from './tokenizer';

/** Every annotation name we read, as written. */
export const ANNOTATION_NAMES = [
  'encrypted',
  'blindIndex',
  'matchIndex',
  'encryption',
  'encryption:hash',
  'encryption:cursor',
] as const;

/** Optimal-string-alignment distance (edits and adjacent transpositions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name closest to `name`. */
export function closestName(name: string): string {
  let best: string = ANNOTATION_NAMES[0];
  for (const known of ANNOTATION_NAMES) {
    if (editDistance(name.toLowerCase(), known.toLowerCase()) < editDistance(name.toLowerCase(), best.toLowerCase()))
      best = known;
  }
  return best;
}

/** Whether `name` is within two edits (any case) of one of ours: a misspelling rather than another word. */
export function isNearName(name: string): boolean {
  const lower = name.toLowerCase();
  return ANNOTATION_NAMES.some((known) => editDistance(lower, known.toLowerCase()) <= 2);
}

/**
 * Ours, a lookalike of ours (a typo that must not be silently ignored), or someone else's
 * (`@see`, `@deprecated`, `@namespace`...).
 */
export function classifyName(name: string): NameClass {
  if ((ANNOTATION_NAMES as readonly string[]).includes(name)) return 'ours';
  const lower = name.toLowerCase();
  if (
    lower.startsWith('encr') ||
    lower.includes('crypt') ||
    lower.startsWith('blind') ||
    lower.startsWith('match') ||
    lower.startsWith('hushfield')
  ) {
    return 'lookalike';
  }
  return isNearName(name) ? 'lookalike' : 'foreign';
}
