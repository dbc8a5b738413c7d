/**
 * The published format vectors (test/vectors/hushfield-format-v1.json, specified by
 * test/vectors/README.md), in both directions: hushfield's code, made deterministic through its
 * test-only hooks (fixed keys, DEKs and nonces), produces exactly the file; and the file's
 * envelopes, wrapped keys and index values open and match through the ordinary API.
 *
 * Regenerate the file only for a deliberate format change (which also bumps a version):
 * `HUSHFIELD_WRITE_VECTORS=1 node scripts/jest.js packages/core/src/format-vectors.test.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeBlindIndex, deriveIndexKey, deriveScopedIndexKey, type BlindIndexSpec } from './blind-index';
import { dekAad, valueAad } from './associated-data';
import { DecryptionError } from './errors';
import { FieldCrypto } from './field-crypto';
import { wrapContext } from './keyring-calls';
import { encodeFields } from './length-prefixed';
import { LocalKeyring, serializeContext } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import { normalize, type Normalizer } from './normalizers';
import { createRowEncryptor, type FieldContext } from './row-encryptor';

const FILE = join(__dirname, '../../../test/vectors/hushfield-format-v1.json');
const hex = (text: string) => Buffer.from(text, 'hex');
/** 32 bytes counting up from `start`. */
const counting = (start: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => (start + i) & 0xff));
/** 12 bytes of `byte`. */
const nonce = (byte: number) => Buffer.alloc(12, byte);

const ROOT_KEY = counting(0x00);
const SCOPE = { keyId: 'GoldenScope-1', kind: 'scope' as const, scope: 'tenant-42', version: 3, key: counting(0x20) };
const INDEX_ROOT = {
  keyId: 'GoldenIndex-1',
  kind: 'index' as const,
  scope: 'default',
  version: 2,
  key: counting(0x40),
};

interface RowInput {
  readonly comment: string;
  readonly dek: Buffer;
  readonly nonces: readonly number[];
  readonly fields: readonly { plaintext: string; ctx: FieldContext }[];
}

const ROWS: readonly RowInput[] = [
  {
    comment: "one row write: two fields share the row's DEK and wrapped DEK; the model binds the row id",
    dek: counting(0xa0),
    nonces: [0x01, 0x02, 0x03],
    fields: [
      {
        plaintext: 'ada@example.com',
        ctx: { model: 'users', field: 'email', rowId: '7f0c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f' },
      },
      { plaintext: '', ctx: { model: 'users', field: 'note', rowId: '7f0c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f' } },
    ],
  },
  {
    comment: 'a model that binds no row id; non-ASCII names and plaintext (UTF-8)',
    dek: counting(0xc0),
    nonces: [0x04, 0x05],
    fields: [{ plaintext: 'Zoë Müller 🔐', ctx: { model: 'patients', field: 'naïve_name' } }],
  },
];

/** One typed value of a row write: JSON text, bytes (hex in the file), or a list element. */
interface TypedInput {
  readonly ctx: FieldContext;
  readonly plaintext: string;
}

const TYPED_ROWS: readonly {
  comment: string;
  dek: Buffer;
  nonces: readonly number[];
  values: readonly TypedInput[];
}[] = [
  {
    comment:
      'one row write of typed values: a Json value (its JSON text), Bytes (binary envelope) and a three-element ' +
      "String[] (each element bound to its index and the list's length), all under the row's DEK",
    dek: counting(0xe0),
    nonces: [0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b],
    values: [
      { ctx: { model: 'documents', field: 'body', rowId: 'doc-1', kind: 'json' }, plaintext: '{"a":[1,"ü"],"b":null}' },
      { ctx: { model: 'documents', field: 'blob', rowId: 'doc-1', kind: 'bytes' }, plaintext: '00ff10' },
      ...['x', '', 'x'].map((plaintext, index) => ({
        ctx: { model: 'documents', field: 'tags', rowId: 'doc-1', kind: 'list' as const, index, count: 3 },
        plaintext,
      })),
    ],
  },
  {
    comment: 'empty bytes and a sealed JSON null, in a model that binds no row id',
    dek: counting(0x60),
    nonces: [0x0c, 0x0d, 0x0e],
    values: [
      { ctx: { model: 'blobs', field: 'data', kind: 'bytes' }, plaintext: '' },
      { ctx: { model: 'blobs', field: 'meta', kind: 'json' }, plaintext: 'null' },
    ],
  },
];

