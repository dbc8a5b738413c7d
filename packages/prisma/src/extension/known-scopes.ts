/**
 * The scope of rows this client recently wrote or read (row id → scope value, per model), so
 * that an `update` whose where names only the id need not read the row's scope first.
 *
 * A hint, never trusted: the update is sent with the remembered scope added to its where, so
 * it only matches while the row still has that scope, and the row it returns is checked (see
 * `given-context.ts`). When the row moved to another scope (or was deleted), Prisma reports
 * no record (P2025): the hint is dropped and the update runs again the usual way, reading the
 * row first. Bounded: the oldest entries go first. Holds ids and scope values only, which are
 * stored in plaintext in the database anyway. Both are kept exactly as the database returned
them, so a where built from them matches the row exactly, whatever the column's collation.
 */
import type { ModelMeta } from '../metadata';

/** How many rows are remembered at most. */
export const KNOWN_SCOPES_MAX = 10_000;

/**
 * A scope value as the database returned it: a non-empty string or a safe integer (an `Int`
 * scope column must be compared with a number in a where), else `undefined`.
 */
export type ScopeValue = string | number;

/** `value` as a {@link ScopeValue} (also the row-id forms a where can name exactly), or `undefined`. */
export function scopeValue(value: unknown): ScopeValue | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return undefined;
}

/** Recently seen (model, row id) → scope value, exactly as the database returned both. */
export class KnownScopes {
  private readonly byRow = new Map<string, ScopeValue>();

  constructor(private readonly max: number = KNOWN_SCOPES_MAX) {}

  /** Remembers that row `rowId` of `model` has scope `scope`. */
  remember(model: ModelMeta, rowId: string, scope: ScopeValue): void {
    const key = `${model.name}\u0000${rowId}`;
    this.byRow.delete(key); // re-inserted as the newest
    this.byRow.set(key, scope);
    if (this.byRow.size > this.max) this.byRow.delete(this.byRow.keys().next().value as string);
  }

  /** The scope value last seen for the row, if remembered. */
  recall(model: ModelMeta, rowId: string): ScopeValue | undefined {
    return this.byRow.get(`${model.name}\u0000${rowId}`);
  }

  /** Drops what is remembered of the row. */
  forget(model: ModelMeta, rowId: string): void {
    this.byRow.delete(`${model.name}\u0000${rowId}`);
  }
}
