/**
 * The placeholder a caller writes into a blind-index column. Prisma's create types require
 * every required column, but a blind index is computed by hushfield from its source field
 * and any other value is refused; this constant satisfies the type and means "compute it".
 * It contains a NUL character, which PostgreSQL refuses to store in text: should it ever
 * reach the database the write fails rather than storing it.
 *
 * @example
 * prisma.user.create({ data: { email: 'ada@example.com', emailIdx: computedBlindIndex } });
 */
export const computedBlindIndex: string = '\u0000hushfield:computed-blind-index';

/** Whether a write value is the placeholder (plain or as `{ set }`). */
export function isComputedPlaceholder(value: unknown): boolean {
  if (value === computedBlindIndex) return true;
  return typeof value === 'object' && value !== null && (value as { set?: unknown }).set === computedBlindIndex;
}