const INDEXES: readonly { comment: string; spec: BlindIndexSpec; input: string }[] = [
  {
    comment: 'full length, trim and lowercase',
    spec: { model: 'users', field: 'email', name: 'email_idx', normalize: ['trim@1', 'lowercase@1'], bits: 256 },
    input: '  Ada@Example.COM ',
  },
  {
    comment: 'no normalizer',
    spec: { model: 'users', field: 'email', name: 'email_idx', normalize: [], bits: 256 },
    input: 'Ada@Example.COM',
  },
  {
    comment: '16 bits (2 whole bytes)',
    spec: { model: 'users', field: 'ssn', name: 'ssn_idx', normalize: ['digits@1'], bits: 16 },
    input: '123-45-6789',
  },
  {
    comment: '12 bits: 2 bytes, the low 4 bits of the second zeroed',
    spec: { model: 'users', field: 'ssn', name: 'ssn_idx', normalize: ['digits@1'], bits: 12 },
    input: '123-45-6789',
  },
  {
    comment: '1 bit',
    spec: { model: 'users', field: 'ssn', name: 'ssn_idx', normalize: ['digits@1'], bits: 1 },
    input: '123-45-6789',
  },
  {
    comment: '255 bits',
    spec: { model: 'users', field: 'email', name: 'email_idx', normalize: [], bits: 255 },
    input: 'x',
  },
  {
    comment: 'NFKC and collapse-whitespace over non-ASCII input',
    spec: {
      model: 'patients',
      field: 'naïve_name',
      name: 'name_idx',
      normalize: ['nfkc@1', 'collapse-whitespace@1', 'lowercase@1'],
      bits: 64,
    },
    input: 'Ｚｏë\u00a0\u2003Müller',
  },
];

/** Per-scope indexes, keyed by the scope key of the file (`SCOPE`): a shred of that scope destroys them. */
const SCOPED_INDEXES: readonly { comment: string; spec: BlindIndexSpec; input: string }[] = [
  {
    comment: 'per scope, full length, trim and lowercase: the same input as the first shared vector, another value',
    spec: {
      model: 'users',
      field: 'email',
      name: 'email_idx',
      normalize: ['trim@1', 'lowercase@1'],
      bits: 256,
      perScope: true,
    },
    input: '  Ada@Example.COM ',
  },
  {
    comment: 'per scope, 12 bits, digits',
    spec: { model: 'users', field: 'ssn', name: 'ssn_idx', normalize: ['digits@1'], bits: 12, perScope: true },
    input: '123-45-6789',
  },
];

/** The envelope with bit 0 of the last byte of its sealed value (the tag's last byte) flipped. */
function flipLastBit(envelope: string): string {
  const at = envelope.lastIndexOf('$') + 1;
  const sealed = Buffer.from(envelope.slice(at), 'base64url');
  sealed[sealed.length - 1] ^= 0x01;
  return envelope.slice(0, at) + sealed.toString('base64url');
}

const escapeNonAscii = (json: string) =>
  json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function wrappedKeyVector(keyring: LocalKeyring, slot: typeof SCOPE | typeof INDEX_ROOT, wrapNonce: Buffer) {
  const context = wrapContext(slot);
  return {
    keyId: slot.keyId,
    kind: slot.kind,
    scope: slot.scope,
    version: slot.version,
    key: slot.key.toString('hex'),
    context,
    aad: serializeContext(context).toString('hex'),
    nonce: wrapNonce.toString('hex'),
    wrappedKey: keyring.unsafeWrapKeyWithNonce(slot.key, context, wrapNonce).toString('base64'),
  };
}

