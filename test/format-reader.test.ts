/**
 * An independent reader of hushfield's stored formats, written from test/vectors/README.md
 * ("The hushfield formats") alone, with bare node:crypto and no hushfield import: if the
 * specification left something out, this reader would fail on the published vectors.
 */
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const vectors = JSON.parse(readFileSync(join(__dirname, 'vectors/hushfield-format-v1.json'), 'utf8'));
const hex = (text: string) => Buffer.from(text, 'hex');

// --- Conventions -----------------------------------------------------------------------------
const u8 = (n: number) => Buffer.of(n);
const u32 = (n: number) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
};
const lp = (text: string) => Buffer.concat([u32(Buffer.byteLength(text, 'utf8')), Buffer.from(text, 'utf8')]);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Canonical unpadded base64url, or null. */
function base64url(text: string): Buffer | null {
  if (text.length % 4 === 1) return null;
  for (const c of text) if (!ALPHABET.includes(c)) return null;
  const rest = text.length % 4;
  const last = ALPHABET.indexOf(text[text.length - 1] ?? 'A');
  if ((rest === 2 && (last & 0x0f) !== 0) || (rest === 3 && (last & 0x03) !== 0)) return null;
  return Buffer.from(text, 'base64url');
}

/** AES-256-GCM over `nonce (12) ‖ ciphertext ‖ tag (16)`, or null when it fails to authenticate. */
function open(key: Buffer, packed: Buffer, aad: Buffer): Buffer | null {
  if (packed.length < 28) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(packed.subarray(packed.length - 16));
  try {
    return Buffer.concat([decipher.update(packed.subarray(12, packed.length - 16)), decipher.final()]);
  } catch {
    return null;
  }
}

// --- Keys and the key store ------------------------------------------------------------------
function localKeyringAad(context: Record<string, string>): Buffer {
  const names = Object.keys(context).sort();
  return Buffer.concat([
    lp('hushfield/local-keyring/v1'),
    u32(names.length),
    ...names.flatMap((name) => [lp(name), lp(context[name])]),
  ]);
}

function unwrapLocal(
  rootKey: Buffer,
  row: { keyId: string; kind: string; scope: string; version: number; wrappedKey: string },
): Buffer | null {
  const wrapped = Buffer.from(row.wrappedKey, 'base64');
  if (wrapped.length !== 61 || wrapped[0] !== 0x01) return null;
  const purpose = row.kind === 'scope' ? 'hushfield/scope-key' : 'hushfield/index-key';
  return open(
    rootKey,
    wrapped.subarray(1),
    localKeyringAad({ purpose, keyId: row.keyId, scope: row.scope, version: String(row.version) }),
  );
}

// --- Envelope --------------------------------------------------------------------------------
const DECIMAL = /^[1-9][0-9]{0,9}$/;

/** Where a value is read: its table and column, the row id when bound, and a typed value's tag. */
interface ReadContext {
  model: string;
  field: string;
  rowId?: string;
  kind?: 'json' | 'bytes' | 'list';
  index?: number;
  count?: number;
}

/** The type tag `T` appended to the value associated data (none for String text). */
function typeTag(ctx: ReadContext): Buffer {
  if (ctx.kind === undefined) return Buffer.alloc(0);
  if (ctx.kind === 'list') return Buffer.concat([u8(3), u32(ctx.index!), u32(ctx.count!)]);
  return u8(ctx.kind === 'json' ? 1 : 2);
}

/** Unwraps the DEK and opens the sealed value; shared by the text and binary envelopes. */
function openValue(
  keyId: string,
  version: number,
  wrappedDek: Buffer,
  sealed: Buffer,
  ctx: ReadContext,
  scopeKeys: Map<string, Buffer>,
): Buffer | null {
  const scopeKey = scopeKeys.get(`${keyId}/${version}`);
  if (!scopeKey) return null;
  const dek = open(scopeKey, wrappedDek, Buffer.concat([u8(1), lp('hushfield/dek'), lp(keyId), u32(version)]));
  if (!dek || dek.length !== 32) return null;
  const row = ctx.rowId === undefined ? u8(0) : Buffer.concat([u8(1), lp(ctx.rowId)]);
  const aad = Buffer.concat([
    u8(1),
    lp('hushfield/value'),
    lp(ctx.model),
    lp(ctx.field),
    lp(keyId),
    u32(version),
    row,
    typeTag(ctx),
  ]);
  return open(dek, sealed, aad);
}

