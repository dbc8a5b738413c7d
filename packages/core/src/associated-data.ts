/**
 * The associated data AES-GCM authenticates with each wrapped DEK and each value: what binds
 * a value to its key version, model, field and row. Layouts are those of `encodeFields`
 * (length-prefixed, see length-prefixed.ts) and are part of the envelope format (envelope.ts).
 */
import { Buffer } from 'node:buffer';
import { FORMAT_VERSION } from './envelope';
import { encodeFields } from './length-prefixed';

/**
 * Associated data depends on a few names per (key, model, field) and on the row id, yet is
 * needed for every value: the part before the row id is encoded once and cached. The caches
 * hold names only (nothing secret) and are bounded: when full they start over.
 */
const AD_CACHE_MAX = 1024;
/** key id → key version → DEK associated data. */
const dekAads = new Map<string, Map<number, Buffer>>();
let dekAadCount = 0;
/** model → field → key id → key version → prefix: lookups of existing strings, no id to build. */
const valuePrefixes = new Map<string, Map<string, Map<string, Map<number, Buffer>>>>();
let valuePrefixCount = 0;

function child<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/** The last DEK associated data returned: a batch's rows mostly share one scope key version. */
let lastDekKeyId = '';
let lastDekVersion = -1;
let lastDekAad: Buffer = Buffer.alloc(0);

/**
 * Associated data of a wrapped DEK: binds it to the scope key id and version,
 * `u8(1) ‖ lp("hushfield/dek") ‖ lp(keyId) ‖ u32(version)`.
 * @returns a buffer shared by every caller: pass it to the cipher, never modify it
 */
export function dekAad(keyId: string, version: number): Buffer {
  if (version === lastDekVersion && keyId === lastDekKeyId) return lastDekAad;
  // Looked up by the strings and numbers the caller holds: no id is built per row.
  let aad = dekAads.get(keyId)?.get(version);
  if (aad === undefined) {
    if (dekAadCount >= AD_CACHE_MAX) {
      dekAads.clear();
      dekAadCount = 0;
    }
    aad = encodeFields([{ u8: FORMAT_VERSION }, 'hushfield/dek', keyId, { u32: version }]);
    child(dekAads, keyId, () => new Map<number, Buffer>()).set(version, aad);
    dekAadCount++;
  }
  lastDekKeyId = keyId;
  lastDekVersion = version;
  lastDekAad = aad;
  return aad;
}

const VALUE_LABEL = 'hushfield/value';

/** `u8(1) ‖ lp("hushfield/value") ‖ lp(model) ‖ lp(field) ‖ lp(keyId) ‖ u32(version)`, cached. */
function valueAadPrefix(keyId: string, version: number, model: string, field: string): Buffer {
  const cached = valuePrefixes.get(model)?.get(field)?.get(keyId)?.get(version);
  if (cached !== undefined) return cached;
  if (valuePrefixCount >= AD_CACHE_MAX) {
    valuePrefixes.clear();
    valuePrefixCount = 0;
  }
  const byVersion = child(
    child(
      child(valuePrefixes, model, () => new Map()),
      field,
      () => new Map(),
    ),
    keyId,
    () => new Map<number, Buffer>(),
  );
  const prefix = encodeFields([{ u8: FORMAT_VERSION }, VALUE_LABEL, model, field, keyId, { u32: version }]);
  byVersion.set(version, prefix);
  valuePrefixCount++;
  return prefix;
}

/**
 * What a value's plaintext is, beyond the UTF-8 text of a `String` field (which has no tag):
 * a serialized JSON value (`json`), raw bytes (`bytes`), or one element of a string list
 * (`list`, with its position and the list's length).
 */
export type ValueKind = 'json' | 'bytes' | 'list';

/** The type tag of a value, as {@link valueAad} binds it. */
export interface ValueType {
  readonly kind?: ValueKind;
  /** For `list`: the element's position, from 0. */
  readonly index?: number;
  /** For `list`: how many elements the list holds. */
  readonly count?: number;
}

/** The byte each kind is tagged with in the associated data. */
export const KIND_TAGS: Readonly<Record<ValueKind, number>> = { json: 1, bytes: 2, list: 3 };

/** Text of U+0000–U+007F only, whose UTF-8 is its Latin-1. */
// eslint-disable-next-line no-control-regex -- the range starts at U+0000 on purpose
const ASCII = /^[\x00-\x7f]*$/;

/** A view of `scratch` of `length` bytes when it is large enough, else a new buffer. */
function into(scratch: Buffer | undefined, length: number): Buffer {
  return scratch !== undefined && scratch.length >= length ? scratch.subarray(0, length) : Buffer.allocUnsafe(length);
}

/** Bytes the type tag adds after the row id: none for text, the kind, and for a list element u32 index ‖ u32 count. */
function typeTagLength(type: ValueType | undefined): number {
  const kind = type?.kind;
  if (kind === undefined) return 0;
  return kind === 'list' ? 9 : 1;
}

/**
 * Associated data of a value: format version, model, field, key id, key version and, when
 * given, the row id (with a presence byte, so "no row id" and "empty row id" differ):
 * `u8(1) ‖ lp("hushfield/value") ‖ lp(model) ‖ lp(field) ‖ lp(keyId) ‖ u32(version) ‖
 * (u8(0) | u8(1) ‖ lp(rowId))`, the layout of `encodeFields`; then, for a value that is not
 * `String` text, its type tag: `u8(kind)` (1 json, 2 bytes) or, for the element of a string
 * list, `u8(3) ‖ u32(index) ‖ u32(count)`. Text values carry no tag (the format-1 layout is
 * unchanged); since the row-id part is self-delimiting, a tagged layout never equals an untagged
 * one, and tags of different kinds, positions or lengths differ. Runs once per value, so the part
 * before the row id comes from a cache and only the row id (and tag) is written.
 * @param scratch - when given and large enough, the associated data is written into it (a batch
 *   that passes it to the cipher at once reuses one buffer instead of allocating one per value)
 * @returns a new buffer, or a view of `scratch` valid until it is written again
 */
export function valueAad(
  keyId: string,
  version: number,
  model: string,
  field: string,
  rowId: string | undefined,
  type?: ValueType,
  scratch?: Buffer,
): Buffer {
  const prefix = valueAadPrefix(keyId, version, model, field);
  const at = prefix.length;
  const tag = typeTagLength(type);
  let out: Buffer;
  let end: number;
  if (rowId === undefined) {
    out = into(scratch, at + 1 + tag);
    prefix.copy(out, 0);
    out[at] = 0;
    end = at + 1;
  } else {
    const rowBytes = rowId.length <= 255 && ASCII.test(rowId) ? rowId.length : Buffer.byteLength(rowId, 'utf8');
    out = into(scratch, at + 5 + rowBytes + tag);
    prefix.copy(out, 0);
    out[at] = 1;
    out.writeUInt32BE(rowBytes, at + 1);
    if (rowBytes === rowId.length) out.write(rowId, at + 5, rowBytes, 'latin1');
    else out.write(rowId, at + 5, rowBytes, 'utf8');
    end = at + 5 + rowBytes;
  }
  if (tag > 0) {
    const kind = type!.kind!;
    out[end] = KIND_TAGS[kind];
    if (kind === 'list') {
      out.writeUInt32BE(type!.index!, end + 1);
      out.writeUInt32BE(type!.count!, end + 5);
    }
  }
  return out;
}
