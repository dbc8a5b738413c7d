/**
 * Bookkeeping of the scope keys one `FieldCrypto.decryptMany` call uses: the call's own copy of
 * each (zeroed when the call ends), and, when some are neither held nor cached, which values
 * wait for them and which keys to resolve. Holds no plaintext; the caller zeroes the copies.
 */
import { binaryKeyOf } from './binary-envelope';
import { KEY_ID_START, keyPrefixLength, scopeKeyId, scopeKeyOf } from './envelope';
import { MISS } from './key-cache';

/** A scope key of one decryptMany call: its own copy (zeroed when the call ends) or why it could not be resolved. */
export interface ResolvedKey {
  readonly key?: Buffer;
  readonly error?: unknown;
  /** The scope the key belongs to, when known (see `KeyHierarchy.cachedScopeOf`). */
  readonly scope?: string;
}

/** Marks a scope key the first pass found neither held nor cached: resolved before the second. */
export const AWAITED: ResolvedKey = Object.freeze({});

/** A scope key version as one decrypt pass meets it: its id, and when its cached copy expires. */
export interface PassKey {
  /** The {@link scopeKeyId} of the version, built once per pass. */
  readonly id: string;
  /** `performance.now()` time at which the key cache drops the key, once asked. */
  expiresAt: number | undefined;
  /** The scope the key belongs to, once asked and known. */
  scope?: string;
}

/**
 * The scope key versions one decrypt pass meets, by key id and version: a row finds its
 * version's id and expiry with two map lookups of values it already holds, instead of
 * building and hashing an id string per row.
 */
export class PassKeys {
  readonly #byKeyId = new Map<string, Map<number, PassKey>>();

  /** The entry of (`keyId`, `version`), created on first use. */
  get(keyId: string, version: number): PassKey {
    let byVersion = this.#byKeyId.get(keyId);
    if (byVersion === undefined) {
      byVersion = new Map();
      this.#byKeyId.set(keyId, byVersion);
    }
    let entry = byVersion.get(version);
    if (entry === undefined) {
      entry = { id: scopeKeyId(keyId, version), expiresAt: undefined };
      byVersion.set(version, entry);
    }
    return entry;
  }
}

/** Values of a first decrypt pass left for the second, and the scope keys they need. */
export interface Waiting {
  readonly indexes: number[];
  /** Scope key version ids (`scopeKeyId` of envelope.ts). */
  readonly keys: Set<string>;
}

/**
 * Leaves `items[from..]` for the second pass and notes the scope keys they name that are
 * neither held nor cached, reading only each value's key prefix: the second pass parses and
 * checks every value, and a malformed one names no key here. `cachedCopy` returns a copy of a
 * cached key (the caller's to zero) with its scope, or `MISS`.
 */
export function noteKeys(
  items: readonly { value: unknown }[],
  from: number,
  waiting: Waiting,
  keys: Map<string, ResolvedKey>,
  cachedCopy: (keyId: string, version: number) => ResolvedKey | typeof MISS,
): void {
  let lastPrefix = '\u0000';
  for (let i = from; i < items.length; i++) {
    waiting.indexes.push(i);
    const value: unknown = items[i]?.value;
    let id: string;
    if (value instanceof Uint8Array) {
      const named = binaryKeyOf(value);
      if (named === null) continue;
      id = scopeKeyId(named.keyId, named.version);
    } else {
      // A row's fields share the prefix: the comparison is short and usually true.
      if (typeof value !== 'string' || value.startsWith(lastPrefix)) continue;
      const length = keyPrefixLength(value);
      if (length === 0) continue;
      lastPrefix = value.slice(0, length);
      id = value.slice(KEY_ID_START, length - 1);
    }
    if (keys.has(id)) continue;
    const { keyId, version } = scopeKeyOf(id);
    const copy = cachedCopy(keyId, version);
    if (copy !== MISS) keys.set(id, copy);
    else {
      keys.set(id, AWAITED);
      waiting.keys.add(id);
    }
  }
}

/**
 * The first pass's result when the value at `i` must wait for scope key `id` (its DEK is cached,
 * its key no longer is): it and every value after it are left for the second pass, with the
 * keys they need noted (see {@link noteKeys}).
 */
export function waitFor(
  items: readonly { value: unknown }[],
  i: number,
  id: string,
  keys: Map<string, ResolvedKey>,
  cachedCopy: (keyId: string, version: number) => ResolvedKey | typeof MISS,
): Waiting {
  const waiting: Waiting = { indexes: [i], keys: new Set() };
  if (!keys.has(id)) {
    keys.set(id, AWAITED);
    waiting.keys.add(id);
  }
  noteKeys(items, i + 1, waiting, keys, cachedCopy);
  return waiting;
}