/** The binary envelope of a Bytes value: its bytes, or null. */
function readBinaryEnvelope(bytes: Buffer, ctx: ReadContext, scopeKeys: Map<string, Buffer>): Buffer | null {
  if (bytes.length < 5 || bytes.toString('latin1', 0, 3) !== 'hfb' || bytes[3] !== 1) return null;
  const idLength = bytes[4];
  const dekStart = 5 + idLength + 4;
  if (idLength < 1 || idLength > 64 || bytes.length < dekStart + 60 + 28) return null;
  const keyId = bytes.toString('latin1', 5, 5 + idLength);
  if ([...keyId].some((c) => !ALPHABET.includes(c))) return null;
  const version = bytes.readUInt32BE(5 + idLength);
  if (version < 1 || version > 2 ** 31 - 1) return null;
  const wrapped = bytes.subarray(dekStart, dekStart + 60);
  return openValue(keyId, version, wrapped, bytes.subarray(dekStart + 60), { ...ctx, kind: 'bytes' }, scopeKeys);
}

function readEnvelope(text: string, ctx: ReadContext, scopeKeys: Map<string, Buffer>): string | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'hfe' || parts[1] !== '1') return null;
  const [, , keyId, versionText, wrappedText, sealedText] = parts;
  if (keyId.length < 1 || keyId.length > 64 || [...keyId].some((c) => !ALPHABET.includes(c))) return null;
  if (!DECIMAL.test(versionText) || Number(versionText) > 2 ** 31 - 1) return null;
  const version = Number(versionText);
  const wrappedDek = wrappedText.length === 80 ? base64url(wrappedText) : null;
  const sealed = base64url(sealedText);
  if (!wrappedDek || !sealed) return null;
  return openValue(keyId, version, wrappedDek, sealed, ctx, scopeKeys)?.toString('utf8') ?? null;
}

// --- Blind index -----------------------------------------------------------------------------
const W = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
  0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
]);
const NORMALIZERS: Record<string, (s: string) => string> = {
  'trim@1': (s) => {
    const chars = [...s];
    while (chars.length && W.has(chars[0].codePointAt(0)!)) chars.shift();
    while (chars.length && W.has(chars[chars.length - 1].codePointAt(0)!)) chars.pop();
    return chars.join('');
  },
  'collapse-whitespace@1': (s) => {
    let out = '';
    let inRun = false;
    for (const c of s) {
      if (W.has(c.codePointAt(0)!)) inRun = true;
      else {
        if (inRun) out += ' ';
        out += c;
        inRun = false;
      }
    }
    return inRun ? `${out} ` : out;
  },
  'digits@1': (s) => [...s].filter((c) => c >= '0' && c <= '9').join(''),
  'lowercase@1': (s) => s.toLowerCase(),
  'uppercase@1': (s) => s.toUpperCase(),
  'nfc@1': (s) => s.normalize('NFC'),
  'nfkc@1': (s) => s.normalize('NFKC'),
};

/** Steps 2–4 under a per-index key, encoded with a leading `v` and version 0 (the caller sets both). */
function blindIndexUnder(key: Buffer, v: { normalize: string[]; bits: number; input: string }) {
  const normalized = v.normalize.reduce((text, name) => NORMALIZERS[name](text), v.input);
  const bytes = Math.ceil(v.bits / 8);
  const digest = createHmac('sha256', key).update(Buffer.from(normalized, 'utf8')).digest().subarray(0, bytes);
  digest[bytes - 1] &= (0xff << (bytes * 8 - v.bits)) & 0xff;
  const versions = new Set(v.normalize.map((name) => Number(name.split('@')[1])));
  const normalizerVersion = versions.size === 0 ? 1 : [...versions][0];
  return { normalized, value: `v0.n${normalizerVersion}.${digest.toString('base64url')}` };
}

function blindIndex(
  indexRoot: Buffer,
  rootVersion: number,
  v: { model: string; field: string; name: string; normalize: string[]; bits: number; input: string },
) {
  const info = Buffer.concat([lp('hushfield/blind-index/v1'), lp(v.model), lp(v.field), lp(v.name), u32(rootVersion)]);
  const key = Buffer.from(hkdfSync('sha256', indexRoot, Buffer.from('hushfield/blind-index', 'ascii'), info, 32));
  const { normalized, value } = blindIndexUnder(key, v);
  return { info, key, normalized, value: `v${rootVersion}${value.slice(2)}` };
}

/** A per-scope index value: the key is derived from the row's scope key version instead. */
function scopedBlindIndex(
  scopeKey: Buffer,
  v: {
    model: string;
    field: string;
    name: string;
    keyId: string;
    version: number;
    normalize: string[];
    bits: number;
    input: string;
  },
) {
  const info = Buffer.concat([
    lp('hushfield/scoped-blind-index/v1'),
    lp(v.model),
    lp(v.field),
    lp(v.name),
    lp(v.keyId),
    u32(v.version),
  ]);
  const key = Buffer.from(hkdfSync('sha256', scopeKey, Buffer.from('hushfield/scoped-blind-index', 'ascii'), info, 32));
  const shared = blindIndexUnder(key, v);
  return { info, key, normalized: shared.normalized, value: `s${v.version}${shared.value.slice(2)}` };
}

