import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { EnvelopeFormatError } from './errors';
import { dekAad, valueAad } from './associated-data';
import {
  describeEnvelope,
  HeaderMemo,
  isEnvelope,
  MAX_ENVELOPE_LENGTH,
  parseEnvelope,
  UNDECODED_DEK,
  withWrappedDek,
} from './envelope';
import { encodeFields } from './length-prefixed';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import { createRowEncryptor } from './row-encryptor';

// Golden vectors: a fixed scope key, DEK and nonces (through the test-only determinism hook)
// must give exactly these strings. A change to the format or to the associated data breaks
// them on purpose: bump FORMAT_VERSION instead of editing them.
const SCOPE_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const DEK = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf', 'hex');
const KEY_ID = 'GoldenKey-01';
const ROW_ID = '7f0c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';
const WRAPPED_DEK = 'AQEBAQEBAQEBAQEB12JHlswgzsF8_c2ztMr8d3vfPWglNqBrS2K9VyG0QI4nicplhXM22soH4Y35QXf8';
const GOLDEN = [
  {
    plaintext: 'ada@example.com',
    ctx: { model: 'users', field: 'email', rowId: ROW_ID },
    envelope: `hfe$1$GoldenKey-01$3$${WRAPPED_DEK}$AgICAgICAgICAgIC6igDzDsCJTfiiFCmdDGE7VYrlXrdQLJrJ2vvH0lAXg`,
  },
  {
    plaintext: '',
    ctx: { model: 'users', field: 'note' },
    envelope: `hfe$1$GoldenKey-01$3$${WRAPPED_DEK}$AwMDAwMDAwMDAwMDDKLMU43VDIIZmbOSNlBnhw`,
  },
  {
    plaintext: 'Zoë 🔐',
    ctx: { model: 'patients', field: 'name', rowId: '42' },
    envelope: `hfe$1$GoldenKey-01$3$${WRAPPED_DEK}$BAQEBAQEBAQEBAQEp-0AK_O7P45OM4yegKpubtLt8xqtpDdoLg`,
  },
];

function goldenEncryptor() {
  let counter = 0;
  return createRowEncryptor(
    { keyId: KEY_ID, scope: 'default', version: 3, key: SCOPE_KEY },
    { dek: DEK, nonce: () => Buffer.alloc(12, ++counter) },
  );
}

const hex = (text: string) => Buffer.from(text, 'hex');
const lp = (text: string) => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
};

describe('envelope golden vectors', () => {
  it('a fixed key, DEK and nonces encrypt to the expected strings', () => {
    const encryptor = goldenEncryptor();
    for (const vector of GOLDEN) expect(encryptor.encrypt(vector.plaintext, vector.ctx)).toBe(vector.envelope);
  });

  it('the expected strings decrypt to their plaintexts through FieldCrypto and a key store', async () => {
    const keyring = new LocalKeyring(Buffer.alloc(32, 7));
    const keyStore = new MemoryKeyStore();
    const context = { purpose: 'hushfield/scope-key', keyId: KEY_ID, scope: 'default', version: '3' };
    await keyStore.insert({
      keyId: KEY_ID,
      kind: 'scope',
      scope: 'default',
      version: 3,
      keyringId: keyring.id,
      wrappedKey: (await keyring.wrapKey(SCOPE_KEY, context)).toString('base64'),
    });
    const crypto = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    for (const vector of GOLDEN)
      await expect(crypto.decrypt(vector.envelope, vector.ctx)).resolves.toBe(vector.plaintext);
  });

  it('the layout is the documented one, checked with bare node:crypto', () => {
    const [, , keyId, version, wrappedDek, sealed] = GOLDEN[0].envelope.split('$');
    expect([keyId, version]).toEqual([KEY_ID, '3']);
    // wrapped DEK = nonce ‖ AES-256-GCM(scope key, DEK) ‖ tag, AD = 01 ‖ lp("hushfield/dek") ‖ lp(keyId) ‖ u32(version)
    const wrapped = Buffer.from(wrappedDek, 'base64url');
    expect(wrapped).toHaveLength(60);
    const dekAd = Buffer.concat([hex('01'), lp('hushfield/dek'), lp(KEY_ID), hex('00000003')]);
    const unwrap = createDecipheriv('aes-256-gcm', SCOPE_KEY, wrapped.subarray(0, 12));
    unwrap.setAAD(dekAd);
    unwrap.setAuthTag(wrapped.subarray(44));
    expect(Buffer.concat([unwrap.update(wrapped.subarray(12, 44)), unwrap.final()])).toEqual(DEK);
    // value = nonce ‖ AES-256-GCM(DEK, UTF-8) ‖ tag,
    // AD = 01 ‖ lp("hushfield/value") ‖ lp(model) ‖ lp(field) ‖ lp(keyId) ‖ u32(version) ‖ 01 ‖ lp(rowId)
    const body = Buffer.from(sealed, 'base64url');
    const valueAd = Buffer.concat([
      hex('01'),
      lp('hushfield/value'),
      lp('users'),
      lp('email'),
      lp(KEY_ID),
      hex('00000003'),
      hex('01'),
      lp(ROW_ID),
    ]);
    const open = createDecipheriv('aes-256-gcm', DEK, body.subarray(0, 12));
    open.setAAD(valueAd);
    open.setAuthTag(body.subarray(body.length - 16));
    expect(Buffer.concat([open.update(body.subarray(12, body.length - 16)), open.final()]).toString('utf8')).toBe(
      'ada@example.com',
    );
  });

  it('is 89 + key id + version digits + base64url(n + 28) characters long (140 for an empty value)', () => {
    const length = (plaintextBytes: number) => 89 + KEY_ID.length + 1 + Math.ceil(((plaintextBytes + 28) * 4) / 3);
    expect(GOLDEN[1].envelope).toHaveLength(140);
    for (const vector of GOLDEN) expect(vector.envelope).toHaveLength(length(Buffer.byteLength(vector.plaintext)));
  });
});

