import { randomBytes } from 'node:crypto';
import { BLOB_BYTES, contextDigest, openBlob, sealBlob } from './key-blob';

const context = { purpose: 'hushfield/scope-key', keyId: 'k-1', scope: 'tenant-a', version: '1' };

describe('the context-bound blob', () => {
  it('is 72 bytes (a multiple of 8, as AES key wrap needs) and opens under the same context in any order', () => {
    const key = randomBytes(32);
    const blob = sealBlob(contextDigest(context), key);
    expect(blob.length).toBe(BLOB_BYTES);
    expect(BLOB_BYTES % 8).toBe(0);
    const reordered = { version: '1', scope: 'tenant-a', keyId: 'k-1', purpose: 'hushfield/scope-key' };
    const opened = openBlob(blob, contextDigest(reordered));
    expect(opened.ok && opened.key.equals(key)).toBe(true);
  });

  it('refuses another context, including ones that concatenate to the same text', () => {
    const blob = sealBlob(contextDigest({ ab: 'c' }), randomBytes(32));
    for (const other of [{ a: 'bc' }, { ab: 'c', d: '' }, {}, { AB: 'c' }]) {
      expect(openBlob(blob, contextDigest(other))).toEqual({ ok: false, reason: 'ContextMismatch' });
    }
  });

  it('refuses a blob with another header or length as malformed', () => {
    const digest = contextDigest(context);
    const blob = sealBlob(digest, randomBytes(32));
    const header = Buffer.from(blob);
    header[4] = 2;
    for (const bad of [header, blob.subarray(0, 71), Buffer.concat([blob, Buffer.of(0)]), Buffer.alloc(72)]) {
      expect(openBlob(bad, digest)).toEqual({ ok: false, reason: 'MalformedBlob' });
    }
  });

  it('refuses keys that are not 256 bits and contexts that are not objects of strings', () => {
    expect(() => sealBlob(contextDigest(context), randomBytes(31))).toThrow(RangeError);
    expect(() => contextDigest({ scope: 1 } as never)).toThrow(expect.objectContaining({ argument: 'context.scope' }));
    expect(() => contextDigest(null as never)).toThrow(expect.objectContaining({ argument: 'context' }));
  });
});
