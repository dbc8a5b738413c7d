/**
 * The associated data AES-GCM authenticates with each wrapped DEK and each value: what binds
 * a value to its key version, model, field and row. Layouts are those of `encodeFields`
 * (length-prefixed, see length-prefixed.ts) and are part of the envelope format (envelope.ts).
 */
import { FORMAT_VERSION } from './envelope';
import { encodeFields } from './length-prefixed';

/**
 * Associated data depends on a few names per (key, model, field) and on the row id, yet is
 * needed for every value: the part before the row id is encoded once and cached. The caches
 * hold names only (nothing secret) and are bounded: when full they start over.
 */
const AD_CACHE_MAX = 1024;
const dekAads = new Map<string, Buffer>();
/** model → field → key id → key version → prefix: lookups of existing strings, no id to build. */
const valuePrefixes = new Map<string, Map<string, Map<string, Map<number, Buffer>>>>();
let valuePrefixCount = 0;

function remember(cache: Map<string, Buffer>, id: string, value: Buffer): Buffer {
  if (cache.size >= AD_CACHE_MAX) cache.clear();
  cache.set(id, value);
  return value;
}

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
  // Lengths first, so no two (keyId, version) pairs share an id whatever their characters.
  const id = `${keyId.length}$${keyId}${version}`;
  const aad =
    dekAads.get(id) ??
    remember(dekAads, id, encodeFields([{ u8: FORMAT_VERSION }, 'hushfield/dek', keyId, { u32: version }]));
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
 * Associated data of a value: format version, model, field, key id, key version and, when
 * given, the row id (with a presence byte, so "no row id" and "empty row id" differ):
 * `u8(1) ‖ lp("hushfield/value") ‖ lp(model) ‖ lp(field) ‖ lp(keyId) ‖ u32(version) ‖
 * (u8(0) | u8(1) ‖ lp(rowId))`, the layout of `encodeFields`. Runs once per value, so the part
 * before the row id comes from a cache and only the row id is written.
 * @returns a new buffer
 */
export function valueAad(
  keyId: string,
  version: number,
  model: string,
  field: string,
  rowId: string | undefined,
): Buffer {
  const prefix = valueAadPrefix(keyId, version, model, field);
  const at = prefix.length;
  if (rowId === undefined) {
    const out = Buffer.allocUnsafe(at + 1);
    prefix.copy(out, 0);
    out[at] = 0;
    return out;
  }
  const rowBytes = Buffer.byteLength(rowId, 'utf8');
  const out = Buffer.allocUnsafe(at + 5 + rowBytes);
  prefix.copy(out, 0);
  out[at] = 1;
  out.writeUInt32BE(rowBytes, at + 1);
  out.write(rowId, at + 5, rowBytes, 'utf8');
  return out;
}