/** The whole vector document, computed by hushfield's code. */
function buildVectors(): object {
  const keyring = new LocalKeyring(ROOT_KEY);
  const envelopes = ROWS.flatMap((row) => {
    let next = 0;
    const encryptor = createRowEncryptor(
      { keyId: SCOPE.keyId, scope: SCOPE.scope, version: SCOPE.version, key: SCOPE.key },
      { dek: row.dek, nonce: () => nonce(row.nonces[next++]) },
    );
    try {
      return row.fields.map(({ plaintext, ctx }, i) => ({
        comment: i === 0 ? row.comment : 'same row write as the previous vector',
        model: ctx.model,
        field: ctx.field,
        ...(ctx.rowId === undefined ? {} : { rowId: ctx.rowId }),
        plaintext,
        dek: row.dek.toString('hex'),
        dekNonce: nonce(row.nonces[0]).toString('hex'),
        valueNonce: nonce(row.nonces[i + 1]).toString('hex'),
        dekAad: dekAad(SCOPE.keyId, SCOPE.version).toString('hex'),
        valueAad: valueAad(SCOPE.keyId, SCOPE.version, ctx.model, ctx.field, ctx.rowId).toString('hex'),
        envelope: encryptor.encrypt(plaintext, ctx),
      }));
    } finally {
      encryptor.dispose();
    }
  });
  const typedValues = TYPED_ROWS.flatMap((row) => {
    let next = 0;
    const encryptor = createRowEncryptor(
      { keyId: SCOPE.keyId, scope: SCOPE.scope, version: SCOPE.version, key: SCOPE.key },
      { dek: row.dek, nonce: () => nonce(row.nonces[next++]) },
    );
    try {
      return row.values.map(({ plaintext, ctx }, i) => ({
        comment: i === 0 ? row.comment : 'same row write as the previous vector',
        model: ctx.model,
        field: ctx.field,
        ...(ctx.rowId === undefined ? {} : { rowId: ctx.rowId }),
        kind: ctx.kind,
        ...(ctx.kind === 'list' ? { index: ctx.index, count: ctx.count } : {}),
        plaintext,
        dek: row.dek.toString('hex'),
        dekNonce: nonce(row.nonces[0]).toString('hex'),
        valueNonce: nonce(row.nonces[i + 1]).toString('hex'),
        valueAad: valueAad(SCOPE.keyId, SCOPE.version, ctx.model, ctx.field, ctx.rowId, ctx).toString('hex'),
        ...(ctx.kind === 'bytes'
          ? { envelopeHex: encryptor.encryptBytes(hex(plaintext), ctx).toString('hex') }
          : { envelope: encryptor.encrypt(plaintext, ctx) }),
      }));
    } finally {
      encryptor.dispose();
    }
  });
  const [json, bytes, firstItem] = typedValues;
  const blindIndexes = INDEXES.map(({ comment, spec, input }) => {
    const key = deriveIndexKey(INDEX_ROOT.key, spec, INDEX_ROOT.version);
    return {
      comment,
      model: spec.model,
      field: spec.field,
      name: spec.name,
      rootVersion: INDEX_ROOT.version,
      normalize: spec.normalize,
      bits: spec.bits,
      input,
      normalized: normalize(input, spec.normalize),
      hkdfSalt: Buffer.from('hushfield/blind-index').toString('hex'),
      hkdfInfo: encodeFields([
        'hushfield/blind-index/v1',
        spec.model,
        spec.field,
        spec.name,
        { u32: INDEX_ROOT.version },
      ]).toString('hex'),
      indexKey: key.toString('hex'),
      value: computeBlindIndex(key, spec, INDEX_ROOT.version, input),
    };
  });
  const scopedBlindIndexes = SCOPED_INDEXES.map(({ comment, spec, input }) => {
    const key = deriveScopedIndexKey(SCOPE.key, spec, SCOPE.keyId, SCOPE.version);
    return {
      comment,
      model: spec.model,
      field: spec.field,
      name: spec.name,
      scope: SCOPE.scope,
      keyId: SCOPE.keyId,
      version: SCOPE.version,
      normalize: spec.normalize,
      bits: spec.bits,
      input,
      normalized: normalize(input, spec.normalize),
      hkdfSalt: Buffer.from('hushfield/scoped-blind-index').toString('hex'),
      hkdfInfo: encodeFields([
        'hushfield/scoped-blind-index/v1',
        spec.model,
        spec.field,
        spec.name,
        SCOPE.keyId,
        { u32: SCOPE.version },
      ]).toString('hex'),
      indexKey: key.toString('hex'),
      value: computeBlindIndex(key, spec, SCOPE.version, input),
    };
  });
  const [first] = envelopes;
  return {
    description:
      'hushfield format vectors, format 1 (envelope hfe$1$, LocalKeyring wrap 0x01, blind index v<root>.n<normalizer>, ' +
      'per-scope blind index s<scope key version>.n<normalizer>). ' +
      'Specified by README.md in this directory; byte strings are lowercase hex unless named otherwise.',
    localRootKey: ROOT_KEY.toString('hex'),
    scopeKey: wrappedKeyVector(keyring, SCOPE, nonce(0x0a)),
    indexRootKey: wrappedKeyVector(keyring, INDEX_ROOT, nonce(0x0b)),
    envelopes,
    blindIndexes,
    scopedBlindIndexes,
    mustFail: [
      {
        comment: 'the first envelope presented for another row id',
        envelope: first.envelope,
        model: first.model,
        field: first.field,
        rowId: 'another-row',
      },
      {
        comment: 'the first envelope presented for another field',
        envelope: first.envelope,
        model: first.model,
        field: 'note',
        rowId: first.rowId,
      },
      {
        comment: 'the first envelope presented without its row id',
        envelope: first.envelope,
        model: first.model,
        field: first.field,
      },
      {
        comment: 'the first envelope with the last tag bit flipped',
        envelope: flipLastBit(first.envelope),
        model: first.model,
        field: first.field,
        rowId: first.rowId,
      },
    ],
    typedValues,
    typedMustFail: [
      {
        comment: 'the Json envelope presented as a String value (no type tag)',
        envelope: json.envelope,
        model: json.model,
        field: json.field,
        rowId: json.rowId,
      },
      {
        comment: 'the first list element presented at index 1',
        envelope: firstItem.envelope,
        model: firstItem.model,
        field: firstItem.field,
        rowId: firstItem.rowId,
        kind: 'list',
        index: 1,
        count: 3,
      },
      {
        comment: 'the first list element presented in a list of 2 (truncated)',
        envelope: firstItem.envelope,
        model: firstItem.model,
        field: firstItem.field,
        rowId: firstItem.rowId,
        kind: 'list',
        index: 0,
        count: 2,
      },
      {
        comment: 'the first list element presented as a Json value',
        envelope: firstItem.envelope,
        model: firstItem.model,
        field: firstItem.field,
        rowId: firstItem.rowId,
        kind: 'json',
      },
      {
        comment: 'the Bytes envelope with the last tag bit flipped',
        envelopeHex: flipLastByteBit(bytes.envelopeHex as string),
        model: bytes.model,
        field: bytes.field,
        rowId: bytes.rowId,
        kind: 'bytes',
      },
      {
        comment: 'the Bytes envelope presented for another row id',
        envelopeHex: bytes.envelopeHex,
        model: bytes.model,
        field: bytes.field,
        rowId: 'doc-2',
        kind: 'bytes',
      },
    ],
  };
}

