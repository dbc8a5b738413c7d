import { randomBytes } from 'node:crypto';
import { valueAad } from './associated-data';
import { binaryKeyOf, isBinaryEnvelope, parseBinaryEnvelope } from './binary-envelope';
import { MAX_PLAINTEXT_BYTES } from './envelope';
import { DecryptionError, EnvelopeFormatError, InvalidArgumentError } from './errors';
import { FieldCrypto, type DecryptItem } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';
import type { FieldContext } from './row-encryptor';

function crypto(keyring = new LocalKeyring(randomBytes(32)), keyStore = new MemoryKeyStore()) {
  return { keyring, keyStore, crypto: new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } }) };
}

const at = (rowId: string, extra: Partial<FieldContext> = {}): FieldContext => ({
  model: 'documents',
  field: 'blob',
  rowId,
  ...extra,
});

describe('typed value associated data', () => {
  it('appends a tag after the row id for Json, Bytes and list elements, and none for text', () => {
    const text = valueAad('k', 1, 'm', 'f', 'r');
    const json = valueAad('k', 1, 'm', 'f', 'r', { kind: 'json' });
    const bytes = valueAad('k', 1, 'm', 'f', 'r', { kind: 'bytes' });
    const item = valueAad('k', 1, 'm', 'f', 'r', { kind: 'list', index: 2, count: 5 });
    expect(json.subarray(0, text.length)).toEqual(text);
    expect(json.subarray(text.length)).toEqual(Buffer.of(1));
    expect(bytes.subarray(text.length)).toEqual(Buffer.of(2));
    expect(item.subarray(text.length)).toEqual(Buffer.from('03' + '00000002' + '00000005', 'hex'));
    // Tags never collide with a longer row id: the row id carries its own length.
    expect(valueAad('k', 1, 'm', 'f', 'r\u0001')).not.toEqual(json);
    const noRow = valueAad('k', 1, 'm', 'f', undefined, { kind: 'json' });
    expect(noRow.subarray(-2)).toEqual(Buffer.of(0, 1));
  });
});

describe('the binary envelope', () => {
  it('round-trips empty, small and 16 MiB buffers, sharing the row DEK with text values', async () => {
    const { crypto: fc } = crypto();
    const row = await fc.rowEncryptor('tenant');
    const empty = row.encryptBytes(new Uint8Array(0), at('r1'));
    const small = row.encryptBytes(Buffer.from('hello'), at('r1'));
    const big = randomBytes(MAX_PLAINTEXT_BYTES);
    const large = row.encryptBytes(big, at('r1'));
    const text = row.encrypt('{"a":1}', at('r1', { field: 'body', kind: 'json' }));
    row.dispose();
    expect(isBinaryEnvelope(small)).toBe(true);
    expect(small.subarray(0, 3).toString('latin1')).toBe('hfb');
    // 97 bytes of overhead plus the key id: no base64 inflation.
    expect(large.length).toBe(big.length + 97 + row.keyId.length);
    // The same wrapped DEK as the row's text envelope.
    expect(parseBinaryEnvelope(small).dekId).toBe(`${text.split('$').slice(2, 5).join('$')}`);
    expect((await fc.decryptBytes(empty, at('r1'))).length).toBe(0);
    expect((await fc.decryptBytes(new Uint8Array(small), at('r1'))).toString()).toBe('hello');
    expect((await fc.decryptBytes(large, at('r1'))).equals(big)).toBe(true);
    expect(binaryKeyOf(small)).toEqual({ keyId: row.keyId, version: row.version });
  }, 60_000);

  it('fails for another row, field or type, and on any flipped bit', async () => {
    const { crypto: fc } = crypto();
    const row = await fc.rowEncryptor('tenant');
    const sealed = row.encryptBytes(Buffer.from('secret bytes'), at('r1'));
    row.dispose();
    await expect(fc.decryptBytes(sealed, at('r2'))).rejects.toThrow(DecryptionError);
    await expect(fc.decryptBytes(sealed, at('r1', { field: 'other' }))).rejects.toThrow(DecryptionError);
    await expect(fc.decryptBytes(sealed, at('r1', { kind: 'json' }))).rejects.toThrow(InvalidArgumentError);
    // The header (magic, format, key id, version) fails to parse or names another key; the rest fails to open.
    const header = 5 + 12 + 4;
    for (const position of [3, header + 1, header + 70, sealed.length - 30, sealed.length - 1]) {
      const changed = Buffer.from(sealed);
      changed[position] ^= 0x01;
      await expect(fc.decryptBytes(changed, at('r1'))).rejects.toThrow(
        position < header ? EnvelopeFormatError : DecryptionError,
      );
    }
  });

  it('rejects malformed binary envelopes with EnvelopeFormatError', () => {
    const good = Buffer.concat([
      Buffer.from('hfb', 'latin1'),
      Buffer.of(1, 3),
      Buffer.from('abc'),
      Buffer.from('00000001', 'hex'),
      Buffer.alloc(60 + 28),
    ]);
    expect(parseBinaryEnvelope(good).keyId).toBe('abc');
    const bad: [string, unknown][] = [
      ['a string', 'hfb'],
      ['no magic', Buffer.concat([Buffer.from('hfx'), good.subarray(3)])],
      ['format 2', Buffer.concat([good.subarray(0, 3), Buffer.of(2), good.subarray(4)])],
      ['empty key id', Buffer.concat([good.subarray(0, 4), Buffer.of(0), good.subarray(5)])],
      ['key id of 65', Buffer.concat([good.subarray(0, 4), Buffer.of(65), good.subarray(5)])],
      ['bad key id character', Buffer.concat([good.subarray(0, 5), Buffer.from('a$c'), good.subarray(8)])],
      ['version 0', Buffer.concat([good.subarray(0, 8), Buffer.alloc(4), good.subarray(12)])],
      ['version above 2^31-1', Buffer.concat([good.subarray(0, 8), Buffer.from('80000000', 'hex'), good.subarray(12)])],
      ['too short', good.subarray(0, good.length - 1)],
      // Within the whole-envelope cap (sized for a 64-character key id), past the 16 MiB value cap.
      ['a value of 16 MiB + 1', Buffer.concat([good, Buffer.alloc(MAX_PLAINTEXT_BYTES + 1)])],
    ];
    for (const [label, value] of bad) {
      let thrown: unknown;
      try {
        parseBinaryEnvelope(value);
      } catch (error) {
        thrown = error;
      }
      expect([label, thrown instanceof EnvelopeFormatError]).toEqual([label, true]);
    }
    expect(binaryKeyOf(Buffer.from('plain'))).toBeNull();
  });

  it('refuses bad inputs before any key is fetched', async () => {
    const { crypto: fc } = crypto();
    const row = await fc.rowEncryptor('tenant');
    expect(() => row.encryptBytes('text' as unknown as Uint8Array, at('r'))).toThrow(InvalidArgumentError);
    expect(() => row.encryptBytes(new Uint8Array(MAX_PLAINTEXT_BYTES + 1), at('r'))).toThrow(InvalidArgumentError);
    expect(() => row.encryptBytes(new Uint8Array(1), at('r', { kind: 'list', index: 0, count: 1 }))).toThrow(
      InvalidArgumentError,
    );
    expect(() => row.encrypt('x', at('r', { kind: 'bytes' }))).toThrow(InvalidArgumentError);
    for (const bad of [
      { kind: 'list' as const },
      { kind: 'list' as const, index: 1, count: 1 },
      { kind: 'list' as const, index: -1, count: 2 },
      { kind: 'json' as const, index: 0 },
      { kind: 'xml' as unknown as 'json' },
    ])
      expect(() => row.encrypt('x', at('r', bad))).toThrow(InvalidArgumentError);
    row.dispose();
  });
});

