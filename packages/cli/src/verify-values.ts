/**
 * Decrypting stored values to verify them (`status --verify`, `doctor`), counted by value: a
 * list field's value is one value of several decrypt items, unreadable when any of them is.
 * No plaintext is kept.
 */
import { Buffer } from 'node:buffer';
import type { DecryptItem, FieldCrypto } from '@hushfield/core';
import { unboundItems } from '@hushfield/prisma';

/** A stored value to verify: its decrypt items (one, or a list's elements). */
export interface ValueItems {
  readonly items: readonly DecryptItem[];
}

const opened = (result: unknown): boolean => typeof result === 'string' || Buffer.isBuffer(result);

/**
 * Decrypts every value's items in one call.
 * @returns per value, the failure of its first item that did not open, or `undefined` when all did
 */
export async function valueFailures(crypto: FieldCrypto, values: readonly ValueItems[]): Promise<unknown[]> {
  if (values.length === 0) return [];
  const results = await crypto.decryptMany(values.flatMap(({ items }) => items));
  let at = 0;
  return values.map(({ items }) => results.slice(at, (at += items.length)).find((result) => !opened(result)));
}

/**
 * Of values of a bound model that failed, which open without the binding (sealed before the
 * model named its bound field).
 */
export async function opensUnbound(crypto: FieldCrypto, values: readonly ValueItems[]): Promise<boolean[]> {
  if (values.length === 0) return [];
  const results = await crypto.decryptMany(values.flatMap(({ items }) => unboundItems(items)));
  let at = 0;
  return values.map(({ items }) => results.slice(at, (at += items.length)).every(opened));
}