/** Hex bytes with bit 0 of the last byte flipped. */
function flipLastByteBit(hexText: string): string {
  const bytes = hex(hexText);
  bytes[bytes.length - 1] ^= 0x01;
  return bytes.toString('hex');
}

const render = (document: object) => `${escapeNonAscii(JSON.stringify(document, null, 2))}\n`;

if (process.env.HUSHFIELD_WRITE_VECTORS === '1') writeFileSync(FILE, render(buildVectors()));

interface EnvelopeVector {
  model: string;
  field: string;
  rowId?: string;
  plaintext: string;
  envelope: string;
}
interface IndexVector {
  model: string;
  field: string;
  name: string;
  normalize: Normalizer[];
  bits: number;
  input: string;
  value: string;
}
const published = JSON.parse(readFileSync(FILE, 'utf8')) as {
  localRootKey: string;
  scopeKey: { keyId: string; scope: string; version: number; wrappedKey: string };
  indexRootKey: { keyId: string; scope: string; version: number; wrappedKey: string };
  envelopes: EnvelopeVector[];
  blindIndexes: IndexVector[];
  scopedBlindIndexes: (IndexVector & { scope: string })[];
  mustFail: { envelope: string; model: string; field: string; rowId?: string }[];
  typedValues: TypedVector[];
  typedMustFail: TypedVector[];
};

/** A typed value of the file: a text `envelope` or a binary `envelopeHex`, and where it is bound. */
interface TypedVector extends FieldContext {
  plaintext?: string;
  envelope?: string;
  envelopeHex?: string;
}