describe('decryptMany over typed values', () => {
  it('opens text, Json, Bytes and list items of many rows, cold and warm, failures in place', async () => {
    const { keyring, keyStore, crypto: writer } = crypto();
    const items: DecryptItem[] = [];
    const expected: (string | Buffer)[] = [];
    for (let r = 0; r < 6; r++) {
      const row = await writer.rowEncryptor(`scope-${r % 3}`);
      const rowId = `r${r}`;
      const json = at(rowId, { field: 'body', kind: 'json' });
      items.push({ value: row.encrypt(`{"n":${r}}`, json), ctx: json });
      expected.push(`{"n":${r}}`);
      const bytes = at(rowId, { kind: 'bytes' });
      items.push({ value: row.encryptBytes(Buffer.of(r, r + 1), bytes), ctx: bytes });
      expected.push(Buffer.of(r, r + 1));
      for (let index = 0; index < 2; index++) {
        const ctx = at(rowId, { field: 'tags', kind: 'list', index, count: 2 });
        items.push({ value: row.encrypt(`t${r}-${index}`, ctx), ctx });
        expected.push(`t${r}-${index}`);
      }
      row.dispose();
    }
    // A bytes item read first: the second pass must learn its key from the binary header.
    const order = [1, ...items.keys()].filter((i, n, all) => all.indexOf(i) === n);
    const cold = new FieldCrypto({ keyring, keyStore, cache: { ttlMs: 60_000 } });
    const opened = await cold.decryptMany(order.map((i) => items[i]));
    expect(opened).toEqual(order.map((i) => expected[i]));
    expect(cold.stats().keyringCalls).toBe(3);
    // Swapped list positions and a Json value read as a list element fail in place.
    const swapped = [
      { value: items[2].value, ctx: items[3].ctx },
      { value: items[0].value, ctx: { ...items[2].ctx } },
      { value: items[1].value, ctx: at('r0') },
      { value: 'hfe$not-an-envelope', ctx: at('r0', { kind: 'bytes' }) },
    ];
    const results = await cold.decryptMany(swapped);
    expect(results[0]).toBeInstanceOf(DecryptionError);
    expect(results[1]).toBeInstanceOf(DecryptionError);
    // The context decides the type: bytes presented as a text value are refused, not opened.
    expect(results[2]).toBeInstanceOf(EnvelopeFormatError);
    expect(results[3]).toBeInstanceOf(EnvelopeFormatError);
  });
});