describe('parseEnvelope', () => {
  const good = GOLDEN[0].envelope;

  it('reads the header fields', () => {
    expect(describeEnvelope(good)).toEqual({ formatVersion: 1, keyId: KEY_ID, version: 3 });
    expect(isEnvelope(good)).toBe(true);
    expect(isEnvelope('ada@example.com')).toBe(false);
  });

  it.each([
    ['a wrong prefix', good.replace('hfe$', 'fsx$')],
    ['an unknown format version', good.replace('hfe$1$', 'hfe$2$')],
    ['a leading zero in the format version', good.replace('hfe$1$', 'hfe$01$')],
    ['a leading zero in the key version', good.replace('$3$', '$03$')],
    ['a zero key version', good.replace('$3$', '$0$')],
    ['a key version over 2^31-1', good.replace('$3$', '$2147483648$')],
    ['a non-decimal key version', good.replace('$3$', '$3a$')],
    ['an empty key id', good.replace(`$${KEY_ID}$`, '$$')],
    ['a key id with a bad character', good.replace(`$${KEY_ID}$`, '$Golden.Key$')],
    ['a key id over 64 characters', good.replace(`$${KEY_ID}$`, `$${'k'.repeat(65)}$`)],
    ['a wrapped DEK one character short', good.replace(WRAPPED_DEK, WRAPPED_DEK.slice(1))],
    ['a wrapped DEK one character long', good.replace(WRAPPED_DEK, `A${WRAPPED_DEK}`)],
    ['padding', `${good}==`],
    ['trailing data', `${good}$`],
    ['an extra field', `${good}$AAAA`],
    ['a missing field', good.slice(0, good.lastIndexOf('$'))],
    ['standard base64 characters', good.replace('_', '/')],
    ['whitespace', `${good} `],
    ['a sealed value shorter than nonce and tag', `${good.slice(0, good.lastIndexOf('$') + 1)}AAAA`],
    [
      'a non-canonical last character',
      `${good.slice(0, -1)}${String.fromCharCode(good.charCodeAt(good.length - 1) + 1)}`,
    ],
    ['an input over the length cap', `${good}${'A'.repeat(MAX_ENVELOPE_LENGTH)}`],
    ['the empty string', ''],
  ])('rejects %s with EnvelopeFormatError', (_name, text) => {
    expect(() => parseEnvelope(text)).toThrow(EnvelopeFormatError);
  });

  it('rejects a non-string', () => {
    expect(() => parseEnvelope(42 as unknown as string)).toThrow(EnvelopeFormatError);
  });

  it('throws nothing but EnvelopeFormatError on arbitrary input', () => {
    const mutated = fc
      .tuple(fc.nat(good.length), fc.string({ maxLength: 8, unit: 'binary' }), fc.nat(8))
      .map(([at, insert, cut]) => good.slice(0, at) + insert + good.slice(at + cut));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'binary-ascii' }),
          fc.string().map((tail) => `hfe$1$${tail}`),
          mutated,
        ),
        (text) => {
          try {
            parseEnvelope(text);
          } catch (error) {
            if (!(error instanceof EnvelopeFormatError)) throw error;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('skips decoding the wrapped DEK only when told its exact DEK id is cached, and decodes it on demand', () => {
    const asked: string[] = [];
    const held = parseEnvelope(good, undefined, (id) => {
      asked.push(id);
      return true;
    });
    expect(asked).toEqual([`${KEY_ID}$3$${WRAPPED_DEK}`]);
    expect(held.wrappedDek).toBe(UNDECODED_DEK);
    expect(held.wrappedDek).toHaveLength(0);
    const plain = parseEnvelope(good);
    expect(parseEnvelope(good, undefined, () => false)).toEqual(plain);
    expect(withWrappedDek(held)).toEqual(plain);
    expect(withWrappedDek(plain)).toBe(plain);
  });

  it('still rejects a malformed header when told its DEK is cached', () => {
    // Everything but the wrapped DEK's decoding is checked first; a cached id is a checked one.
    for (const text of [good.replace('$3$', '$03$'), good.replace(WRAPPED_DEK, WRAPPED_DEK.slice(1))])
      expect(() => parseEnvelope(text, undefined, () => true)).toThrow(EnvelopeFormatError);
  });

  it('parses alike with and without a batch memo, whatever came before', () => {
    const outcome = (parse: () => unknown) => {
      try {
        return parse();
      } catch (error) {
        if (!(error instanceof EnvelopeFormatError)) throw error;
        return `rejected: ${error.message}`;
      }
    };
    const mutated = fc
      .tuple(fc.nat(good.length), fc.string({ maxLength: 8, unit: 'binary' }), fc.nat(8))
      .map(([at, insert, cut]) => good.slice(0, at) + insert + good.slice(at + cut));
    const text = fc.oneof(fc.constant(good), fc.constant(GOLDEN[1].envelope), mutated);
    fc.assert(
      fc.property(fc.array(text, { maxLength: 6 }), (texts) => {
        const memo = new HeaderMemo();
        const scratch = new HeaderMemo(Buffer.alloc(64)); // sealed values decoded into one reused buffer
        for (const t of texts) {
          expect(outcome(() => parseEnvelope(t, memo))).toEqual(outcome(() => parseEnvelope(t)));
          expect(outcome(() => parseEnvelope(t, scratch))).toEqual(outcome(() => parseEnvelope(t)));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('dekAad', () => {
  it('gives each key id and version its own bytes, however calls interleave', () => {
    const expected = (keyId: string, version: number): Buffer =>
      encodeFields([{ u8: 1 }, 'hushfield/dek', keyId, { u32: version }]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'ab', '1'), fc.integer({ min: 1, max: 3 })), { maxLength: 30 }),
        (calls) => {
          for (const [keyId, version] of calls) expect(dekAad(keyId, version)).toEqual(expected(keyId, version));
        },
      ),
    );
  });
});

describe('valueAad', () => {
  it('equals the generic length-prefixed encoding, with and without a row id', () => {
    for (const [model, field, rowId] of [
      ['users', 'email', 'r1'],
      ['Müller', 'naïve', ''],
      ['m', 'f', undefined],
    ] as const) {
      const tail = rowId === undefined ? [{ u8: 0 }] : [{ u8: 1 }, rowId];
      expect(valueAad('kid', 7, model, field, rowId)).toEqual(
        encodeFields([{ u8: 1 }, 'hushfield/value', model, field, 'kid', { u32: 7 }, ...tail]),
      );
    }
  });

  it('keeps names apart in its cache when their concatenations coincide, and past the cache bound', () => {
    const expected = (keyId: string, version: number, model: string, field: string, rowId?: string) =>
      encodeFields([
        { u8: 1 },
        'hushfield/value',
        model,
        field,
        keyId,
        { u32: version },
        ...(rowId === undefined ? [{ u8: 0 }] : [{ u8: 1 }, rowId]),
      ]);
    const cases: [string, number, string, string][] = [
      ['k', 11, 'ab', 'c'],
      ['k', 11, 'a', 'bc'],
      ['k1', 1, 'ab', 'c'],
      ['k', 111, 'ab', 'c'],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [keyId, version, model, field] of cases) {
        expect(valueAad(keyId, version, model, field, 'r')).toEqual(expected(keyId, version, model, field, 'r'));
        expect(valueAad(keyId, version, model, field, undefined)).toEqual(expected(keyId, version, model, field));
      }
    }
    for (let i = 0; i < 3000; i++)
      expect(valueAad('k', 1, 'm', `f${i}`, `${i}`)).toEqual(expected('k', 1, 'm', `f${i}`, `${i}`));
  });

  it('returns a buffer the caller may change without affecting later values', () => {
    const first = valueAad('kid', 1, 'users', 'email', undefined);
    first.fill(0xff);
    expect(valueAad('kid', 1, 'users', 'email', undefined)).toEqual(
      encodeFields([{ u8: 1 }, 'hushfield/value', 'users', 'email', 'kid', { u32: 1 }, { u8: 0 }]),
    );
  });

  it('writes the same bytes into a scratch buffer, ASCII and UTF-8 row ids, typed or not', () => {
    const scratch = Buffer.alloc(256, 0xaa);
    for (const rowId of [
      undefined,
      'r1',
      '7f0c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f',
      'zeilé-ü',
      '\u{1f600}',
      'x'.repeat(300),
    ]) {
      for (const type of [undefined, { kind: 'json' as const }, { kind: 'list' as const, index: 2, count: 5 }]) {
        expect(valueAad('kid', 3, 'users', 'email', rowId, type, scratch)).toEqual(
          valueAad('kid', 3, 'users', 'email', rowId, type),
        );
      }
    }
    // Too small a scratch buffer: a new buffer instead, never a truncated one.
    const small = valueAad('kid', 3, 'users', 'email', 'r1', undefined, Buffer.alloc(4));
    expect(small).toEqual(valueAad('kid', 3, 'users', 'email', 'r1'));
  });
});