/** The context a typed vector names (its model, field, row id and type tag). */
function typedContext(v: TypedVector): FieldContext {
  const { model, field, rowId, kind, index, count } = v;
  return Object.fromEntries(
    Object.entries({ model, field, rowId, kind, index, count }).filter(([, value]) => value !== undefined),
  ) as unknown as FieldContext;
}

describe('published format vectors', () => {
  it('hushfield produces exactly the published file (fixed keys, DEKs and nonces)', () => {
    expect(render(buildVectors())).toBe(readFileSync(FILE, 'utf8'));
  });

  async function cryptoFromFile(): Promise<FieldCrypto> {
    const keyring = new LocalKeyring(hex(published.localRootKey));
    const keyStore = new MemoryKeyStore();
    for (const [kind, stored] of [
      ['scope', published.scopeKey],
      ['index', published.indexRootKey],
    ] as const) {
      await keyStore.insert({
        keyId: stored.keyId,
        kind,
        scope: stored.scope,
        version: stored.version,
        keyringId: keyring.id,
        wrappedKey: stored.wrappedKey,
      });
    }
    return new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
  }

  it('its envelopes decrypt through FieldCrypto, with the scope key unwrapped by LocalKeyring from the file', async () => {
    const crypto = await cryptoFromFile();
    for (const v of published.envelopes) {
      const ctx = { model: v.model, field: v.field, ...(v.rowId === undefined ? {} : { rowId: v.rowId }) };
      await expect(crypto.decrypt(v.envelope, ctx)).resolves.toBe(v.plaintext);
    }
    expect(published.envelopes.length).toBeGreaterThanOrEqual(3);
  });

  it('its index values are what FieldCrypto computes under the index root key from the file', async () => {
    const crypto = await cryptoFromFile();
    for (const v of published.blindIndexes) {
      await expect(
        crypto.blindIndex(
          { model: v.model, field: v.field, name: v.name, normalize: v.normalize, bits: v.bits },
          v.input,
        ),
      ).resolves.toBe(v.value);
    }
  });

  it("its per-scope index values are what FieldCrypto computes under the file's scope key, and only in its scope", async () => {
    const crypto = await cryptoFromFile();
    for (const v of published.scopedBlindIndexes) {
      const spec = {
        model: v.model,
        field: v.field,
        name: v.name,
        normalize: v.normalize,
        bits: v.bits,
        perScope: true,
      };
      await expect(crypto.blindIndexAll(spec, v.input, v.scope)).resolves.toEqual([v.value]);
      await expect(crypto.blindIndexAll(spec, v.input, 'another-scope')).resolves.toEqual([]);
    }
    expect(published.scopedBlindIndexes.length).toBeGreaterThanOrEqual(2);
  });

  it('its typed values (Json text, Bytes, list elements) decrypt through FieldCrypto', async () => {
    const crypto = await cryptoFromFile();
    for (const v of published.typedValues) {
      if (v.envelopeHex !== undefined) {
        const bytes = await crypto.decryptBytes(new Uint8Array(hex(v.envelopeHex)), typedContext(v));
        expect(bytes.toString('hex')).toBe(v.plaintext);
      } else await expect(crypto.decrypt(v.envelope as string, typedContext(v))).resolves.toBe(v.plaintext);
    }
    expect(published.typedValues.map((v) => v.kind)).toEqual([
      'json',
      'bytes',
      'list',
      'list',
      'list',
      'bytes',
      'json',
    ]);
  });

  it('its typed must-fail cases fail to decrypt', async () => {
    const crypto = await cryptoFromFile();
    for (const v of published.typedMustFail) {
      const opened =
        v.envelopeHex !== undefined
          ? crypto.decryptBytes(hex(v.envelopeHex), typedContext(v))
          : crypto.decrypt(v.envelope as string, typedContext(v));
      await expect(opened).rejects.toThrow(DecryptionError);
    }
  });

  it('its must-fail cases fail to decrypt', async () => {
    const crypto = await cryptoFromFile();
    for (const v of published.mustFail) {
      await expect(
        crypto.decrypt(v.envelope, {
          model: v.model,
          field: v.field,
          ...(v.rowId === undefined ? {} : { rowId: v.rowId }),
        }),
      ).rejects.toThrow();
    }
  });
});