/** Which key an index value names: `v` the shared index root, `s` the row's scope key; else null. */
function indexKind(value: string): 'shared' | 'per-scope' | null {
  const dot = value.indexOf('.');
  const version = value.slice(1, dot);
  if (dot < 2 || !/^[1-9][0-9]*$/.test(version)) return null;
  return value[0] === 'v' ? 'shared' : value[0] === 's' ? 'per-scope' : null;
}

// --- The vectors, read with the above --------------------------------------------------------
describe('an independent reader written from the format specification', () => {
  const rootKey = hex(vectors.localRootKey);
  const scopeKey = unwrapLocal(rootKey, vectors.scopeKey);
  const indexRoot = unwrapLocal(rootKey, vectors.indexRootKey);

  it('unwraps the LocalKeyring-wrapped scope and index root keys, and refuses them under another context', () => {
    expect(scopeKey?.toString('hex')).toBe(vectors.scopeKey.key);
    expect(indexRoot?.toString('hex')).toBe(vectors.indexRootKey.key);
    expect(localKeyringAad(vectors.scopeKey.context).toString('hex')).toBe(vectors.scopeKey.aad);
    expect(unwrapLocal(rootKey, { ...vectors.scopeKey, version: vectors.scopeKey.version + 1 })).toBeNull();
    expect(unwrapLocal(rootKey, { ...vectors.scopeKey, kind: 'index' })).toBeNull();
  });

  it('opens every envelope to its plaintext', () => {
    const keys = new Map([[`${vectors.scopeKey.keyId}/${vectors.scopeKey.version}`, scopeKey!]]);
    for (const v of vectors.envelopes) expect(readEnvelope(v.envelope, v, keys)).toBe(v.plaintext);
    expect(vectors.envelopes.length).toBeGreaterThanOrEqual(3);
  });

  it('fails every must-fail case', () => {
    const keys = new Map([[`${vectors.scopeKey.keyId}/${vectors.scopeKey.version}`, scopeKey!]]);
    for (const v of vectors.mustFail) expect(readEnvelope(v.envelope, v, keys)).toBeNull();
  });

  it('opens every typed value (Json text, binary Bytes envelope, list element) and fails the typed must-fail cases', () => {
    const keys = new Map([[`${vectors.scopeKey.keyId}/${vectors.scopeKey.version}`, scopeKey!]]);
    const read = (v: ReadContext & { envelope?: string; envelopeHex?: string }) =>
      v.envelopeHex !== undefined
        ? (readBinaryEnvelope(hex(v.envelopeHex), v, keys)?.toString('hex') ?? null)
        : readEnvelope(v.envelope!, v, keys);
    for (const v of vectors.typedValues) expect(read(v)).toBe(v.plaintext);
    expect(new Set(vectors.typedValues.map((v: ReadContext) => v.kind))).toEqual(new Set(['json', 'bytes', 'list']));
    for (const v of vectors.typedMustFail) expect(read(v)).toBeNull();
    expect(vectors.typedMustFail.length).toBeGreaterThanOrEqual(5);
  });

  it('recomputes every blind index value, key and HKDF info', () => {
    for (const v of vectors.blindIndexes) {
      const computed = blindIndex(indexRoot!, v.rootVersion, v);
      expect(computed.info.toString('hex')).toBe(v.hkdfInfo);
      expect(computed.key.toString('hex')).toBe(v.indexKey);
      expect(computed.normalized).toBe(v.normalized);
      expect(computed.value).toBe(v.value);
      expect(indexKind(v.value)).toBe('shared');
    }
  });

  it("recomputes every per-scope index value from the scope key the value's row is in, and tells it from a shared one", () => {
    expect(vectors.scopedBlindIndexes.length).toBeGreaterThanOrEqual(2);
    for (const v of vectors.scopedBlindIndexes) {
      expect(v.scope).toBe(vectors.scopeKey.scope);
      expect(v.keyId).toBe(vectors.scopeKey.keyId);
      const computed = scopedBlindIndex(scopeKey!, v);
      expect(computed.info.toString('hex')).toBe(v.hkdfInfo);
      expect(Buffer.from('hushfield/scoped-blind-index', 'ascii').toString('hex')).toBe(v.hkdfSalt);
      expect(computed.key.toString('hex')).toBe(v.indexKey);
      expect(computed.normalized).toBe(v.normalized);
      expect(computed.value).toBe(v.value);
      expect(indexKind(v.value)).toBe('per-scope');
      // The index root key, the root key or another version of the scope key give other values.
      const digest = (value: string) => value.split('.')[2];
      expect(digest(blindIndex(indexRoot!, v.version, v).value)).not.toBe(digest(v.value));
      expect(digest(scopedBlindIndex(scopeKey!, { ...v, version: v.version + 1 }).value)).not.toBe(digest(v.value));
      expect(digest(scopedBlindIndex(rootKey, v).value)).not.toBe(digest(v.value));
    }
    for (const bad of ['x1.n1.AAAA', 'S1.n1.AAAA', 's0.n1.AAAA', 's01.n1.AAAA']) expect(indexKind(bad)).toBeNull();
  });
});
